"""Statement parser: text, ``{{ ... }}``, ``if`` and ``for`` into a raw syntax tree.

Only these tags reach the parser (the token scan refuses every other tag), but
their syntax is Jinja's, including what the subset later refuses (``for`` targets
that are tuples, ``recursive``, ``for ... if``) and what it quietly accepts (an
optional ``:`` before ``%}``), so that the allow-list sees what the server sees.
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from scope_lab._template._expr import Expr, ExpressionParser

RawNode: TypeAlias = "str | Expr | RawIf | RawFor"  # text, a printed expression, a block
RawBody: TypeAlias = "tuple[RawNode, ...]"


class RawIf(NamedTuple):
    """``if``/``elif`` branches as (test, body), then the ``else`` body."""

    branches: tuple[tuple[Expr, RawBody], ...]
    orelse: RawBody


class RawFor(NamedTuple):
    """A ``for`` loop as parsed, before the allow-list."""

    line: int
    target: Expr
    iterable: Expr
    condition: Expr | None
    recursive: bool
    body: RawBody
    orelse: RawBody


class TemplateParser(ExpressionParser):
    """Parses a whole template (tokens already scanned)."""

    def parse(self) -> RawBody:
        return self.subparse(())

    def subparse(self, end_tags: tuple[str, ...]) -> RawBody:
        """Nodes up to one of ``end_tags`` (left as the current token) or the end."""
        body: list[RawNode] = []
        while self.current.kind != "eof":
            token = self.current
            if token.kind == "data":
                body.append(token.value)
                self.advance()
            elif token.kind == "variable_begin":
                self.advance()
                body.append(self.parse_tuple())
                self.expect("variable_end")
            else:  # block_begin
                self.advance()
                if any(self.test("name", tag) for tag in end_tags):
                    return tuple(body)
                body.append(self.parse_statement())
                self.expect("block_end")
        return tuple(body)

    def parse_statement(self) -> RawIf | RawFor:
        token = self.current
        if token.kind != "name":
            self.fail("tag name expected", token.line)
        if token.value == "if":
            return self.parse_if()
        if token.value == "for":
            return self.parse_for()
        self.fail(f"encountered unknown tag '{token.value}'", token.line)

    def parse_statements(self, end_tags: tuple[str, ...], *, drop_end: bool = False) -> RawBody:
        """The body of a block: ``%}``, then nodes up to one of ``end_tags``."""
        self.skip_if(":")  # Jinja accepts a Python-style colon before "%}"
        self.expect("block_end")
        body = self.subparse(end_tags)
        if self.current.kind == "eof":
            self.fail("unexpected end of template")
        if drop_end:
            self.advance()
        return body

    def parse_if(self) -> RawIf:
        self.expect("name", "if")
        branches: list[tuple[Expr, RawBody]] = []
        orelse: RawBody = ()
        while True:
            test = self.parse_tuple(with_condexpr=False)
            branches.append((test, self.parse_statements(("elif", "else", "endif"))))
            tag = self.advance().value
            if tag == "elif":
                continue
            if tag == "else":
                orelse = self.parse_statements(("endif",), drop_end=True)
            return RawIf(tuple(branches), orelse)

    def parse_for(self) -> RawFor:
        line = self.expect("name", "for").line
        target = self.parse_tuple(simplified=True)
        if not _assignable(target):
            self.fail(f"can't assign to '{target.kind}'", target.line)
        self.expect("name", "in")
        iterable = self.parse_tuple(with_condexpr=False)
        condition = self.parse_expression() if self.skip_if("name", "if") else None
        recursive = self.skip_if("name", "recursive")
        body = self.parse_statements(("endfor", "else"))
        orelse: RawBody = ()
        if self.advance().value != "endfor":
            orelse = self.parse_statements(("endfor",), drop_end=True)
        return RawFor(line, target, iterable, condition, recursive, body, orelse)


def _assignable(target: Expr) -> bool:
    if target.kind == "tuple":
        return all(item is not None and _assignable(item) for item in target.items)
    return target.kind == "name"
