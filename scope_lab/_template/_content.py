"""Prompt content: a text template, or chat messages whose ``content`` are templates.

Mirrors ``render_content`` / ``content_variables`` of the server, including the
``messages[i]: ...`` prefix on errors and one MissingVariablesError across messages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from scope_lab._template._compiled import Template, compile_template
from scope_lab._template._errors import (
    MissingVariablesError,
    TemplateError,
    TemplateSyntaxError,
    TemplateValueError,
)

Content: TypeAlias = str | list[dict[str, Any]]
"""A text prompt, or chat messages ``[{"role": "...", "content": "..."}]``."""


def _sources(content: Sequence[Mapping[str, Any]]) -> list[str]:
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


def _compile_all(sources: list[str]) -> list[Template]:
    templates: list[Template] = []
    for index, source in enumerate(sources):
        try:
            templates.append(compile_template(source))
        except TemplateError as exc:
            raise _prefixed(index, exc) from None
    return templates


def content_variables(content: Content) -> list[str]:
    """Input variables of text or chat content (for chat: in order, without duplicates)."""
    if isinstance(content, str):
        return compile_template(content).variables
    names: dict[str, None] = {}
    for template in _compile_all(_sources(content)):
        names.update(dict.fromkeys(template.variables))
    return list(names)


def render_content(content: Content, variables: Mapping[str, Any]) -> Content:
    """Render text, or each chat message's ``content`` (other keys are copied).

    All messages are compiled first; a MissingVariablesError lists every missing
    name across all messages, in order.
    """
    if isinstance(content, str):
        return compile_template(content).render(variables)
    templates = _compile_all(_sources(content))
    rendered: list[dict[str, Any]] = []
    missing: dict[str, None] = {}
    for index, (message, template) in enumerate(zip(content, templates, strict=True)):
        try:
            text = template.render(variables)
        except MissingVariablesError as exc:
            missing.update(dict.fromkeys(exc.names))
            text = ""
        except TemplateError as exc:
            raise _prefixed(index, exc) from None
        rendered.append({**message, "content": text})
    if missing:
        raise MissingVariablesError(list(missing))
    return rendered
