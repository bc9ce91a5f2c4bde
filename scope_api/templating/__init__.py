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

Limits: at most 50 nested ``if``/``for`` blocks, of which at most 16 ``for``. One
render (of a text, or of one chat message) may run at most 100,000 loop iterations
in all and print at most 4,000,000 characters; beyond either it stops with a
:class:`RenderLimitError` (these limits are the server's; the SDKs' renderers have
none).

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
or rendering the same template again is cheap. A template of text and plain
``{{ name }}`` only (most prompts) is rendered by joining its parts, without Jinja's
render context, with the same output and errors (a property test compares the two).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeAlias

import jinja2

from scope_api.templating.environment import (
    _PREFIX,
    MAX_LOOP_ITERATIONS,
    MAX_OUTPUT_CHARS,
    _iterations_left,
    _missing,
    _to_text,
)
from scope_api.templating.errors import (
    MissingVariablesError,
    RenderLimitError,
    TemplateError,
    TemplateSyntaxError,
    TemplateValueError,
)
from scope_api.templating.validation import _compile

__all__ = [
    "Content",
    "MissingVariablesError",
    "RenderLimitError",
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
    if compiled.parts is not None:
        return _substituted(compiled.parts, variables)
    return _rendered_by_jinja(compiled.template, variables)


def _rendered_by_jinja(template: jinja2.Template, variables: Mapping[str, Any]) -> str:
    context = {_PREFIX + key: value for key, value in variables.items()}
    missing: list[str] = []
    token = _missing.set(missing)
    budget = _iterations_left.set([MAX_LOOP_ITERATIONS])
    try:
        output = _joined(template.generate(context))
    except TemplateError:
        raise
    except jinja2.TemplateError as exc:  # pragma: no cover - defensive
        raise TemplateError(f"template render error: {exc}") from None
    finally:
        _iterations_left.reset(budget)
        _missing.reset(token)
    if missing:
        raise MissingVariablesError(list(dict.fromkeys(missing)))
    return output


def _substituted(parts: Sequence[tuple[bool, str]], variables: Mapping[str, Any]) -> str:
    """What Jinja renders for a template of text and ``{{ name }}`` only (``parts``)."""
    texts: list[str] = []
    missing: list[str] = []
    size = 0
    for is_name, text in parts:
        if is_name:
            if text not in variables:
                missing.append(text)
                continue
            text = _to_text(variables[text])
        size += len(text)
        if size > MAX_OUTPUT_CHARS:
            raise _too_long()
        texts.append(text)
    if missing:
        raise MissingVariablesError(list(dict.fromkeys(missing)))
    return "".join(texts)


def _too_long() -> RenderLimitError:
    return RenderLimitError(f"the rendered text would be longer than {MAX_OUTPUT_CHARS:,} "
                            "characters with these variables")


def _joined(chunks: Iterator[str]) -> str:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise _too_long()
        parts.append(chunk)
    return "".join(parts)


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
