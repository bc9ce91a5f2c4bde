"""Benchmark of the analysis layer: building frames and computing statistics at 100,000 rows.

Not a test: it prints figures. Run it from the repository root::

    .venv/bin/python tests/benchmarks/bench_frames_stats.py [--repeat 5]

The data look like a large run: 1,000 golden-set items (3 variables each) × 10 versions
× 10 targets (5 providers × 2 models) = 100,000 result dicts as ``GET /runs/{id}/results``
returns them, 2 % of them failed, each with an ``exact_match`` (0/1) and a
``similarity`` (continuous) score. Reported: the median wall time over ``--repeat`` runs
(after one warm-up) of

* ``results_frame`` from the 100,000 dicts, with and without the items join
  (target: under 250 ms);
* ``stats.summary`` with 1,000 resamples, by (version, target) (100 groups of 1,000
  rows) and by model (2 groups of 50,000 rows), for the 0/1 score and for the
  continuous one (target: under 2 s);
* ``stats.compare`` of two versions (10,000 pairs, 1,000 resamples), for both scores.

The script exits non-zero when a target is missed. See ``tests/benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from scope_lab import stats  # noqa: E402
from scope_lab.frames import results_frame  # noqa: E402

ITEMS, VERSIONS, PROVIDERS, MODELS = 1_000, 10, 5, 2
FRAME_TARGET_S, SUMMARY_TARGET_S = 0.250, 2.0


def make_items() -> list[dict[str, Any]]:
    return [{"id": f"itm_{i:05d}", "expected": f"answer {i}", "metadata": {},
             "variables": {"name": f"user {i}", "lang": ("en", "fr", "de")[i % 3],
                           "n": i}} for i in range(ITEMS)]


def make_results(seed: int = 0) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for version in range(1, VERSIONS + 1):
        for p in range(PROVIDERS):
            for m in range(MODELS):
                quality = 0.4 + 0.04 * version + 0.05 * m
                for i in range(ITEMS):
                    failed = rng.random() < 0.02
                    rows.append({
                        "item_id": f"itm_{i:05d}", "version": version,
                        "provider": f"provider-{p}", "model": f"model-{m}",
                        "output": None if failed else f"an answer of some length for {i}",
                        "scores": {} if failed else {
                            "exact_match": float(rng.random() < quality),
                            "similarity": rng.random()},
                        "input_tokens": None if failed else 120 + i % 50,
                        "output_tokens": None if failed else 30 + i % 20,
                        "latency_ms": rng.lognormvariate(6, 0.5),
                        "cost_usd": None if failed else 0.0001 * (1 + m),
                        "status": "failed" if failed else "succeeded",
                        "error": {"code": "provider_timeout", "message": "timed out"}
                        if failed else None,
                    })
    return rows


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    result = fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (5)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, pandas {pd.__version__}, "
          f"numpy {np.__version__}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")
    items, rows = make_items(), make_results()
    print(f"{len(rows):,} result dicts, {len(items):,} items\n")

    figures: list[tuple[str, float, float | None]] = []
    t, df = median_time(lambda: results_frame(rows, items), args.repeat)
    assert isinstance(df, pd.DataFrame)
    figures.append(("results_frame, with the items join", t, FRAME_TARGET_S))
    t, _ = median_time(lambda: results_frame(rows), args.repeat)
    figures.append(("results_frame, no items", t, FRAME_TARGET_S))
    for by in (("version", "target"), ("model",)):
        for score in ("exact_match", "similarity"):
            t, summary = median_time(lambda s=score, b=by: stats.summary(df, b, score=s),
                                     args.repeat)
            assert isinstance(summary, pd.DataFrame)
            figures.append((f"summary by {', '.join(by)} ({len(summary)} groups), {score}", t,
                            SUMMARY_TARGET_S))
    for score in ("exact_match", "similarity"):
        t, comparison = median_time(
            lambda s=score: stats.compare(df, {"version": 1}, {"version": 10}, score=s),
            args.repeat)
        assert isinstance(comparison, stats.Comparison)
        figures.append((f"compare v1/v10, {comparison.pairs:,} pairs, {score}", t, None))

    missed = 0
    print(f"{'operation (median of ' + str(args.repeat) + ')':<56} {'time':>9}  target")
    for name, seconds, target in figures:
        verdict = "" if target is None else (
            f"< {target * 1000:,.0f} ms " + ("met" if seconds < target else "MISSED"))
        missed += target is not None and seconds >= target
        print(f"{name:<56} {seconds * 1000:>6.0f} ms  {verdict}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
