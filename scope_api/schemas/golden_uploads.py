"""Decoding a bulk upload of golden items: a JSON list, JSON Lines or CSV, all or nothing.

The formats, by ``Content-Type`` (``charset`` may be given; the body must be UTF-8, a
byte-order mark is ignored):

* ``application/json`` (also when no type is sent): a list of
  ``{"variables": {…}, "expected": "…" | null, "metadata": {…}}``; ``expected``
  defaults to null and ``metadata`` to ``{}``.
* ``application/x-ndjson`` or ``application/jsonl``: one such object per line;
  blank lines are skipped.
* ``text/csv``: a header row, then one item per row. Column ``expected`` is the
  expected output (an empty cell is null); ``metadata`` a JSON object (empty: ``{}``);
  ``variables`` a JSON object of variables; every other column is a variable whose
  value is the cell's text (so its header must be a variable name). Quoting follows
  RFC 4180: a cell may hold commas, quotes (doubled) and line breaks.

Every item is checked before anything is stored: variables must be an object whose
keys are variable names (``[A-Za-z_][A-Za-z0-9_]*``), ``expected`` a string or null,
``metadata`` an object. Errors locate the item: ``["body", i, …]`` (``i`` 0-based)
for a JSON list, ``["body", "line", n, …]`` (``n`` 1-based, the CSV header is line 1)
for JSON Lines and CSV. Malformed JSON or CSV is ``400``; an unknown type ``415``.

Counting stops at the per-request limit, so an oversized upload is refused without
decoding all of it: the work an upload can cause is bounded by the limits, not by
how small its items are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic
from pydantic import TypeAdapter

from scope_api import nul
from scope_api.config import Settings
from scope_api.errors import BadRequest, UnsupportedMediaType, ValidationFailed
from scope_api.schemas.common import storable_json
from scope_api.schemas.golden_sets import VARIABLE_NAME_PATTERN, GoldenItemIn

JSON = "application/json"
JSON_LINES = ("application/x-ndjson", "application/jsonl")
CSV = "text/csv"
MEDIA_TYPES = (JSON, *JSON_LINES, CSV)
MAX_REPORTED_ERRORS = 100
"""Errors listed in ``details.errors``; the message gives the total."""

_CSV_FIELDS = frozenset({"expected", "metadata", "variables"})
_VARIABLE_NAME = re.compile(VARIABLE_NAME_PATTERN)
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_JSON_VALUE_START = frozenset('{"-0123456789tfn')
_ITEMS = TypeAdapter(list[GoldenItemIn])

Loc = list[str | int]
Error = dict[str, Any]


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may hold."""

    max_items: int
    max_item_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadLimits:
        return cls(max_items=settings.golden_set_max_items_per_request,
                   max_item_bytes=settings.golden_set_max_item_bytes)


@dataclass
class _Decoded:
    """Raw items with where each came from, and errors found while decoding."""

    values: list[Any]
    locs: list[Loc]
    errors: list[Error]


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# NaN and Infinity are not JSON; Python's parser would accept them.
_JSON_DECODER = json.JSONDecoder(parse_constant=_no_constants)
_TOO_DEEP = "it is nested too deeply"


def decode_items(body: bytes, content_type: str | None,
                 limits: UploadLimits) -> list[GoldenItemIn]:
    """The items of an upload, validated; raise a 400/415/422 error naming what is wrong."""
    media_type = (content_type or JSON).partition(";")[0].strip().lower()
    decoder = _DECODERS.get(media_type)
    if decoder is None:
        raise UnsupportedMediaType(
            f"Content-Type {media_type!r} is not accepted here; send one of "
            f"{', '.join(MEDIA_TYPES)}", details={"accepted": list(MEDIA_TYPES)})
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"the body is not valid UTF-8 (byte {exc.start})") from None
    decoded = decoder(text, limits.max_items)
    if not decoded.values and not decoded.errors:
        raise ValidationFailed("the upload holds no items", loc=["body"])
    return _validate(decoded, limits)


def _too_many(limit: int) -> ValidationFailed:
    return ValidationFailed(
        f"an upload may add at most {limit} items (SCOPE_GOLDEN_SET_MAX_ITEMS_PER_REQUEST); "
        "split it into several requests", loc=["body"])


def _decode_json(text: str, max_items: int) -> _Decoded:
    # Element by element rather than json.loads: counting stops at the limit, so a
    # body of millions of tiny items is refused before it is all in memory.
    decoded = _Decoded([], [], [])
    try:
        i = _WHITESPACE.match(text).end()  # type: ignore[union-attr]  # always matches
        if text[i:i + 1] != "[":
            if text[i:i + 1] and text[i] in _JSON_VALUE_START:  # JSON, but not a list
                raise ValidationFailed("the body must be a JSON list of items", loc=["body"])
            raise json.JSONDecodeError("Expecting '['", text, i)
        i = _WHITESPACE.match(text, i + 1).end()  # type: ignore[union-attr]
        closed = text[i:i + 1] == "]"
        if closed:  # an empty list
            i = _WHITESPACE.match(text, i + 1).end()  # type: ignore[union-attr]
        while not closed:
            value, i = _JSON_DECODER.raw_decode(text, i)
            if len(decoded.values) == max_items:
                raise _too_many(max_items)
            decoded.locs.append(["body", len(decoded.values)])
            decoded.values.append(value)
            i = _WHITESPACE.match(text, i).end()  # type: ignore[union-attr]
            separator = text[i:i + 1]
            if separator not in (",", "]"):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, i)
            closed = separator == "]"
            i = _WHITESPACE.match(text, i + 1).end()  # type: ignore[union-attr]
        if i != len(text):
            raise json.JSONDecodeError("Extra data", text, i)
    except ValueError as exc:  # JSONDecodeError, or NaN/Infinity
        if isinstance(exc, ValidationFailed):
            raise
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest(f"request body is not valid JSON: {_TOO_DEEP}") from None
    return decoded


def _decode_json_lines(text: str, max_items: int) -> _Decoded:
    lines = text.split("\n")
    if sum(1 for line in lines if line.strip()) > max_items:
        raise _too_many(max_items)
    decoded = _Decoded([], [], [])
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = _JSON_DECODER.decode(line)
        except (ValueError, RecursionError) as exc:
            reason = _TOO_DEEP if isinstance(exc, RecursionError) else exc
            raise BadRequest(f"line {number} is not valid JSON: {reason}",
                             details={"line": number}) from None
        decoded.locs.append(["body", "line", number])
        decoded.values.append(value)
    return decoded


def _decode_csv(text: str, max_items: int) -> _Decoded:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    decoded = _Decoded([], [], [])
    try:
        header = [name.strip() for name in next(reader, [])]
        if not header:
            raise ValidationFailed("the CSV has no header row", loc=["body", "line", 1])
        _check_header(header)
        line = reader.line_num + 1
        for row in reader:
            start, line = line, reader.line_num + 1
            if not row:  # a blank line
                continue
            if len(decoded.values) == max_items:
                raise _too_many(max_items)
            loc: Loc = ["body", "line", start]
            if len(row) != len(header):
                decoded.errors.append({"loc": loc, "msg": (
                    f"the row has {len(row)} field{'s' * (len(row) != 1)}; "
                    f"the header has {len(header)}")})
                continue
            decoded.locs.append(loc)
            decoded.values.append(_csv_item(dict(zip(header, row, strict=True)), loc,
                                            decoded.errors))
    except csv.Error as exc:
        raise BadRequest(f"the CSV is malformed at line {reader.line_num}: {exc}",
                         details={"line": reader.line_num}) from None
    return decoded


def _check_header(header: list[str]) -> None:
    errors: list[Error] = []
    seen: set[str] = set()
    for name in header:
        loc: Loc = ["body", "line", 1, name]
        if name in seen:
            errors.append({"loc": loc, "msg": f"column {name!r} appears twice"})
        elif name not in _CSV_FIELDS and not _VARIABLE_NAME.match(name):
            errors.append({"loc": loc, "msg": (
                f"column {name!r} is neither expected, metadata, variables nor a variable "
                "name (letters, digits and _, not starting with a digit)")})
        seen.add(name)
    if errors:
        raise _failure(errors)


def _csv_item(cells: dict[str, str], loc: Loc, errors: list[Error]) -> dict[str, Any]:
    """One row as an item; JSON cells that do not parse are reported in ``errors``."""
    item: dict[str, Any] = {"expected": cells.pop("expected", "") or None}
    for field in ("metadata", "variables"):
        cell = cells.pop(field, "")
        try:
            item[field] = _JSON_DECODER.decode(cell) if cell.strip() else {}
        except (ValueError, RecursionError) as exc:
            reason = _TOO_DEEP if isinstance(exc, RecursionError) else exc
            errors.append({"loc": [*loc, field], "msg": f"not a JSON object: {reason}"})
            item[field] = {}
    variables = item["variables"]
    if isinstance(variables, dict):
        for name in cells.keys() & variables.keys():
            errors.append({"loc": [*loc, "variables", name],
                           "msg": f"{name!r} is given both as a column and in variables"})
        item["variables"] = {**variables, **cells}
    return item


_DECODERS: dict[str, Callable[[str, int], _Decoded]] = {
    JSON: _decode_json, CSV: _decode_csv, **dict.fromkeys(JSON_LINES, _decode_json_lines)}


def _validate(decoded: _Decoded, limits: UploadLimits) -> list[GoldenItemIn]:
    errors = list(decoded.errors)
    items: list[GoldenItemIn] = []
    try:
        items = _ITEMS.validate_python(decoded.values)
    except pydantic.ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False, include_context=False):
            index, *rest = err["loc"]
            where = decoded.locs[index] if isinstance(index, int) else ["body"]
            errors.append({"loc": [*where, *rest], "msg": err["msg"]})
    for item, loc in zip(items, decoded.locs, strict=False):
        try:
            encoded = storable_json([item.variables, item.expected, item.metadata])
        except ValueError as exc:  # says why: a lone surrogate, too deep
            errors.append({"loc": loc, "msg": f"the item {exc}"})
            continue
        if nul.in_json(encoded):
            fields = {"variables": item.variables, "expected": item.expected,
                      "metadata": item.metadata}
            errors.append({"loc": nul.locate(fields, loc) or loc, "msg": nul.MESSAGE})
            continue
        if (size := len(encoded)) > limits.max_item_bytes:
            errors.append({"loc": loc, "msg": (
                f"the item is {size} bytes as JSON; an item may have at most "
                f"{limits.max_item_bytes} (SCOPE_GOLDEN_SET_MAX_ITEM_BYTES)")})
    if errors:
        raise _failure(errors)
    return items


def _failure(errors: list[Error]) -> ValidationFailed:
    errors.sort(key=lambda e: [str(p).zfill(12) if isinstance(p, int) else p
                               for p in e["loc"]])
    first = errors[0]
    message = ".".join(str(p) for p in first["loc"]) + f": {first['msg']}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more errors; nothing was added)"
    return ValidationFailed(message, errors=errors[:MAX_REPORTED_ERRORS])
