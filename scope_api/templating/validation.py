"""The allow-list: refuse anything outside the subset, collect variables, compile."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from typing import Any, NamedTuple, NoReturn

import jinja2
from jinja2 import nodes

from scope_api.templating.environment import _ENV, _LIST_FILTER, _PREFIX
from scope_api.templating.errors import TemplateSyntaxError

# Nesting limits keep the parser, the compiler and Python's own limit on statically
# nested blocks (loops) comfortably out of reach.
_MAX_NESTING = 50  # if and for blocks
_MAX_LOOP_NESTING = 16  # for blocks
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_COMPARISONS = {
    "eq": "==",
    "ne": "!=",
    "gt": ">",
    "gteq": ">=",
    "lt": "<",
    "lteq": "<=",
    "in": "in",
    "notin": "not in",
}


def _syntax_error(detail: str, line: int | None) -> TemplateSyntaxError:
    detail = detail.strip().rstrip(".")
    if detail[:1].isupper() and detail[1:2].islower():
        detail = detail[0].lower() + detail[1:]
    where = f" (line {line})" if line is not None else ""
    return TemplateSyntaxError(f"template syntax error: {detail}{where}", line=line)


def _unsupported(construct: str, line: int | None, hint: str | None = None) -> NoReturn:
    where = f" (line {line})" if line is not None else ""
    tail = f": {hint}" if hint else ""
    raise TemplateSyntaxError(
        f"unsupported construct: {construct}{where}{tail}", line=line, construct=construct
    )


class _Block(NamedTuple):
    tag: str
    line: int
    seen_else: bool


def _scan_tokens(source: str) -> int | None:
    """Token-level checks: comments, raw, whitespace control, tags and their nesting.

    Done before parsing because the parser drops comments, whitespace-control
    markers and parentheses, and so that unbalanced blocks get a precise message.
    Returns the line of the first parenthesis that does not open the argument list
    of ``default`` (reported only if the AST is otherwise acceptable, so that e.g.
    calls get their more specific message), or None.
    """
    try:
        tokens = list(_ENV.lex(source))
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_error(exc.message or "invalid template", exc.lineno) from None

    stack: list[_Block] = []
    expect_tag = False
    previous = ""
    significant: list[str] = []  # values of the last two significant tokens
    paren_line: int | None = None
    for line, kind, value in tokens:
        if kind == "whitespace":
            continue
        if kind == "comment_begin":
            _unsupported("comment", line, "comments {# ... #} are not allowed")
        if kind == "raw_begin":
            _unsupported("tag 'raw'", line)
        if kind in ("block_begin", "variable_begin") and value[2:3] in ("-", "+"):
            _unsupported(f"whitespace control '{value}'", line)
        if kind in ("block_end", "variable_end") and value[:1] in ("-", "+"):
            _unsupported(f"whitespace control '{value}'", line)
        if kind == "string":
            if "\\" in value:
                _unsupported("backslash escape in string literal", line)
            if previous == "string":
                _unsupported("implicit string concatenation", line)
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
        if kind != "name":
            continue  # e.g. "{% %}": left to the parser's error message
        _check_tag(value, line, stack)

    if stack:
        block = stack[-1]
        raise _syntax_error(
            f"unexpected end of template, expected 'end{block.tag}' to close "
            f"the '{block.tag}' opened on line {block.line}",
            source.count("\n") + 1,
        )
    return paren_line


def _check_tag(tag: str, line: int, stack: list[_Block]) -> None:
    top = stack[-1] if stack else None
    if tag in ("if", "for"):
        if len(stack) >= _MAX_NESTING:
            raise _syntax_error(f"blocks nested more than {_MAX_NESTING} levels deep", line)
        if tag == "for" and sum(b.tag == "for" for b in stack) >= _MAX_LOOP_NESTING:
            raise _syntax_error(f"loops nested more than {_MAX_LOOP_NESTING} levels deep", line)
        stack.append(_Block(tag, line, False))
    elif tag in ("elif", "else"):
        if top is not None and top.tag == "for" and tag == "else":
            _unsupported("for loop 'else'", line)
        if top is None or top.tag != "if":
            raise _syntax_error(f"unexpected '{tag}' outside of an 'if' block", line)
        if top.seen_else:
            raise _syntax_error(f"unexpected '{tag}' after 'else'", line)
        if tag == "else":
            stack[-1] = top._replace(seen_else=True)
    elif tag in ("endif", "endfor"):
        if top is None:
            raise _syntax_error(f"unexpected '{tag}' without a matching '{tag[3:]}'", line)
        if tag != "end" + top.tag:
            raise _syntax_error(f"unexpected '{tag}', expected 'end{top.tag}'", line)
        stack.pop()
    else:
        _unsupported(f"tag '{tag}'", line)


def _show_const(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    return repr(value)


def _show(node: nodes.Node) -> str:
    """Best-effort source text of an expression, for error messages."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        return _show_const(node.value)
    if isinstance(node, nodes.Getattr):
        return f"{_show(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{_show(node.node)}[{_show(node.arg)}]"
    if isinstance(node, nodes.Slice):
        parts = [node.start, node.stop] + ([node.step] if node.step is not None else [])
        return ":".join("" if part is None else _show(part) for part in parts)
    if isinstance(node, nodes.Call):
        has_args = node.args or node.kwargs or node.dyn_args or node.dyn_kwargs
        return f"{_show(node.node)}({'...' if has_args else ''})"
    return "..."


def _describe(node: nodes.Node) -> str:
    """The ``construct`` string for a refused expression."""
    if isinstance(node, nodes.Getattr):
        return f"attribute access '{_show(node)}'"
    if isinstance(node, (nodes.Getitem, nodes.Slice)):
        return f"item access '{_show(node)}'"
    if isinstance(node, nodes.Call):
        return f"function call '{_show(node.node)}'"
    if isinstance(node, nodes.Filter):
        return f"filter '{node.name}'"
    if isinstance(node, nodes.Test):
        return f"test '{node.name}'"
    if isinstance(node, (nodes.BinExpr, nodes.UnaryExpr)):
        return f"operator '{node.operator}'"
    if isinstance(node, nodes.Concat):
        return "operator '~'"
    if isinstance(node, nodes.Compare):
        op = node.ops[0].op if node.ops else "?"
        return f"comparison '{_COMPARISONS.get(op, op)}'"
    if isinstance(node, nodes.CondExpr):
        return "conditional expression"
    if isinstance(node, nodes.Const):
        return f"literal {_show(node)}"
    if isinstance(node, nodes.List):
        return "list literal"
    if isinstance(node, nodes.Dict):
        return "dict literal"
    if isinstance(node, nodes.Tuple):
        return "tuple"
    return f"expression '{type(node).__name__}'"


class _Checker:
    """Walks a parsed template, enforcing the allow-list and collecting input names."""

    def __init__(self) -> None:
        self.variables: dict[str, None] = {}  # insertion-ordered set

    def body(self, body: Iterable[nodes.Node], bound: frozenset[str]) -> None:
        for node in body:
            self.statement(node, bound)

    def statement(self, node: nodes.Node, bound: frozenset[str]) -> None:
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                if not isinstance(child, nodes.TemplateData):
                    self.output(child, bound)
        elif isinstance(node, nodes.If):
            self.name(node.test, bound)
            self.body(node.body, bound)
            for branch in node.elif_:
                self.name(branch.test, bound)
                self.body(branch.body, bound)
            self.body(node.else_, bound)
        elif isinstance(node, nodes.For):
            target = node.target
            if isinstance(target, nodes.Tuple):
                names = ", ".join(_show(item) for item in target.items)
                _unsupported(f"tuple unpacking '{names}'", target.lineno)
            if not isinstance(target, nodes.Name):
                _unsupported(_describe(target), target.lineno)
            self.check_name(target.name, target.lineno)
            self.name(node.iter, bound)
            if node.test is not None:
                _unsupported("for loop 'if' filter", node.test.lineno)
            if node.recursive:
                _unsupported("for loop 'recursive'", node.lineno)
            if node.else_:
                _unsupported("for loop 'else'", node.lineno)
            self.body(node.body, bound | {target.name})
        else:
            tag = type(node).__name__.lower()
            _unsupported(f"tag '{tag}'", node.lineno)

    def output(self, node: nodes.Node, bound: frozenset[str]) -> None:
        if isinstance(node, nodes.Filter) and node.name == "default":
            inner = node.node
            if isinstance(inner, nodes.Filter):
                if inner.name == "default":
                    _unsupported("chained filters", node.lineno)
                _unsupported(_describe(inner), inner.lineno)
            if inner is None or not isinstance(inner, nodes.Name):
                _unsupported(_describe(inner) if inner else "filter 'default'", node.lineno)
            args_ok = (
                len(node.args) == 1
                and isinstance(node.args[0], nodes.Const)
                and isinstance(node.args[0].value, str)
                and not node.kwargs
                and node.dyn_args is None
                and node.dyn_kwargs is None
            )
            if not args_ok:
                _unsupported(
                    "filter 'default' arguments",
                    node.lineno,
                    "default takes exactly one string literal",
                )
            self.name(inner, bound)
        else:
            self.name(node, bound)

    def name(self, node: nodes.Node, bound: frozenset[str]) -> None:
        """Accept a bare variable name (recording it as an input unless loop-bound)."""
        if not isinstance(node, nodes.Name):
            _unsupported(_describe(node), node.lineno)
        self.check_name(node.name, node.lineno)
        if node.name not in bound:
            self.variables.setdefault(node.name, None)

    @staticmethod
    def check_name(name: str, line: int) -> None:
        if not _NAME_RE.match(name):
            _unsupported(f"non-ASCII name '{name}'", line)


def _check(source: str) -> tuple[nodes.Template, tuple[str, ...]]:
    if not isinstance(source, str):
        raise TypeError(f"template source must be a str, not {type(source).__name__}")
    paren_line = _scan_tokens(source)
    try:
        tree = _ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        raise _syntax_error(exc.message or "invalid template", exc.lineno) from None
    checker = _Checker()
    checker.body(tree.body, frozenset())
    if paren_line is not None:
        _unsupported("parentheses", paren_line)
    return tree, tuple(checker.variables)


def _rewrite(tree: nodes.Template) -> None:
    """Prepare a validated tree for compilation.

    Every ``for`` iterable goes through the list-checking filter, and every name
    gets the internal prefix.
    """
    for loop in tree.find_all(nodes.For):
        iterable = loop.iter
        assert isinstance(iterable, nodes.Name)
        loop.iter = nodes.Filter(
            iterable,
            _LIST_FILTER,
            [nodes.Const(iterable.name, lineno=iterable.lineno)],
            [],
            None,
            None,
            lineno=iterable.lineno,
        )
    for name in tree.find_all(nodes.Name):
        name.name = _PREFIX + name.name
    tree.set_environment(_ENV)


class _Compiled(NamedTuple):
    template: jinja2.Template
    variables: tuple[str, ...]
    #: A template of text and ``{{ name }}`` only, as ``(is_name, text or name)``
    #: pairs: rendered by joining them, without Jinja (whose render context cost more
    #: than the rest of an execution's rendering). ``None`` for any other template.
    parts: tuple[tuple[bool, str], ...] | None


def _plain_parts(tree: nodes.Template) -> tuple[tuple[bool, str], ...] | None:
    parts: list[tuple[bool, str]] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append((False, child.data))
            elif isinstance(child, nodes.Name):
                parts.append((True, child.name))
            else:
                return None
    return tuple(parts)


@functools.lru_cache(maxsize=1024)
def _compile(source: str) -> _Compiled:
    try:
        tree, variables = _check(source)
        parts = _plain_parts(tree)
        _rewrite(tree)
        return _Compiled(_ENV.from_string(tree), variables, parts)
    except (RecursionError, SyntaxError):
        raise TemplateSyntaxError("template syntax error: template is nested too deeply") from None
