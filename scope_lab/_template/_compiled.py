"""Compiling a template source into a reusable :class:`Template` (cached per source)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from scope_lab._template._check import Checker
from scope_lab._template._errors import MissingVariablesError, TemplateSyntaxError, unsupported
from scope_lab._template._lexer import tokenize
from scope_lab._template._nodes import Body
from scope_lab._template._parser import TemplateParser
from scope_lab._template._render import emit
from scope_lab._template._scan import scan


class Template:
    """A compiled template: render it any number of times with different variables."""

    __slots__ = ("_body", "_depth", "_variables", "source")

    def __init__(self, source: str, body: Body, variables: tuple[str, ...], depth: int) -> None:
        self.source = source
        self._body = body
        self._variables = variables
        self._depth = depth

    @property
    def variables(self) -> list[str]:
        """Input variables in order of first appearance (loop variables excluded)."""
        return list(self._variables)

    def render(self, variables: Mapping[str, Any]) -> str:
        """Render with ``variables``; raise one error listing every missing variable."""
        out: list[str] = []
        missing: dict[str, None] = {}
        emit(self._body, variables, [None] * self._depth, out, missing)
        if missing:
            raise MissingVariablesError(list(missing))
        return "".join(out)

    def __repr__(self) -> str:
        return f"Template({self.source!r})"


def compile_template(source: str) -> Template:
    """Check ``source`` against the subset and compile it; raise TemplateSyntaxError."""
    if not isinstance(source, str):
        raise TypeError(f"template source must be a str, not {type(source).__name__}")
    return _compile(source)


@functools.lru_cache(maxsize=1024)
def _compile(source: str) -> Template:
    # The stages run in the server's order, so the first problem reported is the
    # server's: lexical errors, token-level refusals, parse errors, the allow-list,
    # and stray parentheses last.
    try:
        tokens = tokenize(source)
        paren_line = scan(tokens, source)
        raw = TemplateParser(tokens).parse()
        checker = Checker()
        body = checker.body(raw, ())
    except RecursionError:
        raise TemplateSyntaxError(
            "template syntax error: template is nested too deeply"
        ) from None
    if paren_line is not None:
        raise unsupported("parentheses", paren_line)
    return Template(source, body, tuple(checker.variables), checker.depth)
