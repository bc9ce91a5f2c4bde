"""Golden-set runs end to end in the app: cells, scores, summary, progress, cancel, budget."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from tests.factories import V1
from tests.runs.conftest import Runs

ITEMS = [{"variables": {"city": city}, "expected": answer}
         for city, answer in [("Paris", "France"), ("Rome", "Italy"), ("Oslo", "Norway"),
                              ("Lima", "Peru")]]


async def test_a_run_executes_every_cell_once_and_summarises(runs: Runs) -> None:
    prompt = await runs.prompt("Which country is {{ city }} in?",
                               "Name the country of {{ city }}.")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS)
    targets = [{"provider": provider, "model": m} for m in ("sim-gpt-mini", "sim-claude-haiku")]
    response = await runs.start(dataset, prompt=prompt, versions=[1, 2], targets=targets,
                                scorers=[{"type": "contains"}, {"type": "similarity"},
                                         {"type": "regex", "pattern": "^Simulated",
                                          "name": "prefix"}])
    assert response.status_code == 202, response.text
    started = response.json()
    assert started["status"] == "queued"
    assert started["progress"] == {"done": 0, "total": 16, "failed": 0}

    run = await runs.wait(started["id"])
    assert run["status"] == "succeeded"
    assert run["progress"] == {"done": 16, "total": 16, "failed": 0}
    assert await runs.calls() == 16  # one provider call per cell, no more

    results = await runs.results(run["id"])
    assert len(results) == 16
    assert {(r["version"], r["model"]) for r in results} == {
        (v, m) for v in (1, 2) for m in ("sim-gpt-mini", "sim-claude-haiku")}
    for result in results:
        assert result["status"] == "succeeded"
        assert result["execution_id"]
        assert set(result["scores"]) == {"contains", "similarity", "prefix"}
        assert result["scores"]["prefix"] == 1.0
        assert 0 <= result["scores"]["similarity"] <= 1
    summary = {(e["version"], e["model"]): e for e in run["summary"]}
    assert len(summary) == 4
    for (version, model), entry in summary.items():
        mine = [r for r in results if (r["version"], r["model"]) == (version, model)]
        assert entry["count"] == 4
        assert entry["failed"] == 0
        assert entry["input_tokens"] == sum(r["input_tokens"] for r in mine)
        assert entry["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in mine))
        assert entry["scores"]["similarity"] == pytest.approx(
            sum(r["scores"]["similarity"] for r in mine) / 4)
        assert entry["latency_ms_p50"] is not None
    # Every cell is an execution too, visible in /executions.
    executions = await runs.executions(prompt=prompt, limit=200)
    assert len(executions) == 16


async def test_cells_on_a_model_outside_the_catalog_are_recorded_with_its_warning(
        runs: Runs) -> None:
    prompt = await runs.prompt("Which country is {{ city }} in?")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS[:2])
    response = await runs.start(dataset, prompt=prompt, versions=[1],
                                targets=[{"provider": provider,
                                          "model": "sim-gpt-experimental"}])
    assert response.status_code == 202, response.text
    run = await runs.wait(response.json()["id"])
    assert run["status"] == "succeeded"
    assert [r["cost_usd"] for r in await runs.results(run["id"])] == [None, None]
    # Its executions say why the cost is unknown, as POST /executions's do.
    executions = await runs.executions(prompt=prompt)
    assert [e["warnings"] for e in executions] == [
        ["model 'sim-gpt-experimental' is not in the catalog: cost unknown"]] * 2


async def test_missing_variables_are_refused_before_anything_runs(runs: Runs) -> None:
    prompt = await runs.prompt("{{ city }} is in {{ country }}")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS)
    response = await runs.start(dataset, prompt=prompt, versions=[1],
                                targets=[{"provider": provider, "model": "sim-gpt-mini"}])
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "4 item/version pairs" in error["message"]
    assert "missing variables: country" in error["message"]
    assert len(error["details"]["errors"]) == 4
    assert await runs.calls() == 0


async def test_a_run_past_the_cell_limit_is_refused_before_anything_runs(
        runs: Runs, monkeypatch: pytest.MonkeyPatch) -> None:
    """4 items × 2 versions × 2 targets = 16 cells: one over a limit of 15 is a 422 naming
    the count and the setting (and the estimate says the same); nothing is created."""
    monkeypatch.setattr(runs.api.context.settings, "run_max_cells", 15)
    prompt = await runs.prompt("{{ city }}?", "Where is {{ city }}?")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS)
    body = {"prompt": prompt, "versions": [1, 2],
            "targets": [{"provider": provider, "model": m}
                        for m in ("sim-gpt-mini", "sim-claude-haiku")]}
    message = ("the run would have 16 cells (4 items × 2 versions × 2 targets); a run may "
               "have at most 15 (SCOPE_RUN_MAX_CELLS): split the golden set or run fewer "
               "versions or targets at a time")
    for response in (await runs.start(dataset, **body), await runs.client.post(
            f"{V1}/golden-sets/{dataset}/runs/estimate", json=body, headers=runs.headers)):
        assert response.status_code == 422, response.text
        assert response.json()["error"]["message"] == message
        assert response.json()["error"]["details"]["errors"] == [
            {"loc": ["body"], "msg": message}]
    listed = await runs.client.get(f"{V1}/runs", headers=runs.headers)
    assert listed.json()["data"] == []
    assert await runs.calls() == 0

    monkeypatch.setattr(runs.api.context.settings, "run_max_cells", 16)
    started = await runs.start(dataset, **body)
    assert started.status_code == 202, started.text
    assert (await runs.wait(started.json()["id"]))["progress"]["done"] == 16


async def test_a_failing_provider_fails_its_cells_not_the_run(runs: Runs) -> None:
    prompt = await runs.prompt("Where is {{ city }}?")
    good = await runs.provider()
    bad = await runs.provider(headers={"x-simulator-fault": "500"})
    dataset = await runs.golden_set(ITEMS)
    response = await runs.start(dataset, prompt=prompt, versions=[1],
                                targets=[{"provider": good, "model": "sim-gpt-mini"},
                                         {"provider": bad, "model": "sim-gpt-mini"}],
                                scorers=[{"type": "contains"}])
    run = await runs.wait(response.json()["id"])
    assert run["status"] == "succeeded"
    assert run["progress"] == {"done": 8, "total": 8, "failed": 4}
    failed = [r for r in await runs.results(run["id"]) if r["status"] == "failed"]
    assert {r["provider"] for r in failed} == {bad}
    assert all(r["error"]["code"] == "provider_error" and r["scores"] == {} for r in failed)


async def test_rate_limits_are_retried_and_every_cell_completes(runs: Runs) -> None:
    prompt = await runs.prompt("Where is {{ city }}?")
    provider = await runs.provider(headers={"x-simulator-fault": "429",
                                            "x-simulator-fail-times": "3",
                                            "x-simulator-retry-after": "0"})
    dataset = await runs.golden_set(ITEMS)
    response = await runs.start(dataset, prompt=prompt, versions=[1],
                                targets=[{"provider": provider, "model": "sim-gpt-mini"}])
    run = await runs.wait(response.json()["id"])
    assert run["progress"] == {"done": 4, "total": 4, "failed": 0}
    assert await runs.calls() == 4 + 3  # the three 429s, then one success per cell


async def test_cancel_stops_the_run_and_keeps_finished_cells(runs: Runs) -> None:
    prompt = await runs.prompt("Where is {{ city }}?")
    provider = await runs.provider(latency_ms=300)
    dataset = await runs.golden_set(ITEMS * 10)
    response = await runs.start(dataset, prompt=prompt, versions=[1], concurrency=2,
                                targets=[{"provider": provider, "model": "sim-gpt-mini"}])
    run_id = response.json()["id"]
    for _ in range(200):  # polling the run as a client does, at most 10 s
        if (await runs.run(run_id))["progress"]["done"] >= 2:
            break
        await asyncio.sleep(0.05)
    cancelled = await runs.client.post(f"/api/v1/runs/{run_id}/cancel", headers=runs.headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    await asyncio.sleep(0.5)
    run = await runs.run(run_id)
    assert run["status"] == "cancelled"
    assert 2 <= run["progress"]["done"] < 40
    assert len(await runs.results(run_id)) == run["progress"]["done"]
    again = await runs.client.post(f"/api/v1/runs/{run_id}/cancel", headers=runs.headers)
    assert again.status_code == 409


async def test_results_since_a_time_are_the_cells_completed_from_then(runs: Runs) -> None:
    # What a client following a run asks for: only the cells that completed lately.
    prompt = await runs.prompt("Where is {{ city }}?")
    provider = await runs.provider(latency_ms=30)
    dataset = await runs.golden_set(ITEMS * 3)
    response = await runs.start(dataset, prompt=prompt, versions=[1], concurrency=1,
                                targets=[{"provider": provider, "model": "sim-gpt-mini"}])
    run = await runs.wait(response.json()["id"])
    everything = await runs.results(run["id"])
    assert len(everything) == 12
    times = sorted(datetime.fromisoformat(r["completed_at"]) for r in everything)
    assert times[0] < times[-1]  # one cell at a time: they completed one after another
    since = times[6]
    expected = [r for r in everything if datetime.fromisoformat(r["completed_at"]) >= since]
    assert 0 < len(expected) < 12
    # Same rows, same item order, over pages of 2.
    assert await runs.results(run["id"], limit=2, since=since.isoformat()) == expected
    later = since + timedelta(hours=1)
    assert await runs.results(run["id"], since=later.isoformat()) == []

    first = await runs.client.get(f"{V1}/runs/{run['id']}/results", headers=runs.headers,
                                  params={"limit": 2, "since": since.isoformat()})
    cursor = first.json()["next_cursor"]
    moved = await runs.client.get(f"{V1}/runs/{run['id']}/results", headers=runs.headers,
                                  params={"cursor": cursor, "since": later.isoformat()})
    assert moved.status_code == 400  # a cursor belongs to the since it was made with
    naive = await runs.client.get(f"{V1}/runs/{run['id']}/results", headers=runs.headers,
                                  params={"since": "2026-11-26T10:00:00"})
    assert naive.status_code == 422
    assert naive.json()["error"]["code"] == "validation_error"


async def test_a_budget_stops_the_run_when_spent(runs: Runs) -> None:
    prompt = await runs.prompt("Where is {{ city }}? Answer at length.")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS * 10)
    response = await runs.start(dataset, prompt=prompt, versions=[1], concurrency=1,
                                targets=[{"provider": provider, "model": "sim-gpt-mini"}],
                                budget_usd=0.00005)
    run = await runs.wait(response.json()["id"])
    assert run["status"] == "failed"
    assert run["error"]["code"] == "budget_exceeded"
    assert run["spent_usd"] >= 0.00005
    assert run["progress"]["done"] < 40


async def test_the_response_cache_makes_a_rerun_free(runs: Runs) -> None:
    prompt = await runs.prompt("Where is {{ city }}?")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS)
    body = {"prompt": prompt, "versions": [1], "cache": True,
            "targets": [{"provider": provider, "model": "sim-gpt-mini"}]}
    first = await runs.wait((await runs.start(dataset, **body)).json()["id"])
    second = await runs.wait((await runs.start(dataset, **body)).json()["id"])
    assert await runs.calls() == 4
    assert first["spent_usd"] > 0
    assert second["spent_usd"] == 0
    results = await runs.results(second["id"])
    assert all(r["cached"] and r["cost_usd"] == 0 for r in results)
    assert [r["output"] for r in results] == [r["output"] for r in await runs.results(
        first["id"])]


async def test_estimate_counts_calls_tokens_and_cost_without_running(runs: Runs) -> None:
    prompt = await runs.prompt("Where is {{ city }}?")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS)
    response = await runs.client.post(
        f"/api/v1/golden-sets/{dataset}/runs/estimate", headers=runs.headers,
        json={"prompt": prompt, "versions": [1], "concurrency": 2,
              "targets": [{"provider": provider, "model": "sim-gpt-mini"}],
              "parameters": {"max_tokens": 100}})
    assert response.status_code == 200, response.text
    estimate = response.json()
    assert estimate["calls"] == 4
    assert estimate["output_tokens"] == 400
    assert estimate["input_tokens"] > 0
    assert estimate["cost_usd"] > 0
    assert estimate["expected_duration_s"] == pytest.approx(2.0)  # 4 × 1 s ÷ 2
    assert await runs.calls() == 0


async def test_an_llm_judge_scores_with_its_reasoning(runs: Runs) -> None:
    prompt = await runs.prompt("Where is {{ city }}?")
    provider = await runs.provider()
    judge = await runs.provider(headers={"x-simulator-answer": "judge"})
    dataset = await runs.golden_set(ITEMS)
    response = await runs.start(dataset, prompt=prompt, versions=[1],
                                targets=[{"provider": provider, "model": "sim-gpt-mini"}],
                                scorers=[{"type": "llm_judge", "name": "judge",
                                          "rubric": "Is the country right?",
                                          "provider": judge, "model": "sim-claude-haiku"}])
    run = await runs.wait(response.json()["id"])
    results = await runs.results(run["id"])
    assert len(results) == 4
    for result in results:
        assert 0 <= result["scores"]["judge"] <= 1
        assert result["score_details"]["judge"]  # the judge's reasoning is kept
    assert run["summary"][0]["scores"]["judge"] == pytest.approx(
        sum(r["scores"]["judge"] for r in results) / 4)
    # The judge's calls cost money too: in the run's spend, not in the cells' cost.
    cells_cost = sum(r["cost_usd"] for r in results)
    assert run["spent_usd"] > cells_cost * 1.01
    assert await runs.calls() == 8  # 4 cells and 4 judge calls, under this lab's key


async def test_deleting_the_golden_set_keeps_its_runs_readable(runs: Runs) -> None:
    prompt = await runs.prompt("Where is {{ city }}?")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS)
    response = await runs.start(dataset, prompt=prompt, versions=[1],
                                targets=[{"provider": provider, "model": "sim-gpt-mini"}])
    run = await runs.wait(response.json()["id"])
    deleted = await runs.client.delete(f"/api/v1/golden-sets/{dataset}", headers=runs.headers)
    assert deleted.status_code == 204
    again = await runs.run(run["id"])
    assert (again["golden_set"], again["status"], again["progress"]) == (
        dataset, "succeeded", run["progress"])
    assert len(await runs.results(run["id"])) == 4
    listed = await runs.client.get("/api/v1/runs", params={"golden_set": dataset},
                                   headers=runs.headers)
    assert [r["id"] for r in listed.json()["data"]] == [run["id"]]


async def test_a_provider_timeout_fails_the_cell_quickly(runs: Runs) -> None:
    prompt = await runs.prompt("Where is {{ city }}?")
    slow = await runs.provider(headers={"x-simulator-fault": "timeout",
                                        "x-simulator-delay-ms": "5000"}, timeout_s=0.3)
    dataset = await runs.golden_set(ITEMS)
    response = await runs.start(dataset, prompt=prompt, versions=[1],
                                targets=[{"provider": slow, "model": "sim-gpt-mini"}])
    run = await runs.wait(response.json()["id"], timeout_s=15)
    assert run["progress"] == {"done": 4, "total": 4, "failed": 4}
    results = await runs.results(run["id"])
    assert {r["error"]["code"] for r in results} == {"provider_timeout"}


async def test_json_answers_are_scored_against_a_schema(runs: Runs) -> None:
    prompt = await runs.prompt("Answer in JSON: where is {{ city }}?")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS)
    schema = {"type": "object", "required": ["answer"],
              "properties": {"answer": {"type": "string"}}}
    strict = {"type": "object", "required": ["country_code"]}
    response = await runs.start(
        dataset, prompt=prompt, versions=[1], parameters={"response_format": "json"},
        targets=[{"provider": provider, "model": "sim-gpt-mini"}],
        scorers=[{"type": "json_valid"}, {"type": "json_schema", "schema": schema},
                 {"type": "json_schema", "schema": strict, "name": "strict"}])
    run = await runs.wait(response.json()["id"])
    for result in await runs.results(run["id"]):
        assert result["scores"] == {"json_valid": 1.0, "json_schema": 1.0, "strict": 0.0}
        assert "country_code" in result["score_details"]["strict"]


async def test_a_base_url_refused_at_call_time_fails_its_cells_saying_why(
        runs: Runs, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """As for POST /executions: the URL is checked again before each call. A refused
    one is the cell's error (not an internal one), and the provider is not called."""
    local = await runs.local_provider(monkeypatch)
    prompt = await runs.prompt("Where is {{ city }}?")
    dataset = await runs.golden_set(ITEMS[:2])
    monkeypatch.setattr(runs.api.context.settings, "allow_private_provider_urls", False)
    response = await runs.start(dataset, prompt=prompt, versions=[1],
                                targets=[{"provider": local, "model": "sim-gpt-mini"}])
    assert response.status_code == 202, response.text
    run = await runs.wait(response.json()["id"])
    assert run["progress"] == {"done": 2, "total": 2, "failed": 2}
    for result in await runs.results(run["id"]):
        assert result["error"]["code"] == "cell_error"
        assert result["error"]["message"].startswith(f"provider '{local}': ")
        assert "SCOPE_ALLOW_PRIVATE_PROVIDER_URLS" in result["error"]["message"]
    assert await runs.calls() == 0
    assert "failed unexpectedly" not in caplog.text


@pytest.mark.parametrize(("body", "says"), [
    ('"scorers": [{"type": "json_schema", "schema": {"const": "\\ud83d"}}]',
     "lone UTF-16 surrogate"),
    ('"scorers": [{"type": "json_schema", "schema": {"maximum": Infinity}}]',
     "NaN or Infinity"),
    ('"versions": [2147483648]', "less than or equal to 2147483647"),
])
async def test_run_bodies_json_or_the_database_could_not_carry_are_a_422(
        runs: Runs, body: str, says: str) -> None:
    """The surrogate was stored with the run and made GET /runs a 500 from then on; the
    infinity was stored as null and failed every cell; the version overflowed the
    database's integer."""
    prompt = await runs.prompt("Where is {{ city }}?")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS[:1])
    fields = {"prompt": f'"{prompt}"', "versions": "[1]",
              "targets": f'[{{"provider": "{provider}", "model": "sim-gpt-mini"}}]'}
    key = body.split('"')[1]
    fields[key] = body.split(": ", 1)[1]
    raw = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"
    for path in ("runs", "runs/estimate"):
        response = await runs.client.post(
            f"{V1}/golden-sets/{dataset}/{path}", content=raw,
            headers={**runs.headers, "content-type": "application/json"})
        assert response.status_code == 422, response.text
        assert says in response.text
    listed = await runs.client.get(f"{V1}/runs", headers=runs.headers)
    assert listed.status_code == 200
    assert listed.json()["data"] == []
    assert await runs.calls() == 0
