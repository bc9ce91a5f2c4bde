# Generated from scope_lab/_async by scripts/gen_sync.py: do not edit.
"""Runs: compare prompt versions × targets on a golden set, and read the results."""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scope_lab._backends import SyncBackend
from scope_lab._progress import progress
from scope_lab._sync._api import API
from scope_lab._sync.resources._base import Resource, segment
from scope_lab.errors import NotFound, RunTimeout
from scope_lab.models import Run, RunEstimate, RunResult

if TYPE_CHECKING:
    import pandas as pd

Target = Mapping[str, str] | tuple[str, str]


class Runs(Resource):
    """``scope.runs``: start, estimate, follow, cancel and analyse golden-set runs."""

    def __init__(self, api: API, backend: SyncBackend) -> None:
        super().__init__(api)
        self._backend = backend

    def start(self, golden_set: str, *, prompt: str, versions: Sequence[int],
                    targets: Sequence[Target], scorers: Sequence[Mapping[str, Any]] = (),
                    parameters: Mapping[str, Any] | None = None, concurrency: int = 16,
                    budget_usd: float | None = None, cache: bool = False) -> Run:
        """Start a run (the server executes it in the background); see ``wait``.

        ``targets`` are ``{"provider": …, "model": …}`` or ``(provider, model)`` pairs.
        Raises :class:`scope_lab.ValidationError` listing items a version cannot render.
        """
        return Run.model_validate(self._api.json(
            "POST", f"/golden-sets/{segment(golden_set)}/runs",
            json=_body(prompt, versions, targets, scorers, parameters, concurrency,
                       budget_usd, cache)))

    def estimate(self, golden_set: str, *, prompt: str, versions: Sequence[int],
                       targets: Sequence[Target], scorers: Sequence[Mapping[str, Any]] = (),
                       parameters: Mapping[str, Any] | None = None,
                       concurrency: int = 16) -> RunEstimate:
        """Calls, tokens, cost and duration the run would take; nothing is started."""
        return RunEstimate.model_validate(self._api.json(
            "POST", f"/golden-sets/{segment(golden_set)}/runs/estimate",
            json=_body(prompt, versions, targets, scorers, parameters, concurrency, None,
                       False)))

    def retrieve(self, run: Run | str) -> Run:
        """A run's status, progress and summary (``run``: a :class:`Run` or its id)."""
        return Run.model_validate(self._api.json("GET", f"/runs/{_id(run)}"))

    def list(self, *, golden_set: str | None = None,
                   limit: int | None = None) -> Iterator[Run]:
        """Runs, newest first (optionally of one golden set)."""
        for run in self._api.items("/runs", Run.model_validate,
                                         {"golden_set": golden_set}, limit=limit):
            yield run

    def cancel(self, run: Run | str) -> Run:
        """Stop a run; finished cells are kept."""
        return Run.model_validate(self._api.json("POST", f"/runs/{_id(run)}/cancel"))

    def wait(self, run: Run | str, *, timeout_s: float | None = None, poll_s: float = 0.5,
                   show_progress: bool = True) -> Run:
        """Poll until the run ends, showing progress; ``RunTimeout`` after ``timeout_s``."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        id = run.id if isinstance(run, Run) else run
        run = self.retrieve(id)
        with progress(total=run.progress.total, desc=f"run {id[:8]}", unit="cell",
                      disable=not show_progress) as bar:
            while True:
                bar.update(run.progress.done - bar.n)
                bar.set_postfix(failed=run.progress.failed, spent=f"${run.spent_usd:.4f}")
                if run.ended:
                    return run
                if deadline is not None and time.monotonic() >= deadline:
                    raise RunTimeout(f"run {id} is still {run.status} after {timeout_s:g} s "
                                     f"({run.progress.done}/{run.progress.total} cells)")
                self._backend.sleep(poll_s)
                run = self.retrieve(id)

    def results(self, run: Run | str, *, since: datetime | str | None = None,
                      limit: int | None = None) -> Iterator[RunResult]:
        """Completed cells in item order; with ``since`` (an aware datetime or RFC 3339
        text), only those completed at or after it (``RunResult.completed_at``)."""
        params = {} if since is None else {
            "since": since.isoformat() if isinstance(since, datetime) else since}
        for result in self._api.items(f"/runs/{_id(run)}/results",
                                            RunResult.model_validate, params, limit=limit):
            yield result

    def to_dataframe(self, run: Run | str, *, items: bool = True,
                           show_progress: bool = True) -> pd.DataFrame:
        """One row per (item, version, provider, model); see :mod:`scope_lab.frames`.

        With ``items`` (default) each row also carries the item's variables (``var.*``)
        and ``expected``, read from the golden set if it still exists.
        """
        from scope_lab.frames import results_frame

        run = self.retrieve(run)
        rows: builtins.list[dict[str, Any]] = []
        with progress(total=run.progress.done, desc="results", unit="row",
                      disable=not show_progress) as bar:
            for row in self._api.pages(f"/runs/{run.id}/results"):
                rows.append(row)
                bar.update(1)
        golden: builtins.list[dict[str, Any]] | None = None
        if items:
            try:
                golden = [row for row in self._api.pages(
                    f"/golden-sets/{segment(run.golden_set)}/items")]
            except NotFound:
                golden = None  # the set was deleted; the results stand on their own
        return results_frame(rows, golden)


def _id(run: Run | str) -> str:
    return segment(run.id if isinstance(run, Run) else run)


def _body(prompt: str, versions: Sequence[int], targets: Sequence[Target],
          scorers: Sequence[Mapping[str, Any]], parameters: Mapping[str, Any] | None,
          concurrency: int, budget_usd: float | None, cache: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "prompt": prompt, "versions": [int(v) for v in versions],
        "targets": [dict(t) if isinstance(t, Mapping) else
                    {"provider": t[0], "model": t[1]} for t in targets],
        "scorers": [dict(s) for s in scorers], "parameters": dict(parameters or {}),
        "concurrency": concurrency, "cache": cache}
    if budget_usd is not None:
        body["budget_usd"] = budget_usd
    return body
