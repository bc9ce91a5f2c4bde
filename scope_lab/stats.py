"""Statistics over a results frame: per-group summaries, paired comparisons, custom scores.

Everything here is a pure function of a frame shaped like ``scope_lab.frames`` builds
(``score.<name>`` columns, ``status``, ``latency_ms``, ``cost_usd``, ``item_id``).

Definitions, the same in every function:

* **Score.** ``score=None`` picks the frame's only ``score.*`` column; with several, name
  one (``score="exact_match"`` or ``"score.exact_match"``). Boolean columns read as 0/1.
* **Failed cells count as 0 and never pass.** A failed call is an outcome the user
  gets, so leaving it out would flatter a version that fails often. A succeeded row
  with no value for the score (a scorer that did not run) is left out of the mean,
  the interval and the pass rate; ``scored`` counts the rows that were used.
* **Pass** means ``score >= pass_threshold`` (default 1.0: a perfect score, which for
  0/1 scorers such as ``exact_match`` is simply "right").
* **Confidence intervals** are percentile bootstrap intervals of the mean: ``resamples``
  resamples of the rows with replacement, and the ``(1 - confidence) / 2`` and
  ``(1 + confidence) / 2`` quantiles of their means. When a group has few distinct
  values (0/1 scores), the counts of each value in a resample are drawn from the
  multinomial distribution, which is exactly what resampling rows gives, in
  O(resamples × distinct values) instead of O(resamples × rows). If every value is the
  same, the interval is that value. Results are deterministic given ``seed``, and a
  group's interval does not depend on which other groups are in the frame.
* **Percentiles** (``latency_ms_p50``/``p95``) use linear interpolation between order
  statistics (numpy's and pandas' default, Hyndman–Fan type 7) over succeeded rows.
* **Cost** is the sum of the known ``cost_usd`` values (NaN if none is known);
  ``cost_per_pass_usd`` divides it by the number of passing rows (NaN when none pass).
* **McNemar's test** in :func:`compare` is always the exact one: the two-sided
  binomial test of the discordant pairs against p = 1/2. It is valid at every sample
  size and costs microseconds, so the chi-square approximation buys nothing.
"""

from __future__ import annotations

import inspect
import math
import numbers
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from scope_lab._resampling import (
    FloatArray,
    bootstrap_interval,
    mcnemar_p_value,
    resample_means,
)
from scope_lab.frames import SCORE_PREFIX, VAR_PREFIX, score_columns

__all__ = ["Comparison", "add_score", "bootstrap_interval", "compare", "mcnemar_p_value",
           "resample_means", "resolve_score", "summary"]

BoolArray = npt.NDArray[np.bool_]

DEFAULT_BY: tuple[str, ...] = ("version", "target")
# Columns that tell the cells of a run apart; compare() pairs on those a and b leave free.
CELL_COLUMNS: tuple[str, ...] = ("version", "provider", "model")
SCORER_ARGUMENTS = ("output", "expected", "variables", "row")


def summary(
    df: pd.DataFrame,
    by: Sequence[str] = DEFAULT_BY,
    *,
    score: str | None = None,
    pass_threshold: float = 1.0,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per group: counts, mean score with bootstrap CI, pass rate, latency, cost."""
    by = [by] if isinstance(by, str) else list(by)
    if not by:
        raise ValueError('by names at least one column, e.g. by="target"')
    _require_columns(df, by, "by")
    _check_resampling(resamples, confidence)
    column = resolve_score(df, score)
    value, passed = _outcomes(df, column, pass_threshold)
    failed = _failed(df)
    work = pd.DataFrame({
        "value": value,
        "passed": passed.astype(np.int64),
        "failed": failed.astype(np.int64),
        "latency": np.where(failed, np.nan, _floats(df, "latency_ms")),
        "cost": _floats(df, "cost_usd"),
    })
    # Keys as arrays on work's own RangeIndex: Series keys would align on df's index,
    # which after filtering or concatenating is not 0..n-1.
    keys = [pd.Series(df[c].array, name=c) for c in by]
    grouped = work.groupby(keys, observed=True, sort=True, dropna=False)
    out = grouped.agg(
        count=("value", "size"), failed=("failed", "sum"), scored=("value", "count"),
        mean_score=("value", "mean"), passed=("passed", "sum"),
        cost_usd=("cost", "sum"), costs_known=("cost", "count"),
    )
    out["cost_usd"] = out["cost_usd"].where(out["costs_known"] > 0)
    latency = grouped["latency"]
    out["latency_ms_p50"] = latency.quantile(0.5)
    out["latency_ms_p95"] = latency.quantile(0.95)
    ci = _group_intervals(value, grouped.ngroup().to_numpy(), out.index,
                          resamples=resamples, confidence=confidence, seed=seed)
    out["ci_low"], out["ci_high"] = ci[:, 0], ci[:, 1]
    out["pass_rate"] = out["passed"] / out["scored"].where(out["scored"] > 0)
    out["cost_per_pass_usd"] = out["cost_usd"] / out["passed"].where(out["passed"] > 0)
    columns = ["count", "failed", "scored", "mean_score", "ci_low", "ci_high", "passed",
               "pass_rate", "latency_ms_p50", "latency_ms_p95", "cost_usd",
               "cost_per_pass_usd"]
    result = out[columns].reset_index()
    result.attrs.update(score=column, pass_threshold=pass_threshold, confidence=confidence)
    return result


@dataclass(frozen=True)
class Comparison:
    """Paired comparison of selections ``a`` and ``b`` on the same items (``b - a``)."""

    a: dict[str, Any]
    b: dict[str, Any]
    score: str
    on: tuple[str, ...]
    pairs: int
    unpaired_a: int
    unpaired_b: int
    mean_a: float
    mean_b: float
    mean_diff: float
    ci_low: float
    ci_high: float
    confidence: float
    pass_rate_a: float
    pass_rate_b: float
    a_only: int
    """Pairs where ``a`` passes and ``b`` does not (a discordant cell of McNemar's table)."""
    b_only: int
    """Pairs where ``b`` passes and ``a`` does not."""
    both: int
    neither: int
    p_value: float
    """Exact two-sided McNemar p-value for the pass/fail change."""

    def to_frame(self) -> pd.DataFrame:
        """The comparison as a one-row DataFrame."""
        row = asdict(self)
        row["a"], row["b"], row["on"] = repr(self.a), repr(self.b), ", ".join(self.on)
        return pd.DataFrame([row])


def compare(
    df: pd.DataFrame,
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    *,
    on: Sequence[str] = ("item_id",),
    score: str | None = None,
    pass_threshold: float = 1.0,
    resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Comparison:
    """Compare two versions or targets on the same items: paired bootstrap CI and McNemar."""
    a, b, on = dict(a), dict(b), [on] if isinstance(on, str) else list(on)
    if not a or not b:
        raise ValueError('a and b each select rows by column, e.g. a={"version": 1}')
    if a == b:
        raise ValueError(f"a and b select the same rows: {a}")
    _require_columns(df, [*a, *b], "a and b")
    _require_columns(df, on, "on")
    _check_resampling(resamples, confidence)
    column = resolve_score(df, score)
    value, passed = _outcomes(df, column, pass_threshold)
    fixed = set(a) | set(b)
    if fixed & {"target", "provider", "model"}:
        fixed |= {"target", "provider", "model"}
    key = [*on, *(c for c in CELL_COLUMNS if c in df.columns and c not in fixed)]
    left = _side(df, a, "a", key, value, passed)
    right = _side(df, b, "b", key, value, passed)
    pairs = left.merge(right, on=key, suffixes=("_a", "_b"))
    if pairs.empty:
        raise ValueError(f"a={a} and b={b} have no items in common (paired on {key})")
    va, vb = pairs["value_a"].to_numpy(), pairs["value_b"].to_numpy()
    pa, pb = pairs["passed_a"].to_numpy(), pairs["passed_b"].to_numpy()
    diff = vb - va
    rng = np.random.default_rng([seed, _key_seed((repr(a), repr(b)))])
    low, high = bootstrap_interval(diff, resamples=resamples, confidence=confidence, rng=rng)
    a_only, b_only = int((pa & ~pb).sum()), int((pb & ~pa).sum())
    return Comparison(
        a=a, b=b, score=column, on=tuple(key), pairs=len(pairs),
        unpaired_a=len(left) - len(pairs), unpaired_b=len(right) - len(pairs),
        mean_a=float(va.mean()), mean_b=float(vb.mean()), mean_diff=float(diff.mean()),
        ci_low=low, ci_high=high, confidence=confidence,
        pass_rate_a=float(pa.mean()), pass_rate_b=float(pb.mean()),
        a_only=a_only, b_only=b_only, both=int((pa & pb).sum()),
        neither=int((~pa & ~pb).sum()), p_value=mcnemar_p_value(a_only, b_only),
    )


def add_score(df: pd.DataFrame, name: str, fn: Callable[..., Any]) -> pd.DataFrame:
    """A copy of ``df`` with ``score.<name>`` computed by ``fn`` for each succeeded row."""
    if not name or not isinstance(name, str):
        raise ValueError("a score needs a non-empty name")
    wanted = _scorer_arguments(fn, name)
    failed = _failed(df)
    columns = {arg: _argument_values(df, arg) for arg in wanted}
    ids = df["item_id"].tolist() if "item_id" in df.columns else None
    scores = np.full(len(df), np.nan)
    for i, label in enumerate(df.index):
        if failed[i]:
            continue  # no answer to score; summary() counts failed rows as 0
        where = f"row {label!r}" + (f" (item {ids[i]!r})" if ids is not None else "")
        try:
            result = fn(**{arg: values[i] for arg, values in columns.items()})
        except Exception as exc:
            exc.add_note(f"in scorer {name!r} on {where}")
            raise
        scores[i] = _checked_score(result, name, where)
    out = df.copy()
    out[SCORE_PREFIX + name] = scores
    return out


def resolve_score(df: pd.DataFrame, score: str | None) -> str:
    """The ``score.*`` column meant by ``score`` (or the only one), or a ValueError."""
    choices = score_columns(df)
    if score is None:
        if len(choices) == 1:
            return choices[0]
        if not choices:
            raise ValueError("the frame has no score.* column; add one with add_score()")
        raise ValueError(f"the frame has several scores; pick one with score=: {choices}")
    column = score if score.startswith(SCORE_PREFIX) else SCORE_PREFIX + score
    if column not in choices:
        raise ValueError(f"no score {score!r}; the frame has {choices}")
    return column


def _outcomes(df: pd.DataFrame, column: str, threshold: float) -> tuple[FloatArray, BoolArray]:
    """Per row: the value that enters the mean (failed → 0, unscored → NaN) and pass."""
    raw = df[column].to_numpy(dtype=float, na_value=np.nan)
    failed = _failed(df)
    value = np.where(failed, 0.0, raw)
    with np.errstate(invalid="ignore"):
        passed = ~failed & (raw >= threshold)
    return value, passed


def _failed(df: pd.DataFrame) -> BoolArray:
    if "status" not in df.columns:
        return np.zeros(len(df), dtype=bool)
    failed: BoolArray = (df["status"] == "failed").to_numpy(dtype=bool, na_value=False)
    return failed


def _floats(df: pd.DataFrame, column: str) -> FloatArray:
    if column not in df.columns:
        return np.full(len(df), np.nan)
    values: FloatArray = df[column].to_numpy(dtype=float, na_value=np.nan)
    return values


def _group_intervals(
    value: FloatArray, group: npt.NDArray[np.integer[Any]], keys: pd.Index, *,
    resamples: int, confidence: float, seed: int,
) -> FloatArray:
    """Bootstrap interval per group, each with its own generator seeded by its key."""
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(keys) + 1))
    out = np.full((len(keys), 2), np.nan)
    for g, key in enumerate(keys):
        rows = value[order[bounds[g]:bounds[g + 1]]]
        rows = rows[~np.isnan(rows)]
        rng = np.random.default_rng([seed, _key_seed(key if isinstance(key, tuple) else (key,))])
        out[g] = bootstrap_interval(rows, resamples=resamples, confidence=confidence, rng=rng)
    return out


def _key_seed(key: tuple[Any, ...]) -> int:
    """A stable number for a group key (``hash`` of strings changes between processes)."""
    return zlib.crc32("\x1f".join(str(k) for k in key).encode())


def _side(df: pd.DataFrame, select: dict[str, Any], label: str, key: list[str],
          value: FloatArray, passed: BoolArray) -> pd.DataFrame:
    """The rows ``select`` picks that have a value, keyed for pairing; one per key."""
    mask = np.ones(len(df), dtype=bool)
    for column, wanted in select.items():
        mask &= (df[column] == wanted).to_numpy(dtype=bool, na_value=False)
    if not mask.any():
        raise ValueError(f"{label}={select} selects no rows")
    rows = df.loc[mask, key].copy()
    rows["value"], rows["passed"] = value[mask], passed[mask]
    rows = rows[rows["value"].notna()]
    duplicated = rows.duplicated(key)
    if duplicated.any():
        example = rows.loc[duplicated, key].iloc[0].to_dict()
        raise ValueError(f"{label}={select} has several rows for {example}; narrow a and b "
                         f"(e.g. add the target) so each item appears once on each side")
    return rows


def _require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} names columns the frame does not have: {missing}")


def _check_resampling(resamples: int, confidence: float) -> None:
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    if not 0 < confidence < 1:
        raise ValueError("confidence must be between 0 and 1, e.g. 0.95")


def _scorer_arguments(fn: Callable[..., Any], name: str) -> list[str]:
    """The arguments ``fn`` asks for; all of them if it takes ``**kwargs``."""
    parameters = inspect.signature(fn).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return list(SCORER_ARGUMENTS)
    wanted = []
    for p in parameters:
        usable = p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD,
                            inspect.Parameter.KEYWORD_ONLY)
        if usable and p.name in SCORER_ARGUMENTS:
            wanted.append(p.name)
        elif p.default is inspect.Parameter.empty and p.kind is not p.VAR_POSITIONAL:
            raise TypeError(f"scorer {name!r} asks for {p.name!r}; a scorer may ask for "
                            f"{', '.join(SCORER_ARGUMENTS)} (by keyword)")
    return wanted


def _argument_values(df: pd.DataFrame, argument: str) -> list[Any]:
    """One value per row for a scorer argument, with missing values as None."""
    if argument == "row":
        return [{k: _none_if_missing(v) for k, v in r.items()} for r in df.to_dict("records")]
    if argument == "variables":
        names = [c for c in df.columns if str(c).startswith(VAR_PREFIX)]
        columns = [df[c].tolist() for c in names]
        short = [str(c)[len(VAR_PREFIX):] for c in names]
        return [{k: v for k, v in zip(short, values, strict=True) if not _missing(v)}
                for values in zip(*columns, strict=True)] if names else [{} for _ in range(len(df))]
    if argument not in df.columns:
        return [None] * len(df)
    return [_none_if_missing(v) for v in df[argument].tolist()]


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _none_if_missing(value: Any) -> Any:
    return None if _missing(value) else value


def _checked_score(result: Any, name: str, where: str) -> float:
    if isinstance(result, (bool, np.bool_)):
        return float(result)
    if isinstance(result, numbers.Real) and 0.0 <= float(result) <= 1.0:
        return float(result)
    raise ValueError(f"scorer {name!r} returned {result!r} on {where}: a score must be a "
                     "number in [0, 1] or a bool")
