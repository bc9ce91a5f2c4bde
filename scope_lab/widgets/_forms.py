"""A form for a prompt's variables, and typed values parsed from what was typed in it.

Every field is typed as text except a variable that a ``for`` loop iterates over:
that one takes a JSON list (whose items may be any JSON, objects included), because
a loop over anything else is an error. An empty field means "not given", so a template's
``default(...)`` applies and a variable only tested by ``if`` counts as false.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, TypedDict

from scope_lab._template import compile_template
from scope_lab._template._nodes import GLOBAL, Body, For, If, Output

FieldKind = Literal["text", "json"]


class Field(TypedDict):
    """One form field: a template input variable and how to read what is typed."""

    name: str
    kind: FieldKind
    # Printed or looped over without a default somewhere: a hint for the form only, as
    # the branch that needs it may not be taken (rendering decides).
    required: bool
    default: str | None  # the template's default("…"), shown as a placeholder


def template_fields(source: str) -> list[Field]:
    """Fields for one template's input variables, in order of first use."""
    # The compiled tree says how each variable is used; the Template's public API
    # only lists names.
    body = compile_template(source)._body
    fields: dict[str, Field] = {}
    _walk(body, fields)
    return list(fields.values())


def content_fields(content: str | Sequence[Mapping[str, Any]]) -> list[Field]:
    """Fields of text or chat content (a chat message's content is a template)."""
    if isinstance(content, str):
        return template_fields(content)
    return merge_fields(template_fields(str(message.get("content", ""))) for message in content)


def merge_fields(groups: Iterable[Sequence[Field]]) -> list[Field]:
    """One field per name across several templates (e.g. the versions a test compares)."""
    merged: dict[str, Field] = {}
    for group in groups:
        for field in group:
            known = merged.get(field["name"])
            if known is None:
                merged[field["name"]] = Field(**field)
                continue
            if field["kind"] == "json":
                known["kind"] = "json"
            known["required"] = known["required"] or field["required"]
            known["default"] = known["default"] if known["default"] is not None else (
                field["default"])
    return list(merged.values())


def parse_values(fields: Sequence[Field],
                 typed: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Values to render with, and a readable problem per field that could not be read.

    Empty fields are left out; text is taken as typed; JSON fields must hold a list.
    """
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for field in fields:
        raw = typed.get(field["name"], "")
        if raw.strip() == "":
            continue
        if field["kind"] == "text":
            values[field["name"]] = raw
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems[field["name"]] = (f"{field['name']}: not valid JSON ({exc.msg} at "
                                       f"line {exc.lineno} column {exc.colno}); a list looks "
                                       f'like ["a", "b"]')
            continue
        if not isinstance(value, list):
            problems[field["name"]] = (f"{field['name']}: a loop needs a JSON list such as "
                                       f'["a", "b"], not {raw.strip()}')
            continue
        values[field["name"]] = value
    return values, problems


def _walk(body: Body, fields: dict[str, Field]) -> None:
    for node in body:
        if isinstance(node, Output):
            if node.slot == GLOBAL:
                field = _field(fields, node.name)
                if node.default is None:
                    field["required"] = True
                elif field["default"] is None:
                    field["default"] = node.default
        elif isinstance(node, If):
            for name, slot, branch in node.branches:
                if slot == GLOBAL:
                    _field(fields, name)
                _walk(branch, fields)
            _walk(node.orelse, fields)
        elif isinstance(node, For):
            if node.slot == GLOBAL:
                field = _field(fields, node.name)
                field["kind"] = "json"
                field["required"] = True
            _walk(node.body, fields)


def _field(fields: dict[str, Field], name: str) -> Field:
    if name not in fields:
        fields[name] = Field(name=name, kind="text", required=False, default=None)
    return fields[name]
