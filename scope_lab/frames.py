"""Tidy DataFrames from the raw JSON the REST API returns: run results and executions.

The client hands these functions lists (or any iterables) of plain dicts, exactly as
``GET /runs/{id}/results``, ``GET /golden-sets/{name}/items`` and ``GET /executions``
return them. No pydantic model is built per row: a run of 100,000 results becomes a
frame in well under 250 ms by pulling each field into one list and converting whole
columns at once.

Column contract of :func:`results_frame` (one row per result, i.e. per (item, version,
provider, model) cell; the widgets and ``scope_lab.stats`` rely on it):

====================  ==============  ================================================
column                dtype           meaning
====================  ==============  ================================================
``item_id``           ``str``         the golden-set item
``version``           ``int64``       the prompt version (``Int64`` if one is missing)
``provider``          ``category``    the provider's name
``model``             ``category``    the model
``target``            ``category``    ``"provider/model"``
``status``            ``category``    ``"succeeded"`` or ``"failed"``
``error``             ``str``         the error's message; missing (NaN) if none
``error_code``        ``str``         the error's code; missing (NaN) if none
``output``            ``str``         the model's answer; missing for failed cells
``expected``          ``str``         the item's expected value (from ``items``)
``input_tokens``      ``Int64``       nullable integer
``output_tokens``     ``Int64``       nullable integer
``latency_ms``        ``float64``     NaN when unknown
``cost_usd``          ``float64``     NaN when the price or usage is unknown
``score.<name>``      ``float64``     one column per scorer, in [0, 1]; NaN if absent
``var.<name>``        inferred        one column per item variable (from ``items``);
                                      lists and dicts stay Python objects
====================  ==============  ================================================

Score and variable columns are sorted by name. Without ``items``, ``expected`` is all
missing and there are no ``var.*`` columns; a result whose item is not among ``items``
gets missing values there. Missing strings are NaN, as in pandas 3's ``str`` dtype.

:func:`executions_frame` gives one row per execution with ``id, prompt, version,
provider, model, target, status, error, error_code, output, rendered`` (the dict that was
sent), ``input_tokens, output_tokens, latency_ms, cost_usd, trace_id, span_id`` and
``created_at`` (``datetime64[us, UTC]``), with the same dtypes as above.

Empty input gives an empty frame with every fixed column and its dtype.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

SCORE_PREFIX = "score."
VAR_PREFIX = "var."

RESULT_COLUMNS: tuple[str, ...] = (
    "item_id", "version", "provider", "model", "target", "status", "error", "error_code",
    "output", "expected", "input_tokens", "output_tokens", "latency_ms", "cost_usd",
)
EXECUTION_COLUMNS: tuple[str, ...] = (
    "id", "prompt", "version", "provider", "model", "target", "status", "error",
    "error_code", "output", "rendered", "input_tokens", "output_tokens", "latency_ms",
    "cost_usd", "trace_id", "span_id", "created_at",
)

Row = Mapping[str, Any]
# The fields read from each dict. ``DataFrame.from_records`` pulls them out in one C
# loop and infers column types; everything after works on whole columns.
_RESULT_FIELDS = ("item_id", "version", "provider", "model", "output", "scores",
                  "input_tokens", "output_tokens", "latency_ms", "cost_usd", "status", "error")
_EXECUTION_FIELDS = ("id", "prompt", "version", "provider", "model", "status", "rendered",
                     "output", "error", "input_tokens", "output_tokens", "latency_ms",
                     "cost_usd", "trace_id", "span_id", "created_at")


def results_frame(results: Iterable[Row], items: Iterable[Row] | None = None) -> pd.DataFrame:
    """One row per run result, joined to its golden-set item's variables and expected."""
    raw = _records(results, _RESULT_FIELDS)
    columns = _common_columns(raw)
    columns["item_id"] = _strings(raw["item_id"])
    expected, variables = _item_columns(list(items) if items is not None else [])
    # One hash lookup per result into the (small) item table, then a take per column:
    # cheaper than a merge, which would copy every result column.
    where = expected.index.get_indexer(pd.Index(columns["item_id"]))
    columns["expected"] = _strings(_take(expected.to_numpy(), where))
    score_dicts = [scores if isinstance(scores, Mapping) else {} for scores in raw["scores"]]
    for name in sorted(set().union(*score_dicts)):
        columns[SCORE_PREFIX + name] = np.array([s.get(name) for s in score_dicts], dtype=float)
    for name, values in variables.items():
        columns[VAR_PREFIX + name] = _take(values.to_numpy(), where)
    # Fixed columns first, then scores and variables in the order they were added.
    order = [*RESULT_COLUMNS, *(c for c in columns if c not in RESULT_COLUMNS)]
    return pd.DataFrame({name: columns[name] for name in order})


def executions_frame(executions: Iterable[Row]) -> pd.DataFrame:
    """One row per execution, with ``created_at`` as a UTC timestamp."""
    raw = _records(executions, _EXECUTION_FIELDS)
    columns = _common_columns(raw)
    for name in ("id", "prompt", "trace_id", "span_id"):
        columns[name] = _strings(raw[name])
    columns["rendered"] = raw["rendered"].to_numpy(dtype=object)
    # The API's timestamps carry microseconds; a fixed unit keeps the dtype the same
    # whatever pandas would infer from the strings (or from none at all).
    columns["created_at"] = pd.to_datetime(
        raw["created_at"].astype(object), utc=True, format="ISO8601").dt.as_unit("us")
    return pd.DataFrame({name: columns[name] for name in EXECUTION_COLUMNS})


def score_columns(frame: pd.DataFrame) -> list[str]:
    """The frame's ``score.*`` column names, in order."""
    return [str(c) for c in frame.columns if str(c).startswith(SCORE_PREFIX)]


def variable_columns(frame: pd.DataFrame) -> list[str]:
    """The frame's ``var.*`` column names, in order."""
    return [str(c) for c in frame.columns if str(c).startswith(VAR_PREFIX)]


def _records(rows: Iterable[Row], fields: tuple[str, ...]) -> pd.DataFrame:
    """The named fields of each dict as columns; a missing key reads as missing."""
    rows = rows if isinstance(rows, list) else list(rows)
    return pd.DataFrame.from_records(rows, columns=list(fields))


def _common_columns(raw: pd.DataFrame) -> dict[str, Any]:
    """The columns results and executions share, converted whole."""
    provider = _categorical(raw["provider"])
    model = _categorical(raw["model"])
    message, code = _errors(raw["error"])
    return {
        "version": _integers(raw["version"]),
        "provider": provider,
        "model": model,
        "target": _target(provider, model),
        "status": _categorical(raw["status"]),
        "error": message,
        "error_code": code,
        "output": _strings(raw["output"]),
        "input_tokens": _integers(raw["input_tokens"], nullable=True),
        "output_tokens": _integers(raw["output_tokens"], nullable=True),
        "latency_ms": raw["latency_ms"].to_numpy(dtype=float, na_value=np.nan),
        "cost_usd": raw["cost_usd"].to_numpy(dtype=float, na_value=np.nan),
    }


def _item_columns(items: Sequence[Row]) -> tuple[pd.Series, dict[str, pd.Series]]:
    """``expected``, and each variable by name, as Series indexed by item id."""
    index = pd.Index(_strings(_field(items, "id")))
    if index.has_duplicates:
        duplicated = index[index.duplicated()].unique().tolist()
        raise ValueError(f"items with the same id: {duplicated[:5]}")
    variables = [item.get("variables") or {} for item in items]
    names = sorted(set().union(*variables))
    expected = pd.Series(_strings(_field(items, "expected")), index=index)
    return expected, {name: _series([v.get(name) for v in variables], index) for name in names}


def _take(values: Any, where: npt.NDArray[np.intp]) -> Any:
    """``values[where]``, missing where ``where`` is -1 (ints then become floats)."""
    return pd.api.extensions.take(values, where, allow_fill=True)


def _series(values: list[Any], index: pd.Index) -> pd.Series:
    """A variable's values with pandas' own dtype inference; nested values stay objects."""
    if any(isinstance(v, (dict, list)) for v in values):
        holder = np.empty(len(values), dtype=object)
        holder[:] = values
        return pd.Series(holder, index=index, dtype=object)
    return pd.Series(values, index=index)


def _field(rows: Sequence[Row], name: str) -> list[Any]:
    return [row.get(name) for row in rows]


def _categorical(values: pd.Series) -> pd.Categorical[str]:
    """Sorted string categories, also when every value is missing."""
    return pd.Categorical(values.astype("str"))


def _strings(values: Any) -> pd.api.extensions.ExtensionArray:
    strings: pd.api.extensions.ExtensionArray = pd.array(values, dtype="str")
    return strings


def _integers(values: pd.Series, *, nullable: bool = False) -> Any:
    """Nullable Int64; or int64 if ``nullable`` is false and no value is missing."""
    integers = values.astype("Int64")
    if not nullable and not integers.hasnans:
        return integers.to_numpy(dtype=np.int64)
    return integers.array


def _errors(errors: pd.Series) -> tuple[Any, Any]:
    """Message and code of each error; only the rows that have one are looked at."""
    message = np.full(len(errors), None, dtype=object)
    code = np.full(len(errors), None, dtype=object)
    for i in np.flatnonzero(errors.notna().to_numpy()).tolist():
        error = errors.iat[i]
        if isinstance(error, Mapping):
            message[i], code[i] = error.get("message"), error.get("code")
        else:  # a bare string is taken as the message, so older payloads still read
            message[i] = error
    return _strings(message), _strings(code)


def _target(provider: pd.Categorical[str], model: pd.Categorical[str]) -> pd.Categorical[str]:
    """``provider/model``, formatted once per distinct pair rather than once per row."""
    n_models = max(len(model.categories), 1)
    pair = provider.codes.astype(np.int64) * n_models + model.codes
    pair[(provider.codes < 0) | (model.codes < 0)] = -1
    uniques, inverse = np.unique(pair, return_inverse=True)
    # np.unique sorts, so a missing pair (-1) comes first and shifts to code -1.
    offset = 1 if len(uniques) and uniques[0] < 0 else 0
    names = [f"{provider.categories[p // n_models]}/{model.categories[p % n_models]}"
             for p in uniques[offset:].tolist()]
    codes = inverse.astype(np.int64).reshape(-1) - offset
    return pd.Categorical.from_codes(codes, categories=pd.Index(_strings(names)))
