"""The sandboxed Jinja environment and the output rules (see the package docstring)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

import jinja2
from jinja2.filters import do_default
from jinja2.sandbox import ImmutableSandboxedEnvironment

from scope_api.templating.errors import (
    MissingVariablesError,
    RenderLimitError,
    TemplateValueError,
)


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



# Template variable ``x`` is the Jinja name ``v_x``: no user-visible name can collide
# with a Jinja special name (``loop``, ``self``, ...).
_PREFIX = "v_"
_LIST_FILTER = "scope_require_list"

# Names of missing variables hit during the current render (None outside `render`).
_missing: ContextVar[list[str] | None] = ContextVar("scope_template_missing", default=None)

#: What one render may do. The server renders on its event loop, and a few nested loops
#: over a list of hundreds (variables come in a request body of up to 1 MB) would
#: otherwise run for seconds and build tens of MB. Iterations of every loop, in all:
MAX_LOOP_ITERATIONS = 100_000
#: Characters of output (a few times more than the longest context windows take):
MAX_OUTPUT_CHARS = 4_000_000
# Loop iterations still allowed in the current render (None outside `render`).
_iterations_left: ContextVar[list[int] | None] = ContextVar("scope_template_iterations",
                                                            default=None)


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
        _spend_iterations(len(value))
        return value
    raise TemplateValueError(name, f"variable '{name}' must be a list, got {_json_type(value)}")


def _spend_iterations(count: int) -> None:
    # Charged when a loop starts, for all its iterations: only lists are looped over,
    # so the count is known, and nothing is added to each iteration.
    left = _iterations_left.get()
    if left is None:  # pragma: no cover - only reachable by bypassing render()
        return
    left[0] -= count
    if left[0] < 0:
        raise RenderLimitError(f"the template would loop more than {MAX_LOOP_ITERATIONS:,} "
                               "times in all with these variables")


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
