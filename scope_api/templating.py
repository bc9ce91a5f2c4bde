"""Prompt templates: a small, strict, language-neutral subset of Jinja2.

Prompt templates are stored in the registry and rendered by this server, by the
pure-Python SDK and by the Ruby client.  The language is therefore deliberately
tiny, and its behaviour is pinned down by the shared vectors in
``tests/vectors/templates.json``, which every renderer must pass.

Language
--------
* ``{{ name }}`` prints a variable (spaces inside the delimiters are optional).
* ``{{ name | default("text") }}`` prints ``text`` when ``name`` is *missing*
  (absent from the variables).  A present ``null``/``""``/``false`` is not
  replaced.  The argument must be exactly one string literal in single or double
  quotes, without backslash escapes and without implicit concatenation.
* ``{% if a %}...{% elif b %}...{% else %}...{% endif %}``: every condition is a
  bare variable name.
* ``{% for x in items %}...{% endfor %}``: the target is one name, the iterable a
  bare name (possibly the loop variable of an enclosing loop).  The loop variable
  is visible only inside the loop body and shadows a top-level variable of the
  same name there.
* Names are ASCII identifiers (``[A-Za-z_][A-Za-z0-9_]*``).  ``loop``, ``self``,
  ``range`` & co. are ordinary variables: there are no globals, and nothing has a
  special meaning.

Everything else is refused by :func:`validate` with a
:class:`TemplateSyntaxError` whose ``construct`` names the offending construct:
attribute/item access, calls, filters other than ``default``, tests
(``is defined``), operators and comparisons (including ``not``/``and``/``or``),
literals outside ``default(...)``, any tag other than
``if/elif/else/endif/for/endfor`` (``set``, ``macro``, ``include``, ``raw``,
...), ``for``-``else``/``recursive``/loop filters, tuple unpacking, parentheses,
non-ASCII names, whitespace control (``{%-``, ``-%}``, ``{{-``, ``-}}``, ``+``)
and comments ``{# #}``.  Error messages read like
``unsupported construct: filter 'upper' (line 1)`` or
``template syntax error: unexpected 'endfor', expected 'endif' (line 2)``.

Output rules (applied to every ``{{ ... }}``)
--------------------------------------------
* string: printed as is (no HTML escaping, no re-rendering of its content);
* boolean: ``true`` / ``false``;
* null: the empty string;
* integer: decimal;
* float: shortest round-trip representation (Python ``repr``, which is also what
  JSON serialisers print for simple values such as ``0.5`` or ``2.25``);
* list / object: compact JSON, i.e.
  ``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` -- the output
  of ``JSON.stringify`` in JavaScript and ``JSON.generate`` in Ruby: no spaces,
  keys in insertion order, non-ASCII characters unescaped.  Inside JSON a null is
  ``null``.

Truthiness (``if``): false for a missing variable, ``null``, ``false``, ``0``,
``0.0``, ``""``, ``[]`` and ``{}``; true for everything else (``"0"``,
``"false"``, ``[0]``, ``{"a": null}``, ...).

Loops: only lists are iterable.  Looping over any other value (string, number,
boolean, null, object) raises :class:`TemplateValueError` naming the variable.

Strictness: a variable that is printed (without ``default``) or looped over and
is missing makes rendering fail with one :class:`MissingVariablesError` listing
every missing variable, in order of first use during rendering.  Only variables
actually reached count: a missing variable inside an untaken branch, or inside
the body of a loop that runs zero times, is not an error.  A variable that is
only tested by ``if`` may be missing (it is false).  A :class:`TemplateValueError`
aborts rendering immediately.

Limits: at most 50 nested ``if``/``for`` blocks, of which at most 16 ``for``.

Whitespace: text outside tags is kept byte for byte -- no trimming around
tags, the newline after ``{% endif %}`` stays, a trailing newline is kept.  The
only change is that line endings of the template text (``\\r\\n``, ``\\r``) are
normalised to ``\\n`` (values are never changed).

Threat model
------------
Templates are untrusted user input and are rendered in the server process.  The
allow-list over the parsed Jinja AST admits only plain names, the ``default``
filter with a string literal, ``if`` on names and ``for`` over names, so a
template can never reach attribute access, item access or calls -- the only ways
from a value to Python internals (``''.__class__.__mro__``, ``cycler.__init__``,
...).  On top of that, templates are compiled in an
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` with no globals, no tests
and only the filters needed, and HTML autoescaping off (prompts are not HTML).
Variable names are prefixed internally so that no Jinja special name (``loop``,
``self``, ...) can be reached from a template.

Compiled templates are cached (LRU, keyed by the source string), so validating
or rendering the same template again is cheap.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, NamedTuple, NoReturn, TypeAlias

import jinja2
from jinja2 import nodes
from jinja2.filters import do_default
from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "Content",
    "MissingVariablesError",
    "TemplateError",
    "TemplateSyntaxError",
    "TemplateValueError",
    "content_variables",
    "render",
    "render_content",
    "validate",
]

Content: TypeAlias = str | list[dict[str, str]]
"""A text prompt, or chat messages ``[{"role": "...", "content": "..."}]``."""


# --------------------------------------------------------------------------- errors


class TemplateError(Exception):
    """Base class of all template errors; ``message`` is a human-readable text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateSyntaxError(TemplateError):
    """The template is invalid Jinja or uses a construct outside the subset.

    ``line`` is the 1-based line of the problem (if known); ``construct`` names the
    refused construct (e.g. ``"filter 'upper'"``) and is ``None`` for plain syntax
    errors.
    """

    def __init__(
        self, message: str, *, line: int | None = None, construct: str | None = None
    ) -> None:
        super().__init__(message)
        self.line = line
        self.construct = construct


class MissingVariablesError(TemplateError):
    """Rendering needed variables that were not supplied; ``names`` lists them all."""

    def __init__(self, names: Sequence[str], message: str | None = None) -> None:
        self.names = list(names)
        super().__init__(message or "missing variables: " + ", ".join(self.names))


class TemplateValueError(TemplateError):
    """A supplied value cannot be used as required, e.g. looping over a non-list.

    ``name`` is the template variable holding the value.
    """

    def __init__(self, name: str, message: str | None = None) -> None:
        self.name = name
        super().__init__(message or f"invalid value for variable '{name}'")


# --------------------------------------------------------------------------- output


def _to_text(value: Any) -> str:
    """Convert a value to its printed form (see "Output rules" above)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return repr(float(value))
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


# --------------------------------------------------------------------------- environment

# Template variable ``x`` is the Jinja name ``v_x``: no user-visible name can collide
# with a Jinja special name (``loop``, ``self``, ...).
_PREFIX = "v_"
_LIST_FILTER = "scope_require_list"

# Names of missing variables hit during the current render (None outside `render`).
_missing: ContextVar[list[str] | None] = ContextVar("scope_template_missing", default=None)


def _unprefix(name: str | None) -> str:
    name = name or "?"
    return name.removeprefix(_PREFIX)


def _record_missing(name: str) -> None:
    missing = _missing.get()
    if missing is None:  # pragma: no cover - only reachable by bypassing render()
        raise MissingVariablesError([name])
    missing.append(name)


class _RecordingUndefined(jinja2.Undefined):
    """Undefined that is false in ``if`` and recorded when printed or iterated."""

    __slots__ = ()

    def __str__(self) -> str:
        _record_missing(_unprefix(self._undefined_name))
        return ""

    def __iter__(self) -> Iterator[Any]:
        _record_missing(_unprefix(self._undefined_name))
        return iter(())


def _finalize(value: Any) -> str:
    if isinstance(value, jinja2.Undefined):
        _record_missing(_unprefix(value._undefined_name))
        return ""
    return _to_text(value)


def _require_list(value: Any, name: str) -> Any:
    """Filter wrapped around every ``for`` iterable: only lists may be looped over."""
    if isinstance(value, jinja2.Undefined):
        _record_missing(name)
        return ()
    if isinstance(value, (list, tuple)):
        return value
    raise TemplateValueError(name, f"variable '{name}' must be a list, got {_json_type(value)}")


_ENV = ImmutableSandboxedEnvironment(
    autoescape=False,
    keep_trailing_newline=True,
    trim_blocks=False,
    lstrip_blocks=False,
    undefined=_RecordingUndefined,
    finalize=_finalize,
    cache_size=0,
    auto_reload=False,
)
_ENV.globals.clear()
_ENV.tests.clear()
_ENV.filters.clear()
_ENV.filters["default"] = do_default
_ENV.filters[_LIST_FILTER] = _require_list


# --------------------------------------------------------------------------- validation

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


@functools.lru_cache(maxsize=1024)
def _compile(source: str) -> _Compiled:
    try:
        tree, variables = _check(source)
        _rewrite(tree)
        return _Compiled(_ENV.from_string(tree), variables)
    except (RecursionError, SyntaxError):
        raise TemplateSyntaxError("template syntax error: template is nested too deeply") from None


# --------------------------------------------------------------------------- public API


def validate(source: str) -> list[str]:
    """Check that ``source`` is in the supported subset and return its input variables.

    Variables are listed in order of first appearance; names bound by ``for`` are
    excluded (inside their loop), names only tested by ``if`` and names used with
    ``default`` are included.  Raises :class:`TemplateSyntaxError`.
    """
    return list(_compile(source).variables)


def render(source: str, variables: Mapping[str, Any]) -> str:
    """Render ``source`` with ``variables``.

    Raises :class:`TemplateSyntaxError` (invalid template),
    :class:`MissingVariablesError` (all missing variables at once) or
    :class:`TemplateValueError` (e.g. looping over a non-list).
    """
    compiled = _compile(source)
    context = {_PREFIX + key: value for key, value in variables.items()}
    missing: list[str] = []
    token = _missing.set(missing)
    try:
        output = compiled.template.render(context)
    except TemplateError:
        raise
    except jinja2.TemplateError as exc:  # pragma: no cover - defensive
        raise TemplateError(f"template render error: {exc}") from None
    finally:
        _missing.reset(token)
    if missing:
        raise MissingVariablesError(list(dict.fromkeys(missing)))
    return output


def _messages(content: Sequence[Mapping[str, Any]]) -> list[str]:
    sources: list[str] = []
    for index, message in enumerate(content):
        text = message.get("content") if isinstance(message, Mapping) else None
        if not isinstance(text, str):
            raise TemplateError(f"messages[{index}]: content must be a string")
        sources.append(text)
    return sources


def _prefixed(index: int, exc: TemplateError) -> TemplateError:
    message = f"messages[{index}]: {exc.message}"
    if isinstance(exc, TemplateSyntaxError):
        return TemplateSyntaxError(message, line=exc.line, construct=exc.construct)
    if isinstance(exc, TemplateValueError):
        return TemplateValueError(exc.name, message)
    if isinstance(exc, MissingVariablesError):
        return MissingVariablesError(exc.names, message)
    return TemplateError(message)


def content_variables(content: Content) -> list[str]:
    """Input variables of text or chat content.

    For chat messages: the union over the messages' contents, in order, without
    duplicates.  Errors name the message, e.g. ``messages[1]: unsupported
    construct: ...``.
    """
    if isinstance(content, str):
        return validate(content)
    names: dict[str, None] = {}
    for index, source in enumerate(_messages(content)):
        try:
            names.update(dict.fromkeys(validate(source)))
        except TemplateError as exc:
            raise _prefixed(index, exc) from None
    return list(names)


def render_content(content: Content, variables: Mapping[str, Any]) -> Content:
    """Render text, or the ``content`` of each chat message (other keys are copied).

    All messages are validated first; a :class:`MissingVariablesError` lists every
    missing name across all messages, in order.
    """
    if isinstance(content, str):
        return render(content, variables)
    sources = _messages(content)
    for index, source in enumerate(sources):
        try:
            _compile(source)
        except TemplateError as exc:
            raise _prefixed(index, exc) from None
    rendered: list[dict[str, str]] = []
    missing: dict[str, None] = {}
    for index, (message, source) in enumerate(zip(content, sources, strict=True)):
        try:
            text = render(source, variables)
        except MissingVariablesError as exc:
            missing.update(dict.fromkeys(exc.names))
            text = ""
        except TemplateError as exc:
            raise _prefixed(index, exc) from None
        rendered.append({**message, "content": text})
    if missing:
        raise MissingVariablesError(list(missing))
    return rendered
