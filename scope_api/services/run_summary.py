"""A run's summary: one entry per (version, provider, model) over its completed cells.

Per API.md: ``count`` (completed cells), ``failed``, ``scores`` (mean of each scorer
over the cells that have that score; a failed cell has none), ``latency_ms_p50`` and
``latency_ms_p95`` (succeeded cells; linear interpolation between order statistics,
null without any), ``input_tokens``, ``output_tokens`` and ``cost_usd`` (sums).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scope_api.models import Run, RunCell
from scope_api.models.runs import CELL_DONE


def compute(session: Session, run: Run) -> list[dict[str, Any]]:
    """The summary from the run's completed cells, in the run's version × target order."""
    cells = session.execute(
        select(RunCell.version, RunCell.provider, RunCell.model, RunCell.status,
               RunCell.scores, RunCell.latency_ms, RunCell.input_tokens,
               RunCell.output_tokens, RunCell.cost_usd)
        .where(RunCell.run_id == run.id, RunCell.status.in_(CELL_DONE))).all()
    groups: dict[tuple[int, str, str], list[Any]] = defaultdict(list)
    for cell in cells:
        groups[(cell.version, cell.provider, cell.model)].append(cell)
    order = [(v, t["provider"], t["model"]) for v in run.versions for t in run.targets]
    return [_entry(key, groups[key]) for key in order if groups.get(key)]


def _entry(key: tuple[int, str, str], cells: list[Any]) -> dict[str, Any]:
    version, provider, model = key
    scores: dict[str, list[float]] = defaultdict(list)
    for cell in cells:
        for name, value in (cell.scores or {}).items():
            scores[name].append(float(value))
    latencies = [c.latency_ms for c in cells if c.status == "succeeded"
                 and c.latency_ms is not None]
    return {"version": version, "provider": provider, "model": model, "count": len(cells),
            "failed": sum(c.status == "failed" for c in cells),
            "scores": {name: statistics.fmean(values) for name, values in scores.items()},
            "latency_ms_p50": _percentile(latencies, 50),
            "latency_ms_p95": _percentile(latencies, 95),
            "input_tokens": sum(c.input_tokens or 0 for c in cells),
            "output_tokens": sum(c.output_tokens or 0 for c in cells),
            "cost_usd": float(sum((Decimal(c.cost_usd) for c in cells if c.cost_usd),
                                  Decimal(0)))}


def _percentile(values: Iterable[float], q: float) -> float | None:
    ordered = sorted(values)
    if not ordered:
        return None
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class LiveSummaries:
    """Summaries of runs still going on, recomputed at most every ``max_age_s`` per run.

    A running run's summary is computed from its cells on read; clients poll, and a
    large run has many cells, so each process reuses a recent computation.
    """

    def __init__(self, max_age_s: float = 1.0) -> None:
        self.max_age_s = max_age_s
        self._entries: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, run: Run) -> list[dict[str, Any]]:
        if run.summary is not None:
            return run.summary
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(run.id)
        if entry is not None and now - entry[0] < self.max_age_s:
            return entry[1]
        summary = compute(session, run)
        with self._lock:
            self._entries = {k: v for k, v in self._entries.items()
                             if now - v[0] < self.max_age_s}
            self._entries[run.id] = (now, summary)
        return summary
