"""The allow-list: refuse everything outside the subset, resolve names, list inputs.

Walks the raw tree in document order, like the server's checker, so that the first
refused construct -- and its ``construct`` string -- is the one the server reports.
"""

from __future__ import annotations

import json
import re
from typing import Any

from scope_lab._template._errors import unsupported
from scope_lab._template._expr import Expr
from scope_lab._template._nodes import GLOBAL, Body, For, If, Node, Output
from scope_lab._template._parser import RawBody, RawFor, RawIf

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_LITERALS = {"list": "list literal", "dict": "dict literal", "tuple": "tuple",
             "condexpr": "conditional expression"}


def _show_const(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return repr(value)


def _show(node: Expr | None) -> str:
    """Best-effort source text of an expression, for error messages."""
    if node is None:
        return ""
    kind = node.kind
    if kind == "name":
        return str(node.value)
    if kind == "const":
        return _show_const(node.value)
    if kind == "getattr":
        return f"{_show(node.node)}.{node.value}"
    if kind == "getitem":
        return f"{_show(node.node)}[{_show(node.items[0])}]"
    if kind == "slice":
        start, stop, step = node.items
        parts = (start, stop) if step is None else (start, stop, step)
        return ":".join(_show(part) for part in parts)
    if kind == "call":
        return f"{_show(node.node)}({'...' if node.items or node.extra else ''})"
    return "..."


def describe(node: Expr) -> str:
    """The ``construct`` string for a refused expression."""
    kind = node.kind
    if kind == "getattr":
        return f"attribute access '{_show(node)}'"
    if kind in ("getitem", "slice"):
        return f"item access '{_show(node)}'"
    if kind == "call":
        return f"function call '{_show(node.node)}'"
    if kind in ("filter", "test"):
        return f"{kind} '{node.value}'"
    if kind in ("binop", "unary"):
        return f"operator '{node.value}'"
    if kind == "concat":
        return "operator '~'"
    if kind == "compare":
        return f"comparison '{node.value}'"
    if kind == "const":
        return f"literal {_show(node)}"
    return _LITERALS.get(kind, f"expression '{kind}'")


class Checker:
    """Turns a raw tree into the compiled tree, collecting input variables in order."""

    def __init__(self) -> None:
        self.variables: dict[str, None] = {}  # insertion-ordered set
        self.depth = 0  # deepest loop nesting seen

    def body(self, body: RawBody, scope: tuple[str, ...]) -> Body:
        """Check and compile a sequence of nodes; ``scope`` lists the enclosing loop targets."""
        return tuple(self.node(node, scope) for node in body)

    def node(self, node: str | Expr | RawIf | RawFor, scope: tuple[str, ...]) -> Node:
        if isinstance(node, str):
            return node
        if isinstance(node, Expr):
            return self.output(node, scope)
        if isinstance(node, RawIf):
            branches = []
            for test, body in node.branches:
                name, slot = self.name(test, scope)
                branches.append((name, slot, self.body(body, scope)))
            return If(tuple(branches), self.body(node.orelse, scope))
        return self.loop(node, scope)

    def loop(self, node: RawFor, scope: tuple[str, ...]) -> For:
        target = node.target
        if target.kind == "tuple":
            names = ", ".join(_show(item) for item in target.items)
            raise unsupported(f"tuple unpacking '{names}'", target.line)
        if target.kind != "name":
            raise unsupported(describe(target), target.line)
        self.check_name(str(target.value), target.line)
        name, slot = self.name(node.iterable, scope)  # bound outside the loop
        if node.condition is not None:
            raise unsupported("for loop 'if' filter", node.condition.line)
        if node.recursive:
            raise unsupported("for loop 'recursive'", node.line)
        if node.orelse:
            raise unsupported("for loop 'else'", node.line)
        inner = (*scope, str(target.value))
        self.depth = max(self.depth, len(inner))
        return For(name, slot, len(scope), self.body(node.body, inner))

    def output(self, node: Expr, scope: tuple[str, ...]) -> Output:
        if node.kind != "filter" or node.value != "default":
            return Output(*self.name(node, scope), None)
        inner = node.node
        if inner is not None and inner.kind == "filter":
            if inner.value == "default":
                raise unsupported("chained filters", node.line)
            raise unsupported(describe(inner), inner.line)
        if inner is None or inner.kind != "name":
            raise unsupported(describe(inner) if inner else "filter 'default'", node.line)
        argument = node.items[0] if len(node.items) == 1 and not node.extra else None
        if argument is None or argument.kind != "const" or not isinstance(argument.value, str):
            raise unsupported(
                "filter 'default' arguments", node.line, "default takes exactly one string literal"
            )
        return Output(*self.name(inner, scope), argument.value)

    def name(self, node: Expr, scope: tuple[str, ...]) -> tuple[str, int]:
        """Accept a bare variable name; return it with its slot (recording inputs)."""
        if node.kind != "name":
            raise unsupported(describe(node), node.line)
        name = str(node.value)
        self.check_name(name, node.line)
        for depth in range(len(scope) - 1, -1, -1):
            if scope[depth] == name:
                return name, depth
        self.variables.setdefault(name, None)
        return name, GLOBAL

    @staticmethod
    def check_name(name: str, line: int) -> None:
        if not _NAME.match(name):
            raise unsupported(f"non-ASCII name '{name}'", line)
