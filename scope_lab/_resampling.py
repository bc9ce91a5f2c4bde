"""Numeric kernels of ``scope_lab.stats``: bootstrap resampling and McNemar's exact test.

Pure numpy on 1-D arrays, nothing about frames. ``stats`` documents the definitions
and re-exports the public functions.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Multinomial draws when distinct values are at most 1/32 of the rows: measured here, one
# binomial draw per distinct value (~85 ns) costs as much as 15-20 index draws and
# gathers (~5 ns each), so this keeps the counts path clearly the faster one.
_COUNTS_PATH_RATIO = 32
# Up to this many discordant pairs McNemar's p-value is computed in exact integers
# (milliseconds); above it, in log space (relative error ~1e-12, and no big integers).
_EXACT_INTEGER_LIMIT = 10_000
# Index resampling works in chunks of about this many draws (int32: 16 MB per chunk).
_CHUNK_DRAWS = 4_000_000


def bootstrap_interval(
    values: FloatArray, *, resamples: int, confidence: float, rng: np.random.Generator,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (NaN, NaN when empty)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return math.nan, math.nan
    distinct, counts = np.unique(values, return_counts=True)
    if len(distinct) == 1:
        # Every resample is the same multiset, so the interval is exactly that value
        # (summing copies of it could be off in the last bit).
        return float(distinct[0]), float(distinct[0])
    means = resample_means(values, resamples=resamples, rng=rng,
                           counts=(distinct, counts) if _use_counts(distinct, values) else None)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def resample_means(
    values: FloatArray, *, resamples: int, rng: np.random.Generator,
    counts: tuple[FloatArray, npt.NDArray[np.int64]] | None = None,
) -> FloatArray:
    """Means of ``resamples`` resamples with replacement; via value counts if given."""
    n = len(values)
    if counts is not None:
        distinct, how_many = counts
        draws = rng.multinomial(n, how_many / n, size=resamples)
        means: FloatArray = draws @ distinct / n
        return means
    means = np.empty(resamples)
    chunk = max(1, _CHUNK_DRAWS // n)
    index_type = np.int32 if n < 2**31 else np.int64
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        index = rng.integers(0, n, size=(size, n), dtype=index_type)
        means[start:start + size] = values[index].sum(axis=1) / n
    return means


def mcnemar_p_value(a_only: int, b_only: int) -> float:
    """Exact two-sided McNemar p-value: binomial test of the discordant pairs, p = 1/2."""
    n = a_only + b_only
    if n == 0:
        return 1.0
    k = min(a_only, b_only)
    tail = _binomial_tail_exact(n, k) if n <= _EXACT_INTEGER_LIMIT else _binomial_tail_log(n, k)
    return min(1.0, 2 * tail)


def _binomial_tail_exact(n: int, k: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), in exact integers, rounded once at the end."""
    term, total = 1, 1
    for i in range(k):
        term = term * (n - i) // (i + 1)  # C(n, i + 1), exactly
        total += term
    return total / (1 << n)


def _binomial_tail_log(n: int, k: int) -> float:
    """P(X <= k) for X ~ Binomial(n, 1/2), summed in log space (no overflow at any n)."""
    i = np.arange(1, k + 1, dtype=float)
    log_terms = np.concatenate(([0.0], np.cumsum(np.log(n - i + 1) - np.log(i))))
    top = log_terms.max()
    return math.exp(top + math.log(np.exp(log_terms - top).sum()) - n * math.log(2))


def _use_counts(distinct: FloatArray, values: FloatArray) -> bool:
    return len(distinct) * _COUNTS_PATH_RATIO <= len(values)
