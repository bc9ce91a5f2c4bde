"""JSON Schema (Draft 2020-12) checks of model output, safe to run on the server.

Threat model: the schema comes from any caller allowed to start a run and is
applied to model output inside the API process. Left to its defaults the
``jsonschema`` package would (1) fetch any remote ``$ref`` over HTTP, from the
server's network (SSRF); (2) run ``pattern`` and ``patternProperties`` with
Python's backtracking ``re``, where ``(a+)+$`` takes exponential time; and
(3) follow nested applicators (``anyOf`` of ``$ref`` to itself, …) for as long as
the instance is deep, which can also be exponential. So:

1. Every ``$ref``/``$dynamicRef`` must resolve inside the schema itself, checked
   when the scorer is declared; validation runs with a registry that never
   retrieves anything.
2. ``pattern``, ``patternProperties`` and ``additionalProperties`` are
   re-implemented with RE2 (see ``_patterns``). ``unevaluatedProperties`` would
   still match ``patternProperties`` with ``re``, so a schema may not use both.
   A ``$schema`` other than Draft 2020-12 at the root, or any ``$schema`` below
   it, is refused: jsonschema would switch to its stock classes there.
3. Every keyword checks a deadline: one validation gives up after
   :data:`VALIDATION_BUDGET_S` (:class:`GaveUp`).

``format`` is an annotation, as Draft 2020-12 specifies by default: it is not
checked.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any, cast

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.exceptions import SchemaError, best_match
from jsonschema.protocols import Validator
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from scope_api.scorers._patterns import compile_pattern, found

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
#: A larger schema (serialized as JSON) is refused when the scorer is declared.
MAX_SCHEMA_CHARS = 65_536
#: Wall-clock budget of one validation of one output.
VALIDATION_BUDGET_S = 1.0

# Keywords whose values are data, not schemas: never searched for refs or patterns.
_DATA_KEYWORDS = frozenset({"const", "enum", "examples", "default"})

# jsonschema's keyword callables get the validator instance, whose class is made at
# runtime (so it has no static type worth naming).
Keyword = Callable[[Any, Any, Any, Mapping[str, Any]], Iterator[ValidationError] | None]


class GaveUp(Exception):
    """Validating one output took longer than :data:`VALIDATION_BUDGET_S`."""


_deadline: ContextVar[float] = ContextVar("scope_jsonschema_deadline", default=math.inf)


def _bounded(keyword: Keyword) -> Keyword:
    def checked(validator: Any, value: Any, instance: Any,
                schema: Mapping[str, Any]) -> Iterator[ValidationError] | None:
        if time.monotonic() > _deadline.get():
            raise GaveUp
        return keyword(validator, value, instance, schema)

    return checked


def _pattern(validator: Any, pattern: str, instance: Any,
             schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not found(pattern, instance):
        yield ValidationError(f"{_short(instance)} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: Mapping[str, Any], instance: Any,
                        schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if found(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, additional: Any, instance: Any,
                           schema: Mapping[str, Any]) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    named = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    extras = [key for key in instance
              if key not in named and not any(found(p, key) for p in patterns)]
    if validator.is_type(additional, "object"):
        for key in extras:
            yield from validator.descend(instance[key], additional, path=key)
    elif additional is False and extras:
        listed = ", ".join(repr(key) for key in sorted(extras))
        yield ValidationError(f"additional properties are not allowed ({listed} unexpected)")


def _validator_class() -> type[Validator]:
    keywords: dict[str, Keyword] = dict(Draft202012Validator.VALIDATORS)
    keywords.update(pattern=_pattern, patternProperties=_pattern_properties,
                    additionalProperties=_additional_properties)
    extended = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {name: _bounded(fn) for name, fn in keywords.items()})
    return cast(type[Validator], extended)


_Validator = _validator_class()


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _walk(node: Any, resolver: Any, *, root: bool, seen: set[str]) -> None:
    """Refuse what validation could not run safely; see the module docstring."""
    if isinstance(node, list):
        for item in node:
            _walk(item, resolver, root=False, seen=seen)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("$id"), str):
        resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
    if isinstance(node.get("$schema"), str) and not (root and node["$schema"] == DRAFT_2020_12):
        raise ValueError(f'unsupported "$schema" {node["$schema"]!r}: only JSON Schema '
                         f"Draft 2020-12 ({DRAFT_2020_12}), and only at the root")
    for keyword in ("$ref", "$dynamicRef"):
        ref = node.get(keyword)
        if isinstance(ref, str):
            try:
                resolver.lookup(ref)
            except Unresolvable:
                raise ValueError(f'{keyword} {ref!r} does not resolve inside the schema '
                                 "(remote schemas are never fetched)") from None
    if isinstance(node.get("pattern"), str):
        compile_pattern(node["pattern"])
    if isinstance(node.get("patternProperties"), dict):
        seen.add("patternProperties")
        for pattern in node["patternProperties"]:
            compile_pattern(pattern)
    if "unevaluatedProperties" in node:
        seen.add("unevaluatedProperties")
    for key, value in node.items():
        if key not in _DATA_KEYWORDS:
            _walk(value, resolver, root=False, seen=seen)


def check_schema(schema: dict[str, Any] | bool) -> None:
    """Raise ``ValueError`` unless ``schema`` is a Draft 2020-12 schema Scope can run."""
    try:
        if len(json.dumps(schema)) > MAX_SCHEMA_CHARS:
            raise ValueError(f"the schema is larger than {MAX_SCHEMA_CHARS} characters as "
                             "JSON")
        # No format checker: the meta-schema's "format": "regex" would test patterns
        # with Python's re, and patterns here are RE2's (checked in _walk).
        meta = Draft202012Validator(Draft202012Validator.META_SCHEMA)
        error = best_match(meta.iter_errors(schema))
        if error is not None:
            raise SchemaError.create_from(error)
        seen: set[str] = set()
        resolver = Registry().resolver_with_root(DRAFT202012.create_resource(schema))
        _walk(schema, resolver, root=True, seen=seen)
    except SchemaError as exc:
        where = "/".join(str(part) for part in exc.path)
        raise ValueError(f"not a valid JSON Schema: {exc.message}"
                         + (f" (at /{where})" if where else "")) from None
    except RecursionError:
        raise ValueError("the schema is nested too deeply") from None
    if {"patternProperties", "unevaluatedProperties"} <= seen:
        raise ValueError("a schema may not use both patternProperties and "
                         "unevaluatedProperties")


def first_violation(schema: dict[str, Any] | bool, instance: Any) -> str | None:
    """The first way ``instance`` breaks ``schema`` (``None``: it is valid).

    ``schema`` must have passed :func:`check_schema`. Raises :class:`GaveUp` when
    validation exceeds its budget, ``RecursionError`` on absurdly deep instances.
    """
    if isinstance(schema, dict) and "$schema" in schema:
        # A "$ref": "#" would re-enter the root, and its "$schema" would make jsonschema
        # swap in its stock class (without the RE2 keywords); only 2020-12 gets here.
        schema = {key: value for key, value in schema.items() if key != "$schema"}
    validator = _Validator(schema, registry=Registry())
    token = _deadline.set(time.monotonic() + VALIDATION_BUDGET_S)
    try:
        error = next(validator.iter_errors(instance), None)
    finally:
        _deadline.reset(token)
    if error is None:
        return None
    return f"{error.message} (at {error.json_path})"
