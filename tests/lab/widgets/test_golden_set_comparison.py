"""GoldenSetComparison against a live server: estimate, a live grid, summary, cancel."""

from __future__ import annotations

from typing import Any

import pytest

from scope_lab.models import SummaryEntry
from scope_lab.widgets import GoldenSetComparison
from scope_lab.widgets._comparison import summary_html
from tests.lab.widgets.conftest import WAIT_S, Lab, unique

ITEMS = [{"variables": {"city": c}, "expected": e}
         for c, e in [("Paris", "Paris"), ("Rome", "Italy"), ("Oslo", "Oslo")]]


def setup(lab: Lab, *, latency_ms: float | None = None) -> tuple[str, str, str]:
    prompt = lab.prompt("Where is {{ city }}?", "Tell me about {{ city }}.")
    provider = unique("sim")
    options = {} if latency_ms is None else {"latency_ms": latency_ms}
    lab.scope.providers.create(provider, "simulator", options=options)
    dataset = unique("set")
    lab.scope.golden_sets.create(dataset, items=ITEMS)
    return prompt, provider, dataset


def comparison(lab: Lab, **kwargs: object) -> GoldenSetComparison:
    widget = GoldenSetComparison(lab.scope, **kwargs)  # type: ignore[arg-type]
    lab._widgets.append(widget)
    return widget


def test_estimate_then_a_run_fills_the_grid_and_summarises(lab: Lab) -> None:
    prompt, provider, dataset = setup(lab)
    widget = comparison(lab, golden_set=dataset, prompt=prompt, versions=[1, 2],
                        targets=[(provider, "sim-gpt-mini"), (provider, "sim-claude-haiku")])
    assert widget.versions.value == (1, 2)
    estimate = widget.estimate().result(WAIT_S)
    assert estimate.calls == 12
    assert "12 calls" in widget.estimate_box.value

    widget.start_button.click()
    widget._jobs.wait(WAIT_S)  # the start request itself
    run = widget.wait(WAIT_S)
    assert run is not None
    assert run.status == "succeeded"
    assert widget.progress.value == widget.progress.max == 12
    assert widget.grid.value.count('data-testid="scope-run-cell"') == 12
    assert 'data-status="waiting"' not in widget.grid.value
    assert widget.summary.value.count('data-testid="scope-summary-row"') == 4
    assert 'data-testid="scope-best"' in widget.summary.value
    assert widget.cancel_button.disabled
    assert not widget.start_button.disabled
    assert len(widget.dataframe) == 12
    assert "succeeded: 12/12 cells" in widget.message


def test_following_a_run_reads_only_the_new_results_then_all_once(lab: Lab) -> None:
    prompt, provider, dataset = setup(lab, latency_ms=300)  # ~2 s: several polls
    widget = comparison(lab, golden_set=dataset, prompt=prompt, versions=[1, 2],
                        targets=[(provider, "sim-gpt-mini")], concurrency=1)
    asked: list[object] = []
    read = widget._scope.runs.results

    def results(run_id: str, **kwargs: Any) -> Any:  # the real call, noting what it asked
        asked.append(kwargs.get("since"))
        return read(run_id, **kwargs)

    widget._scope.runs.results = results  # type: ignore[method-assign]
    widget.start().result(WAIT_S)
    run = widget.wait(WAIT_S)
    assert run is not None
    assert run.status == "succeeded"
    assert any(since is not None for since in asked[1:-1]), asked  # polls while it ran
    assert asked[-1] is None  # and one full read at the end
    assert len(widget.results) == 6
    assert widget.grid.value.count('data-testid="scope-run-cell"') == 6
    assert 'data-status="waiting"' not in widget.grid.value


def test_cancel_stops_a_slow_run(lab: Lab) -> None:
    prompt, provider, dataset = setup(lab, latency_ms=2000)
    widget = comparison(lab, golden_set=dataset, prompt=prompt, versions=[1],
                        targets=[(provider, "sim-gpt-mini")], concurrency=1)
    widget.start().result(WAIT_S)
    assert not widget.cancel_button.disabled
    widget.cancel().result(WAIT_S)
    run = widget.wait(WAIT_S)
    assert run is not None
    assert run.status == "cancelled"
    assert "cancelled" in widget.message


def test_choices_missing_is_a_message(lab: Lab) -> None:
    widget = comparison(lab)
    with pytest.raises(ValueError, match="choose a golden set"):
        widget.start().result(WAIT_S)
    widget._jobs.wait(WAIT_S)
    assert widget.message_is_error
    assert "choose a golden set" in widget.message


def test_the_summary_marks_the_best_value_of_each_column() -> None:
    entries = [SummaryEntry(version=v, provider="p", model="m", count=3, failed=0,
                            scores={"contains": s}, latency_ms_p50=ms, latency_ms_p95=ms,
                            input_tokens=1, output_tokens=1, cost_usd=c)
               for v, s, ms, c in [(1, 0.5, 120.0, 0.002), (2, 0.9, 300.0, 0.001)]]
    table = summary_html(entries)
    best = table.split('data-testid="scope-best"')
    # v2 has the best score and cost, v1 the best latencies; failed ties are both best.
    assert len(best) - 1 == 2 + 2 + 2
