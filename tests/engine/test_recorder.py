"""Execution records are committed in groups: none lost, none mixed up, none refused."""

from __future__ import annotations

import asyncio
import threading

import anyio.to_thread

from tests.api.test_bulk_insert import lose_connections
from tests.engine.conftest import Lab
from tests.factories import V1

MODEL = "sim-gpt-mini"


async def test_concurrent_executions_are_each_recorded_once_with_their_own_span(
        lab: Lab) -> None:
    prompt = await lab.prompt("item {{ n }}")
    provider = await lab.provider()
    answers = await asyncio.gather(*(
        lab.execute(prompt=prompt, provider=provider, model=MODEL, variables={"n": n})
        for n in range(40)))
    assert [a.status_code for a in answers] == [201] * 40
    by_id = {a.json()["id"]: a.json() for a in answers}
    assert len(by_id) == 40

    listed = await lab.executions(prompt=prompt, limit=100)
    assert sorted(e["id"] for e in listed) == sorted(by_id)
    for recorded in listed:
        answered = by_id[recorded["id"]]
        assert recorded["rendered"] == answered["rendered"]
        assert recorded["output"] == answered["output"]
    for answered in list(by_id.values())[:5]:
        trace = await lab.client.get(f"{V1}/traces/{answered['trace_id']}",
                                     headers=lab.headers)
        assert trace.status_code == 200
        assert [s["span_id"] for s in trace.json()] == [answered["span_id"]]


async def test_a_provider_deleted_during_its_call_still_gets_its_execution_recorded(
        lab: Lab) -> None:
    """Its row cannot link to the deleted provider; the others committed alongside keep
    their links."""
    prompt = await lab.prompt("item {{ n }}")
    doomed = await lab.provider(latency_ms=400)
    kept = await lab.provider(latency_ms=400)
    calls = [asyncio.ensure_future(lab.execute(prompt=prompt, provider=name, model=MODEL,
                                               variables={"n": n}))
             for n, name in enumerate([doomed, kept, kept])]
    for _ in range(500):  # until all three are at the provider (another process's count)
        if await lab.calls() == 3:
            break
        await asyncio.sleep(0.01)
    assert await lab.calls() == 3
    deleted = await lab.client.delete(f"{V1}/providers/{doomed}", headers=lab.headers)
    assert deleted.status_code == 204
    answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [201, 201, 201], answers[0].text
    listed = {e["id"]: e for e in await lab.executions(prompt=prompt)}
    assert {listed[a.json()["id"]]["provider"] for a in answers} == {doomed, kept}
    assert all(listed[a.json()["id"]]["output"] for a in answers)


async def test_records_are_written_while_the_request_thread_pool_is_full(lab: Lab) -> None:
    """The recorder writes on its own thread: requests holding every pool thread (slow
    list queries, say) do not hold back the commit each execution waits for."""
    prompt = await lab.prompt("item {{ n }}")
    provider = await lab.provider()
    first = await lab.execute(prompt=prompt, provider=provider, model=MODEL,
                              variables={"n": 0})
    assert first.status_code == 201  # its target is cached now: no pool thread needed

    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens, limiter.total_tokens = limiter.total_tokens, 2
    release = threading.Event()
    blockers = [asyncio.ensure_future(anyio.to_thread.run_sync(release.wait))
                for _ in range(2)]
    try:
        await asyncio.sleep(0.05)
        assert limiter.borrowed_tokens == 2
        answer = await asyncio.wait_for(
            lab.execute(prompt=prompt, provider=provider, model=MODEL, variables={"n": 1}),
            timeout=10)
        assert answer.status_code == 201, answer.text
    finally:
        release.set()
        await asyncio.gather(*blockers)
        limiter.total_tokens = tokens
    listed = await lab.executions(prompt=prompt)
    assert answer.json()["id"] in {e["id"] for e in listed}


async def test_executions_carry_on_when_the_recorders_connection_is_lost(lab: Lab) -> None:
    """A database restart between two executions (on PostgreSQL, every connection to it
    terminated) costs the next execution nothing: its record is written on a new
    connection and the execution answers 201, recorded once."""
    prompt = await lab.prompt("item {{ n }}")
    provider = await lab.provider()
    before = await lab.execute(prompt=prompt, provider=provider, model=MODEL,
                               variables={"n": 1})
    assert before.status_code == 201
    context = lab.api.app.state.context
    await anyio.to_thread.run_sync(
        lose_connections, context.database, context.recorder._writer)  # its kept one

    after = await lab.execute(prompt=prompt, provider=provider, model=MODEL,
                              variables={"n": 2})

    assert after.status_code == 201, after.text
    listed = await lab.executions(prompt=prompt)
    assert sorted(e["id"] for e in listed) == sorted([before.json()["id"],
                                                      after.json()["id"]])
