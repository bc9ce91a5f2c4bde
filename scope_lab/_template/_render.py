"""The evaluator: output rules, truthiness, strictness (see the language definition).

A plain recursive walk over the compiled tree.  Missing variables are collected in
an insertion-ordered dict so that one error can list them all in order of first
use; only variables actually reached count, exactly as in the server, where a
missing name is noticed when it is printed or looped over.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from scope_lab._template._errors import TemplateValueError
from scope_lab._template._nodes import Body, For, If, Output

_MISSING: Any = object()


def to_text(value: Any) -> str:
    """The printed form of a value (the server's output rules, case for case)."""
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


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
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


def emit(
    body: Body,
    variables: Mapping[str, Any],
    slots: list[Any],
    out: list[str],
    missing: dict[str, None],
) -> None:
    """Append the rendering of ``body`` to ``out``; note missing names in ``missing``.

    ``slots[d]`` holds the current value of the loop variable at nesting depth ``d``.
    """
    for node in body:
        if type(node) is str:
            out.append(node)
        elif type(node) is Output:
            name, slot, default = node
            value = slots[slot] if slot >= 0 else variables.get(name, _MISSING)
            if value is _MISSING:
                if default is None:
                    missing[name] = None
                else:
                    out.append(default)
            elif type(value) is str:
                out.append(value)
            else:
                # str() as in Jinja, which calls str() on the finalized value
                out.append(str(to_text(value)))
        elif type(node) is If:
            for name, slot, branch in node.branches:
                if slots[slot] if slot >= 0 else variables.get(name):
                    emit(branch, variables, slots, out, missing)
                    break
            else:
                emit(node.orelse, variables, slots, out, missing)
        elif type(node) is For:
            _loop(node, variables, slots, out, missing)

def _loop(
    node: For,
    variables: Mapping[str, Any],
    slots: list[Any],
    out: list[str],
    missing: dict[str, None],
) -> None:
    value = slots[node.slot] if node.slot >= 0 else variables.get(node.name, _MISSING)
    if value is _MISSING:
        missing[node.name] = None
        return
    if not isinstance(value, (list, tuple)):
        raise TemplateValueError(
            node.name, f"variable '{node.name}' must be a list, got {json_type(value)}"
        )
    target = node.target_slot
    body = node.body
    for item in value:
        slots[target] = item
        emit(body, variables, slots, out, missing)
