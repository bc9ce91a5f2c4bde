"""``GoldenSetComparison``: compare prompt versions × targets on a golden set, live.

Stock ipywidgets. Choose the golden set, the prompt's versions, the targets and the
scorers; **Estimate** shows calls, tokens, cost and duration before anything runs;
**Start** starts the run on the server and a worker thread follows it: a progress
bar, and a grid (items × version/target) that fills cell by cell as results arrive;
**Cancel** stops it. When the run ends: the summary table with the best value of
each column in bold, and the score-by-version and cost-vs-quality charts.
``dataframe`` gives the tidy results (``scope_lab.frames``).

Stable hooks for browser tests: the CSS classes ``scope-comparison``,
``scope-estimate``, ``scope-start``, ``scope-cancel``, ``scope-progress``,
``scope-busy``, ``scope-status``, and the ``data-testid`` attributes of
``_comparison``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import ipywidgets  # type: ignore[import-untyped]

from scope_lab._sync.client import Scope
from scope_lab.errors import NotFound
from scope_lab.models import GoldenItem, Run, RunEstimate, RunResult
from scope_lab.widgets._background import Jobs
from scope_lab.widgets._comparison import grid_html, summary_html
from scope_lab.widgets._messages import error_message
from scope_lab.widgets._ui import BoxWidget, busy_html, classed, status_html

if TYPE_CHECKING:
    import pandas as pd

SCORERS = ("contains", "exact_match", "similarity", "json_valid")
POLL_S = 0.5
#: How far before the newest result seen a poll starts reading again.
OVERLAP = timedelta(seconds=5)


class GoldenSetComparison(BoxWidget):
    """Run a golden set across versions and targets and watch the results arrive.

    ``GoldenSetComparison(scope, "tickets", prompt="greeting", versions=[1, 2],
    targets=[("sim", "sim-gpt-mini")])`` preselects; display it as the last expression
    of a cell. ``estimate()``, ``start()`` and ``cancel()`` return futures; ``wait()``
    blocks until the run has ended and the widget shows it all. ``close()`` stops the
    widget's threads; a started run goes on on the server (``cancel()`` stops it).
    """

    def __init__(self, scope: Scope, golden_set: str | None = None, *,
                 prompt: str | None = None, versions: Sequence[int] = (),
                 targets: Sequence[tuple[str, str]] = (),
                 scorers: Sequence[str] = ("contains", "similarity"),
                 concurrency: int = 16) -> None:
        self._scope = scope
        self._lock = threading.Lock()
        self.run: Run | None = None
        self.results: list[RunResult] = []
        self.items: list[GoldenItem] = []
        self.last_estimate: RunEstimate | None = None
        self.message = ""
        self.message_is_error = False
        self._ended = threading.Event()
        self._jobs = Jobs(2, on_busy=self._show_busy)

        self.golden_set = ipywidgets.Dropdown(description="Golden set")
        self.prompt = ipywidgets.Dropdown(description="Prompt")
        self.versions = ipywidgets.SelectMultiple(description="Versions", rows=4)
        self.targets = ipywidgets.SelectMultiple(description="Targets", rows=5)
        self.scorers = ipywidgets.SelectMultiple(options=SCORERS, value=tuple(scorers),
                                                 description="Scorers", rows=4)
        self.concurrency = ipywidgets.BoundedIntText(value=concurrency, min=1, max=256,
                                                     description="Concurrency")
        self.estimate_button = classed(ipywidgets.Button(description="Estimate",
                                                          icon="calculator"),
                                        "scope-estimate")
        self.start_button = classed(ipywidgets.Button(description="Start", icon="play",
                                                       button_style="primary"),
                                     "scope-start")
        self.cancel_button = classed(ipywidgets.Button(description="Cancel", icon="stop",
                                                        disabled=True), "scope-cancel")
        self.progress = classed(ipywidgets.IntProgress(value=0, min=0, max=1,
                                                        description="0/0"),
                                 "scope-progress")
        self.busy = classed(ipywidgets.HTML(), "scope-busy")
        self.status = classed(ipywidgets.HTML(), "scope-status")
        self.estimate_box = ipywidgets.HTML()
        self.grid = ipywidgets.HTML()
        self.summary = ipywidgets.HTML()
        self.charts = ipywidgets.Output()
        self.widget = classed(ipywidgets.VBox([
            ipywidgets.HBox([self.golden_set, self.prompt]),
            ipywidgets.HBox([self.versions, self.targets, self.scorers]),
            ipywidgets.HBox([self.concurrency, self.estimate_button, self.start_button,
                             self.cancel_button, self.busy]),
            self.estimate_box, self.status, self.progress, self.grid, self.summary,
            self.charts]), "scope-comparison")

        self.estimate_button.on_click(lambda _: self.estimate())
        self.start_button.on_click(lambda _: self.start())
        self.cancel_button.on_click(lambda _: self.cancel())
        self._jobs.submit(self._load_choices, golden_set, prompt, tuple(versions),
                          tuple(targets)).result()
        # After the first load: from now on, choosing a prompt loads its versions.
        self.prompt.observe(lambda change: self._jobs.submit(self._load_versions,
                                                             change["new"], ()),
                            names="value")

    # -- actions ------------------------------------------------------------------------

    def estimate(self) -> Future[RunEstimate]:
        """Calls, tokens, cost and duration of the chosen run; nothing is started."""
        return self._jobs.submit(self._estimate)

    def start(self) -> Future[Run]:
        """Start the run and follow it until it ends."""
        return self._jobs.submit(self._start)

    def cancel(self) -> Future[Run]:
        """Stop the run; finished cells are kept."""
        return self._jobs.submit(self._cancel)

    def wait(self, timeout: float | None = None) -> Run | None:
        """Block until the started run has ended and is shown; TimeoutError if not."""
        if self.run is not None and not self._ended.wait(timeout):
            raise TimeoutError(f"run still going after {timeout} s")
        self._jobs.wait(timeout)
        return self.run

    @property
    def dataframe(self) -> pd.DataFrame:
        """The run's tidy results (one row per item, version, target)."""
        if self.run is None:
            raise ValueError("no run yet: start() one")
        return self._scope.runs.to_dataframe(self.run, show_progress=False)

    # -- workers ------------------------------------------------------------------------

    def _load_choices(self, golden_set: str | None, prompt: str | None,
                      versions: tuple[int, ...], targets: tuple[tuple[str, str], ...]) -> None:
        try:
            sets = [s.name for s in self._scope.golden_sets.list()]
            prompts = [p.name for p in self._scope.prompts.list()]
            models = [(f"{m.provider}/{m.model}", (m.provider, m.model))
                      for m in self._scope.models.list()]
        except Exception as exc:
            self._say(error_message(exc, "load the choices"), error=True)
            raise
        self.golden_set.options = sets
        if golden_set in sets:
            self.golden_set.value = golden_set
        self.targets.options = models
        known = {value for _, value in models}
        self.targets.value = tuple(t for t in targets if t in known)
        self.prompt.options = prompts
        if prompt in prompts:
            self.prompt.value = prompt
            self._load_versions(prompt, versions)

    def _load_versions(self, prompt: str | None, chosen: tuple[int, ...]) -> None:
        if not prompt:
            return
        try:
            numbers = [v.number for v in self._scope.versions.list(prompt)]
        except Exception as exc:
            self._say(error_message(exc, "load the versions"), error=True)
            raise
        self.versions.options = [(f"v{n}", n) for n in numbers]
        self.versions.value = tuple(n for n in chosen if n in numbers)

    def _choice(self) -> dict[str, Any]:
        if not (self.golden_set.value and self.prompt.value and self.versions.value
                and self.targets.value):
            raise ValueError("choose a golden set, a prompt, versions and targets")
        return {"golden_set": self.golden_set.value, "prompt": self.prompt.value,
                "versions": list(self.versions.value), "targets": list(self.targets.value),
                "scorers": [{"type": s} for s in self.scorers.value],
                "concurrency": self.concurrency.value}

    def _estimate(self) -> RunEstimate:
        try:
            choice = self._choice()
            estimate = self._scope.runs.estimate(choice.pop("golden_set"), **choice)
        except Exception as exc:
            self._say(error_message(exc, "estimate"), error=True)
            raise
        self.last_estimate = estimate
        cost = "unknown" if estimate.cost_usd is None else f"${estimate.cost_usd:.4f}"
        self.estimate_box.value = (
            f'<div data-testid="scope-estimate">{estimate.calls} calls '
            f"(+{estimate.judge_calls} judge), ~{estimate.input_tokens} tokens in, "
            f"≤{estimate.output_tokens} out, about {cost}, about "
            f"{estimate.expected_duration_s:.0f} s at concurrency "
            f"{estimate.concurrency}</div>")
        return estimate

    def _start(self) -> Run:
        try:
            choice = self._choice()
            golden_set = choice.pop("golden_set")
            self.items = list(self._scope.golden_sets.items(golden_set))
            run = self._scope.runs.start(golden_set, **choice)
        except Exception as exc:
            self._say(error_message(exc, "start the run"), error=True)
            raise
        self._ended.clear()
        self.run, self.results = run, []
        self.summary.value = ""
        self.charts.clear_output()
        self.start_button.disabled, self.cancel_button.disabled = True, False
        self._say(f"run {run.id[:8]} started: {run.progress.total} cells")
        self._show(run)
        self._jobs.submit(self._follow, run.id)
        return run

    def _follow(self, run_id: str) -> None:
        """Poll the run, filling the grid, until it ends; then the summary and charts.

        Each poll reads only the cells completed since the newest one seen, less
        :data:`OVERLAP` (cells commit in batches, not exactly in completion order), not
        every result again; once the run has ended, one full read makes the grid exact.
        """
        try:
            cells: dict[tuple[str, int, str, str], RunResult] = {}
            newest: datetime | None = None
            while True:
                run = self._scope.runs.retrieve(run_id)
                if run.ended:
                    cells, newest = {}, None
                since = None if newest is None else newest - OVERLAP
                for result in self._scope.runs.results(run_id, since=since):
                    cells[(result.item_id, result.version, result.provider,
                           result.model)] = result
                    if result.completed_at is not None and (
                            newest is None or result.completed_at > newest):
                        newest = result.completed_at
                with self._lock:
                    self.run, self.results = run, list(cells.values())
                self._show(run)
                if run.ended:
                    break
                self._ended.wait(POLL_S)
            self._finish(run)
        except Exception as exc:
            self._say(error_message(exc, "follow the run"), error=True)
            raise
        finally:
            self.start_button.disabled, self.cancel_button.disabled = False, True
            self._ended.set()

    def _finish(self, run: Run) -> None:
        self.summary.value = summary_html(run.summary)
        self._say(f"run {run.id[:8]} {run.status}: {run.progress.done}/{run.progress.total}"
                  f" cells, {run.progress.failed} failed, ${run.spent_usd:.4f} spent")
        if run.progress.done - run.progress.failed > 0 and self.scorers.value:
            self._charts(run)

    def _charts(self, run: Run) -> None:
        from IPython.display import display as ipython_display

        from scope_lab import charts

        display = cast(Callable[..., None], ipython_display)
        frame = self._scope.runs.to_dataframe(run, show_progress=False)
        score = f"score.{self.scorers.value[0]}"
        with self.charts:
            try:
                display(charts.score_by_version(frame, score=score))
                display(charts.cost_vs_quality(frame, score=score))
            except (KeyError, ValueError) as exc:  # e.g. no scored cell at all
                print(f"no chart: {exc}")

    def _cancel(self) -> Run:
        if self.run is None:
            raise ValueError("no run to cancel")
        try:
            run = self._scope.runs.cancel(self.run)
        except NotFound:
            raise
        except Exception as exc:
            self._say(error_message(exc, "cancel the run"), error=True)
            raise
        self._say(f"run {run.id[:8]} cancelled")
        return run

    def _show(self, run: Run) -> None:
        total = max(run.progress.total, 1)
        self.progress.max, self.progress.value = total, run.progress.done
        self.progress.description = f"{run.progress.done}/{run.progress.total}"
        score = self.scorers.value[0] if self.scorers.value else None
        with self._lock:
            results = list(self.results)
        self.grid.value = grid_html(self.items, run.versions, run.targets, results, score)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message, self.message_is_error = text, error
        self.status.value = status_html(text, error=error)

    def _show_busy(self, in_flight: int) -> None:
        self.busy.value = busy_html(in_flight)

