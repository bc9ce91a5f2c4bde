"""The parser's token stream, with Jinja's token conversions and error wording.

Whitespace is dropped, operators become their own token kinds and literals get
their values.  Jinja converts tokens lazily, as the parser reaches them, and some
conversions fail (a name that is not an identifier); the failure is reported here
at the same moment, so that an earlier parse error still wins, as on the server.
"""

from __future__ import annotations

from typing import Any, NamedTuple, NoReturn

from scope_lab._template._errors import TemplateSyntaxError, syntax_error
from scope_lab._template._lexer import Token

_IGNORED = frozenset(["whitespace", "comment_begin", "comment", "comment_end", "raw_begin",
                      "raw_end"])
_DESCRIPTIONS = {
    "block_begin": "begin of statement block",
    "block_end": "end of statement block",
    "variable_begin": "begin of print statement",
    "variable_end": "end of print statement",
    "data": "template data / text",
    "eof": "end of template",
}


class PToken(NamedTuple):
    """A parser token: like :class:`Token` but with operators as their own kind."""

    line: int
    kind: str  # "name", "string", "integer", "float", "data", "*_begin/_end", an operator, "eof"
    value: Any


def describe(token: PToken) -> str:
    """How Jinja names a token in error messages."""
    if token.kind == "name":
        return str(token.value)
    return _DESCRIPTIONS.get(token.kind, token.kind)


def _wrap(token: Token) -> PToken:
    line, kind, value = token
    if kind == "operator":
        return PToken(line, value, value)
    if kind == "string":
        return PToken(line, kind, value[1:-1])  # no escapes: backslashes were refused
    if kind == "integer":
        return PToken(line, kind, int(value.replace("_", ""), 0))
    if kind == "float" and value.isascii():
        return PToken(line, kind, float(value.replace("_", "")))
    if kind == "float":
        return PToken(line, "bad_float", value)
    return PToken(line, kind, value)


def _check(token: PToken) -> None:
    """Raise the error Jinja raises when converting this token, if any."""
    if token.kind == "name" and not token.value.isidentifier():
        raise syntax_error("invalid character in identifier", token.line)
    if token.kind == "bad_float":
        # Jinja's literal_eval raises SyntaxError on non-ASCII digits, which the
        # server reports like a Python nesting limit.
        raise TemplateSyntaxError("template syntax error: template is nested too deeply")


class TokenStream:
    """The parser's view of the tokens: a current token, lookahead and expectations."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = [_wrap(token) for token in tokens if token.kind not in _IGNORED]
        last = self.tokens[-1].line if self.tokens else 1
        self.tokens.append(PToken(last, "eof", ""))
        self.index = 0
        self.current = self.tokens[0]
        _check(self.current)

    def fail(self, message: str, line: int | None = None) -> NoReturn:
        raise syntax_error(message, self.current.line if line is None else line)

    def advance(self) -> PToken:
        token = self.current
        if self.index < len(self.tokens) - 1:
            self.index += 1
            self.current = self.tokens[self.index]
            _check(self.current)
        return token

    def look(self) -> PToken:
        token = self.tokens[min(self.index + 1, len(self.tokens) - 1)]
        _check(token)
        return token

    def test(self, kind: str, value: str | None = None) -> bool:
        token = self.current
        return token.kind == kind and (value is None or token.value == value)

    def skip_if(self, kind: str, value: str | None = None) -> bool:
        if self.test(kind, value):
            self.advance()
            return True
        return False

    def expect(self, kind: str, value: str | None = None) -> PToken:
        if not self.test(kind, value):
            wanted = value or _DESCRIPTIONS.get(kind, kind)
            if self.current.kind == "eof":
                self.fail(f"unexpected end of template, expected '{wanted}'")
            self.fail(f"expected token '{wanted}', got '{describe(self.current)}'")
        return self.advance()

