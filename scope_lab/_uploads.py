"""Golden-set items as upload requests: from a list, a CSV/JSONL/JSON file, or a DataFrame.

Pure functions, no network: the resource (``scope.golden_sets``) sends what they build.
A large upload is split into batches so that every request stays well under the
server's per-request limits (100,000 items and 64 MiB by default); each batch is
stored all or nothing. CSV and JSON Lines files are sent as they are, split at record
boundaries (a CSV batch repeats the header), so the server reads exactly your file.

Records (list items and DataFrame rows) follow the CSV rule: ``expected`` and
``metadata`` are those fields, ``variables`` (a mapping) holds variables, and every
other key is a variable too. So ``{"variables": {"q": "hi"}, "expected": "hello"}``
(the API's own shape) and ``{"q": "hi", "expected": "hello"}`` are the same item.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard, cast

if TYPE_CHECKING:
    import pandas as pd

    ItemsSource: TypeAlias = (Iterable[Mapping[str, Any]] | str | os.PathLike[str]
                              | pd.DataFrame)
else:
    ItemsSource: TypeAlias = Any

BATCH_ITEMS = 10_000
BATCH_BYTES = 8 * 1024 * 1024
JSON = "application/json"
JSON_LINES = "application/x-ndjson"
CSV = "text/csv; charset=utf-8"
_SPECIAL = ("expected", "metadata", "variables")


@dataclass(frozen=True)
class Batch:
    """One request's worth of items; ``first`` is the index (or line) it starts at."""

    content_type: str
    body: bytes
    count: int
    first: int
    unit: str  # "item" (0-based index) or "line" (1-based, in the file)

    def where(self) -> str:
        """Where this batch starts in the caller's data, for error messages."""
        return f"item {self.first}" if self.unit == "item" else f"line {self.first}"


def batches(items: ItemsSource, *, batch_size: int = BATCH_ITEMS,
            batch_bytes: int = BATCH_BYTES) -> list[Batch]:
    """Split ``items`` into upload requests of at most ``batch_size`` items and
    (except for a single item larger than that) ``batch_bytes`` bytes."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if isinstance(items, str | os.PathLike):
        return _file_batches(Path(items), batch_size, batch_bytes)
    if _is_dataframe(items):
        records: Iterable[Mapping[str, Any]] = _frame_records(items)
    elif isinstance(items, Mapping):
        raise TypeError("items must be a list of items, not one item: wrap it in a list")
    else:
        records = cast("Iterable[Mapping[str, Any]]", items)
    encoded = (_encode(_item(record)) for record in records)
    return _pack(encoded, JSON, b"[", b",", b"]", 0, "item", batch_size, batch_bytes)


def _is_dataframe(value: object) -> TypeGuard[pd.DataFrame]:
    # Without importing pandas: if it was never imported, this cannot be a DataFrame.
    pandas = sys.modules.get("pandas")
    return pandas is not None and isinstance(value, pandas.DataFrame)


def _file_batches(path: Path, batch_size: int, batch_bytes: int) -> list[Batch]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = _read(path)
        header, records = _csv_records(text)
        return _pack(((r.encode(), line) for r, line in records), CSV, header.encode(), b"",
                     b"", None, "line", batch_size, batch_bytes)
    if suffix in (".jsonl", ".ndjson"):
        lines = _read(path).split("\n")
        return _pack(((line.encode(), number) for number, line in enumerate(lines, 1)
                      if line.strip()), JSON_LINES, b"", b"\n", b"\n", None, "line",
                     batch_size, batch_bytes)
    if suffix == ".json":
        data = json.loads(_read(path))
        if not isinstance(data, list):
            raise ValueError(f"{path} must hold a JSON list of items")
        return batches(data, batch_size=batch_size, batch_bytes=batch_bytes)
    raise ValueError(f"cannot tell the format of {path}: use a .csv, .jsonl, .ndjson or "
                     ".json file, or pass a list of items or a DataFrame")


def _read(path: Path) -> str:
    # Bytes, not read_text: universal newlines would rewrite line breaks inside cells.
    return path.read_bytes().decode("utf-8-sig")


def _csv_records(text: str) -> tuple[str, list[tuple[str, int]]]:
    """The header line and each record's exact text with its first line number."""
    consumed: list[str] = []
    source = io.StringIO(text, newline="")

    def lines() -> Iterator[str]:
        for line in source:
            consumed.append(line)
            yield line

    reader = csv.reader(lines(), strict=True)
    next(reader, None)
    header = "".join(consumed)
    if header and not header.endswith(("\n", "\r")):
        header += "\r\n"
    consumed.clear()
    records: list[tuple[str, int]] = []
    line = reader.line_num + 1
    for row in reader:
        raw, start, line = "".join(consumed), line, reader.line_num + 1
        consumed.clear()
        if row:
            records.append((raw if raw.endswith(("\n", "\r")) else raw + "\r\n", start))
    return header, records


def _pack(parts: Iterable[tuple[bytes, int]], content_type: str, head: bytes, sep: bytes,
          tail: bytes, start: int | None, unit: str, batch_size: int,
          batch_bytes: int) -> list[Batch]:
    """Join encoded items into batches; ``start`` numbers items when parts carry none."""
    result: list[Batch] = []
    chunk: list[bytes] = []
    size = first = 0

    def flush() -> None:
        result.append(Batch(content_type, head + sep.join(chunk) + tail, len(chunk), first,
                            unit))
        chunk.clear()

    for index, (part, where) in enumerate(parts):
        if chunk and (len(chunk) == batch_size or size + len(part) > batch_bytes):
            flush()
        if not chunk:
            first = where if start is None else start + index
            size = len(head) + len(tail)
        chunk.append(part)
        size += len(part) + len(sep)
    if chunk:
        flush()
    return result


def _encode(item: dict[str, Any]) -> tuple[bytes, int]:
    return json.dumps(item, ensure_ascii=False, default=_jsonable).encode(), 0


def _jsonable(value: Any) -> Any:
    """numpy scalars and arrays, timestamps: what DataFrames hold besides plain values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"a {type(value).__name__} cannot be sent as JSON; convert it first")


def _item(record: Mapping[str, Any], *, drop_missing: bool = False) -> dict[str, Any]:
    """An item in the API's shape, from a record (see the module docstring)."""
    if not isinstance(record, Mapping):
        raise TypeError(f"each item must be a mapping, not {type(record).__name__}")
    cells = dict(record)
    expected = cells.pop("expected", None)
    metadata = _object(cells.pop("metadata", None), "metadata", drop_missing)
    variables = _object(cells.pop("variables", None), "variables", drop_missing)
    for name, value in cells.items():
        if not (drop_missing and _missing(value)):
            variables[str(name)] = value
    if drop_missing and _missing(expected):
        expected = None
    return {"variables": variables, "expected": expected, "metadata": metadata}


def _object(value: Any, field: str, drop_missing: bool) -> dict[str, Any]:
    if value is None or (drop_missing and _missing(value)):
        return {}
    if isinstance(value, str):  # e.g. a column read back from a CSV file
        value = json.loads(value) if value.strip() else {}
    if not isinstance(value, Mapping):
        raise TypeError(f"{field} must be a mapping (or a JSON object string), "
                        f"not {type(value).__name__}")
    return dict(value)


def _missing(value: Any) -> bool:
    """A DataFrame's empty cell: None, NaN, NaT or pd.NA (lists and dicts are values)."""
    if value is None:
        return True
    pandas = sys.modules.get("pandas")
    if pandas is None or not pandas.api.types.is_scalar(value):
        return False
    return bool(pandas.isna(value))


def _frame_records(frame: pd.DataFrame) -> Iterator[dict[str, Any]]:
    columns = [str(c) for c in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        yield _item(dict(zip(columns, row, strict=True)), drop_missing=True)
