"""Token-level checks: comments, raw, whitespace control, tags and their nesting.

Same checks, in the same order, as the server's ``_scan_tokens``: they run before
parsing because the parser never sees comments, whitespace-control markers or
parentheses, and so that unbalanced blocks get a precise message.
"""

from __future__ import annotations

from typing import NamedTuple

from scope_lab._template._errors import syntax_error, unsupported
from scope_lab._template._lexer import Token

# The server's limits (they keep its Jinja compiler clear of Python's own limits).
MAX_NESTING = 50  # if and for blocks
MAX_LOOP_NESTING = 16  # for blocks


class _Block(NamedTuple):
    tag: str
    line: int
    seen_else: bool


def scan(tokens: list[Token], source: str) -> int | None:
    """Refuse token-level problems; return the line of the first stray ``(`` or None.

    A parenthesis that does not open the argument list of ``default`` is reported
    only once the rest of the template is accepted, so that e.g. a call gets its
    more specific message.
    """
    stack: list[_Block] = []
    expect_tag = False
    previous = ""
    significant: list[str] = []  # values of the last two non-whitespace tokens
    paren_line: int | None = None
    for line, kind, value in tokens:
        if kind == "whitespace":
            continue
        _check_token(line, kind, value, previous)
        if kind == "operator" and value == "(" and significant != ["|", "default"]:
            paren_line = paren_line or line
        previous = kind
        significant = [*significant[-1:], value]
        if kind == "block_begin":
            expect_tag = True
            continue
        if not expect_tag:
            continue
        expect_tag = False
        if kind == "name":  # anything else (e.g. "{% %}") is left to the parser
            _check_tag(value, line, stack)
    if stack:
        block = stack[-1]
        # The server counts "\n" in the source as given (before normalisation).
        raise syntax_error(
            f"unexpected end of template, expected 'end{block.tag}' to close "
            f"the '{block.tag}' opened on line {block.line}",
            source.count("\n") + 1,
        )
    return paren_line


def _check_token(line: int, kind: str, value: str, previous: str) -> None:
    if kind == "comment_begin":
        raise unsupported("comment", line, "comments {# ... #} are not allowed")
    if kind == "raw_begin":
        raise unsupported("tag 'raw'", line)
    if kind in ("block_begin", "variable_begin") and value[2:3] in ("-", "+"):
        raise unsupported(f"whitespace control '{value}'", line)
    if kind in ("block_end", "variable_end") and value[:1] in ("-", "+"):
        raise unsupported(f"whitespace control '{value}'", line)
    if kind == "string":
        if "\\" in value:
            raise unsupported("backslash escape in string literal", line)
        if previous == "string":
            raise unsupported("implicit string concatenation", line)


def _check_tag(tag: str, line: int, stack: list[_Block]) -> None:
    top = stack[-1] if stack else None
    if tag in ("if", "for"):
        if len(stack) >= MAX_NESTING:
            raise syntax_error(f"blocks nested more than {MAX_NESTING} levels deep", line)
        if tag == "for" and sum(b.tag == "for" for b in stack) >= MAX_LOOP_NESTING:
            raise syntax_error(f"loops nested more than {MAX_LOOP_NESTING} levels deep", line)
        stack.append(_Block(tag, line, False))
    elif tag in ("elif", "else"):
        if top is not None and top.tag == "for" and tag == "else":
            raise unsupported("for loop 'else'", line)
        if top is None or top.tag != "if":
            raise syntax_error(f"unexpected '{tag}' outside of an 'if' block", line)
        if top.seen_else:
            raise syntax_error(f"unexpected '{tag}' after 'else'", line)
        if tag == "else":
            stack[-1] = top._replace(seen_else=True)
    elif tag in ("endif", "endfor"):
        if top is None:
            raise syntax_error(f"unexpected '{tag}' without a matching '{tag[3:]}'", line)
        if tag != "end" + top.tag:
            raise syntax_error(f"unexpected '{tag}', expected 'end{top.tag}'", line)
        stack.pop()
    else:
        raise unsupported(f"tag '{tag}'", line)
