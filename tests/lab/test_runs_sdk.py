"""scope.runs against a real server: start, estimate, wait, results, DataFrame, cancel."""

from __future__ import annotations

from datetime import timedelta

import pytest

import scope_lab
from scope_lab import AsyncScope, Scope
from tests.lab.test_client import unique
from tests.live import LiveServer

ITEMS = [{"variables": {"city": c}, "expected": e, "metadata": {"i": i}}
         for i, (c, e) in enumerate([("Paris", "France"), ("Rome", "Italy"),
                                     ("Oslo", "Norway")])]


def setup(scope: Scope, *, latency_ms: float | None = None) -> tuple[str, str, str]:
    prompt, provider, dataset = unique("p"), unique("sim"), unique("set")
    scope.prompts.create(prompt)
    scope.versions.create(prompt, "Where is {{ city }}?")
    scope.versions.create(prompt, "Which country has {{ city }}?")
    options = {} if latency_ms is None else {"latency_ms": latency_ms}
    scope.providers.create(provider, "simulator", options=options)
    scope.golden_sets.create(dataset, items=ITEMS)
    return prompt, provider, dataset


def test_a_run_from_start_to_dataframe(scope: Scope) -> None:
    prompt, provider, dataset = setup(scope)
    targets = [(provider, "sim-gpt-mini"), {"provider": provider, "model": "sim-claude-haiku"}]
    estimate = scope.runs.estimate(dataset, prompt=prompt, versions=[1, 2], targets=targets)
    assert estimate.calls == 12
    run = scope.runs.start(dataset, prompt=prompt, versions=[1, 2], targets=targets,
                           scorers=[{"type": "contains"}, {"type": "similarity"}])
    assert run.progress.total == 12
    done = scope.runs.wait(run.id, timeout_s=60, show_progress=False)
    assert done.status == "succeeded"
    assert done.ended
    assert done.progress.done == 12
    assert done.progress.failed == 0
    assert {(e.version, e.model) for e in done.summary} == {
        (v, m) for v in (1, 2) for m in ("sim-gpt-mini", "sim-claude-haiku")}

    results = list(scope.runs.results(run.id))
    assert len(results) == 12
    assert all(set(r.scores) == {"contains", "similarity"} for r in results)
    newest = max(r.completed_at for r in results if r.completed_at is not None)
    latest = list(scope.runs.results(run.id, since=newest))  # the last batch's cells
    assert len(latest) == sum(r.completed_at == newest for r in results)
    assert list(scope.runs.results(run.id, since=newest.isoformat())) == latest
    assert list(scope.runs.results(run.id, since=newest + timedelta(seconds=1))) == []

    frame = scope.runs.to_dataframe(run)  # a Run or its id
    assert len(frame) == 12
    assert {"var.city", "expected", "score.contains", "score.similarity", "output",
            "cost_usd", "latency_ms", "target"} <= set(frame.columns)
    paris = frame[frame["var.city"] == "Paris"]
    assert len(paris) == 4
    assert set(paris["expected"]) == {"France"}
    assert frame["cost_usd"].sum() == pytest.approx(sum(e.cost_usd for e in done.summary))
    summary = scope_lab.stats.summary(frame, score="score.similarity")
    assert len(summary) == 4
    assert [r.id for r in scope.runs.list(golden_set=dataset)] == [run.id]


def test_a_run_that_cannot_render_is_refused_with_the_items(scope: Scope) -> None:
    prompt, provider, dataset = setup(scope)
    scope.versions.create(prompt, "{{ city }} and {{ river }}")
    with pytest.raises(scope_lab.ValidationError) as refused:
        scope.runs.start(dataset, prompt=prompt, versions=[3],
                         targets=[(provider, "sim-gpt-mini")])
    assert "missing variables: river" in refused.value.message
    assert len(refused.value.errors) == 3


def test_wait_times_out_and_cancel_stops(scope: Scope) -> None:
    prompt, provider, dataset = setup(scope, latency_ms=2000)
    run = scope.runs.start(dataset, prompt=prompt, versions=[1], concurrency=1,
                           targets=[(provider, "sim-gpt-mini")])
    with pytest.raises(scope_lab.RunTimeout, match="still"):
        scope.runs.wait(run.id, timeout_s=0.3, poll_s=0.1, show_progress=False)
    cancelled = scope.runs.cancel(run.id)
    assert cancelled.status == "cancelled"
    with pytest.raises(scope_lab.Conflict):
        scope.runs.cancel(run.id)


async def test_the_async_client_waits_too(scope: Scope, live: LiveServer) -> None:
    prompt, provider, dataset = setup(scope)
    async with AsyncScope(live.base_url, live.api_key) as client:
        run = await client.runs.start(dataset, prompt=prompt, versions=[1],
                                      targets=[(provider, "sim-gpt-mini")])
        done = await client.runs.wait(run.id, timeout_s=60, poll_s=0.1, show_progress=False)
        assert done.progress.done == 3
        assert len([r async for r in client.runs.results(run.id)]) == 3
