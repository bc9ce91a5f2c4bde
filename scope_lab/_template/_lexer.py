"""Tokenizer: the server's (Jinja's) tokenization with default delimiters.

The SDK must refuse exactly what the server refuses and report the same line, so
this reproduces Jinja's lexer rules for the settings the server uses (no trimming,
no line statements): the same token kinds, the same line counting, the same
bracket balancing inside tags and the same lexical errors.  Tokens inside tags
are lexed in full even though the subset needs few of them, because a refused
construct (``a.b``, ``x | upper``) must be recognised as such, not as garbage.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from scope_lab._template._errors import syntax_error

# Jinja treats \r\n, \r and \n as line breaks and normalises them before lexing.
_LINE_BREAK = re.compile(r"\r\n?")
_TAG_START = re.compile(r"\{[{%#]")
_RAW_BEGIN = re.compile(r"\{%[-+]?\s*raw\s*(?:-%\}\s*|%\})")
_RAW_END = re.compile(r"\{%[-+]?\s*endraw\s*(?:\+%\}|-%\}\s*|%\})")
_COMMENT_END = re.compile(r"\+#\}|-#\}\s*|#\}")
_BLOCK_END = re.compile(r"\+%\}|-%\}\s*|%\}")
_VARIABLE_END = re.compile(r"-\}\}\s*|\}\}")
_WHITESPACE = re.compile(r"\s+")
_DIGITS = r"\d+(?:_\d+)*"
_FLOAT = re.compile(
    rf"(?<!\.){_DIGITS}(?:(?:\.{_DIGITS})?[eE][+-]?{_DIGITS}|\.{_DIGITS})"
)
_INTEGER = re.compile(
    r"0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0[xX](?:_?[0-9a-fA-F])+|[1-9](?:_?\d)*|0(?:_?0)*"
)
_WORD = re.compile(r"\w+")
_STRING = re.compile(r"""'[^'\\]*(?:\\.[^'\\]*)*'|"[^"\\]*(?:\\.[^"\\]*)*\"""", re.S)
_OPERATOR = re.compile(r"//|\*\*|==|!=|>=|<=|[-+/*%~\[\](){}><=.:|,;]")
_CLOSING = {"(": ")", "[": "]", "{": "}"}
_BEGIN_KINDS = {"{{": "variable_begin", "{%": "block_begin", "{#": "comment_begin"}


class Token(NamedTuple):
    """One token: its 1-based line, its kind (Jinja's names) and its source text."""

    line: int
    kind: str
    value: str


def normalize_newlines(source: str) -> str:
    """Template text with ``\\r\\n`` and ``\\r`` turned into ``\\n``."""
    return _LINE_BREAK.sub("\n", source) if "\r" in source else source


def _name_end(source: str, pos: int) -> int:
    """End of the identifier starting at ``pos`` (``pos`` itself if there is none).

    Like Jinja, a name is a run of word characters plus the few other characters
    Python allows inside identifiers (combining marks and the like).
    """
    end = pos
    while end < len(source):
        match = _WORD.match(source, end)
        if match:
            end = match.end()
        elif source[end] > "\x7f" and ("a" + source[end]).isidentifier():
            end += 1
        else:
            break
    return end


class _Lexer:
    def __init__(self, source: str) -> None:
        self.source = source
        self.pos = 0
        self.line = 1
        self.tokens: list[Token] = []

    def emit(self, kind: str, value: str) -> None:
        if value:
            self.tokens.append(Token(self.line, kind, value))
            self.line += value.count("\n")

    def run(self) -> list[Token]:
        source = self.source
        while self.pos < len(source):
            match = _TAG_START.search(source, self.pos)
            if match is None:
                self.emit("data", source[self.pos :])
                break
            self.emit("data", source[self.pos : match.start()])
            raw = _RAW_BEGIN.match(source, match.start())
            if raw is not None:
                self.emit("raw_begin", raw.group())
                self.pos = raw.end()
                self.raw()
                continue
            end = match.end()
            if source[end : end + 1] in ("-", "+"):
                end += 1
            kind = _BEGIN_KINDS[match.group()]
            self.emit(kind, source[match.start() : end])
            self.pos = end
            if kind == "comment_begin":
                self.comment()
            else:
                self.tag(_VARIABLE_END if kind == "variable_begin" else _BLOCK_END, kind)
        return self.tokens

    def comment(self) -> None:
        end = _COMMENT_END.search(self.source, self.pos)
        if end is None:
            if self.pos < len(self.source):
                raise syntax_error("missing end of comment tag", self.line)
            return
        self.emit("comment", self.source[self.pos : end.start()])
        self.emit("comment_end", end.group())
        self.pos = end.end()

    def raw(self) -> None:
        end = _RAW_END.search(self.source, self.pos)
        if end is None:
            if self.pos < len(self.source):
                raise syntax_error("missing end of raw directive", self.line)
            return
        self.emit("data", self.source[self.pos : end.start()])
        self.emit("raw_end", end.group())
        self.pos = end.end()

    def tag(self, end_re: re.Pattern[str], begin: str) -> None:
        """Lex the inside of ``{{ ... }}`` or ``{% ... %}`` up to and including its end."""
        source = self.source
        balance: list[str] = []  # the end delimiter only counts outside brackets
        while self.pos < len(source):
            pos = self.pos
            if not balance:
                match = end_re.match(source, pos)
                if match is not None:
                    self.emit(begin.replace("begin", "end"), match.group())
                    self.pos = match.end()
                    return
            kind, end = self.tag_token(pos)
            value = source[pos:end]
            if kind == "operator":
                if value in _CLOSING:
                    balance.append(_CLOSING[value])
                elif value in (")", "]", "}"):
                    if not balance:
                        raise syntax_error(f"unexpected '{value}'", self.line)
                    expected = balance.pop()
                    if expected != value:
                        raise syntax_error(
                            f"unexpected '{value}', expected '{expected}'", self.line
                        )
            self.emit(kind, value)
            self.pos = end
        # An unterminated tag is not a lexical error: the parser reports the end.

    def tag_token(self, pos: int) -> tuple[str, int]:
        source = self.source
        for kind, pattern in (
            ("whitespace", _WHITESPACE),
            ("float", _FLOAT),
            ("integer", _INTEGER),
        ):
            match = pattern.match(source, pos)
            if match is not None:
                return kind, match.end()
        end = _name_end(source, pos)
        if end > pos:
            return "name", end
        for kind, pattern in (("string", _STRING), ("operator", _OPERATOR)):
            match = pattern.match(source, pos)
            if match is not None:
                return kind, match.end()
        raise syntax_error(f"unexpected char {source[pos]!r} at {pos}", self.line)


def tokenize(source: str) -> list[Token]:
    """All tokens of ``source`` (line endings normalised), whitespace included."""
    return _Lexer(normalize_newlines(source)).run()
