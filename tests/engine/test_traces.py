"""GET /traces and /traces/{trace_id}: Scope's own record of execution spans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.engine.conftest import Lab
from tests.factories import V1


async def _spans(lab: Lab, **params: Any) -> list[dict[str, Any]]:
    response = await lab.client.get(f"{V1}/traces", params=params, headers=lab.headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def test_every_execution_has_one_span_with_its_figures(lab: Lab) -> None:
    greet, ask = await lab.prompt("Hello {{ name }}"), await lab.prompt("Ask {{ name }}")
    provider = await lab.provider()
    broken = await lab.provider(headers={"x-simulator-fault": "500"})
    before = datetime.now(UTC) - timedelta(seconds=1)
    ok1 = (await lab.execute(prompt=greet, provider=provider, model="sim-gpt-mini",
                             variables={"name": "Ada"},
                             parameters={"temperature": 0.5, "max_tokens": 40})).json()
    ok2 = (await lab.execute(prompt=ask, provider=provider, model="sim-claude-haiku",
                             variables={"name": "Bo"})).json()
    failure = await lab.execute(prompt=ask, provider=broken, model="sim-gpt-mini",
                                variables={"name": "Cy"})
    assert failure.status_code == 502
    failed_id = failure.json()["error"]["details"]["execution_id"]
    failed = (await lab.client.get(f"{V1}/executions/{failed_id}", headers=lab.headers)).json()

    spans = await _spans(lab)
    assert [(s["trace_id"], s["span_id"]) for s in spans] == [
        (e["trace_id"], e["span_id"]) for e in (failed, ok2, ok1)]
    by_execution = {s["attributes"]["scope.execution.id"]: s for s in spans}
    for e in (ok1, ok2):
        span = by_execution[e["id"]]
        attrs = span["attributes"]
        assert span["name"] == f"chat {e['model']}"
        assert span["status"] == "ok"
        assert span["duration_ms"] >= e["latency_ms"]
        assert attrs["gen_ai.operation.name"] == "chat"
        assert attrs["gen_ai.provider.name"] == "scope.simulator"
        assert attrs["gen_ai.request.model"] == attrs["gen_ai.response.model"] == e["model"]
        assert attrs["gen_ai.usage.input_tokens"] == e["input_tokens"]
        assert attrs["gen_ai.usage.output_tokens"] == e["output_tokens"]
        assert attrs["scope.cost_usd"] == e["cost_usd"]
        assert (attrs["scope.prompt.name"], attrs["scope.prompt.version"]) == (e["prompt"], 1)
        assert (attrs["scope.provider.name"], attrs["scope.tenant"]) == (provider, "acme")
        assert "gen_ai.input.messages" not in attrs  # content capture is off by default
        assert "gen_ai.output.messages" not in attrs
    assert by_execution[ok1["id"]]["attributes"]["gen_ai.request.temperature"] == 0.5
    assert by_execution[ok1["id"]]["attributes"]["gen_ai.request.max_tokens"] == 40
    failed_span = by_execution[failed_id]
    assert failed_span["status"] == "error"
    assert failed_span["attributes"]["error.type"] == "500"
    assert "gen_ai.usage.input_tokens" not in failed_span["attributes"]

    assert {s["span_id"] for s in await _spans(lab, prompt=ask)} == {
        ok2["span_id"], failed["span_id"]}
    assert [s["span_id"] for s in await _spans(lab, model="sim-claude-haiku")] == [
        ok2["span_id"]]
    assert [s["span_id"] for s in await _spans(lab, status="error")] == [failed["span_id"]]
    assert len(await _spans(lab, since=before.isoformat())) == 3
    assert await _spans(lab, until=before.isoformat()) == []
    middle = spans[1]["start"]  # ok2's start: since is inclusive, until exclusive
    assert [s["span_id"] for s in await _spans(lab, since=middle)] == [
        failed["span_id"], ok2["span_id"]]
    assert [s["span_id"] for s in await _spans(lab, until=middle)] == [ok1["span_id"]]

    pages: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await lab.client.get(f"{V1}/traces", params=params,
                                     headers=lab.headers)).json()
        pages += [s["span_id"] for s in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [s["span_id"] for s in spans]

    one = await lab.client.get(f"{V1}/traces/{ok1['trace_id']}", headers=lab.headers)
    assert one.status_code == 200
    assert one.json() == [by_execution[ok1["id"]]]


async def test_unknown_and_malformed_traces(lab: Lab) -> None:
    missing = await lab.client.get(f"{V1}/traces/{'a' * 32}", headers=lab.headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    malformed = await lab.client.get(f"{V1}/traces/not-a-trace", headers=lab.headers)
    assert malformed.status_code == 422
    for bad in ({"since": "soon"}, {"until": "2026-11-26"}, {"status": "failed"}):
        response = await lab.client.get(f"{V1}/traces", params=bad, headers=lab.headers)
        assert response.status_code == 422, (bad, response.text)


@pytest.mark.parametrize(("path", "param", "value"), [
    ("/executions", "since", "0001-01-01T00:00:00+01:00"),
    ("/traces", "since", "0001-01-01T00:00:00+01:00"),
    ("/traces", "until", "9999-12-31T23:59:59-05:00"),
    (f"/runs/{'0' * 32}/results", "since", "9999-12-31T23:59:59-05:00"),  # no such run
])
async def test_a_time_filter_outside_the_calendar_in_utc_is_a_422(
        lab: Lab, path: str, param: str, value: str) -> None:
    """Valid RFC 3339 times that fall before year 1 or after 9999 once in UTC: they used
    to reach the database layer and come back as a 500."""
    response = await lab.client.get(f"{V1}{path}", params={param: value},
                                    headers=lab.headers)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["details"]["errors"][0]["loc"] == ["query", param]
    assert "within the years 1 to 9999 in UTC" in error["details"]["errors"][0]["msg"]
    edge = await lab.client.get(f"{V1}/traces", params={param: "0001-01-01T00:00:00Z"},
                                headers=lab.headers)
    assert edge.status_code == 200, edge.text  # the first instant in UTC is fine
