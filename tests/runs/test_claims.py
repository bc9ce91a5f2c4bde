"""Claiming cells (``engine.runs.store.claim``), driven directly with the app's worker stopped."""

from __future__ import annotations

import asyncio

from sqlalchemy import select, update

from scope_api.engine.runs import store
from scope_api.models import RunCell
from tests.runs.conftest import Runs

ITEMS = [{"variables": {"n": n}, "expected": str(n)} for n in range(3)]


async def _stopped_run(runs: Runs) -> str:
    worker = runs.api.context.run_worker
    assert worker is not None
    await worker.stop()  # nothing claims but this test
    prompt = await runs.prompt("item {{ n }}")
    provider = await runs.provider()
    dataset = await runs.golden_set(ITEMS)
    response = await runs.start(dataset, prompt=prompt, versions=[1],
                                targets=[{"provider": provider, "model": "sim-gpt-mini"}])
    assert response.status_code == 202, response.text
    run_id: str = response.json()["id"]
    return run_id


def _claim(runs: Runs, owner: str) -> list[store.Claimed]:
    return store.claim(runs.api.context, owner=owner, lease_s=30, free=10, in_flight={})


async def test_a_claim_leases_cells_in_item_order_with_their_items(runs: Runs) -> None:
    run_id = await _stopped_run(runs)
    claimed = await asyncio.to_thread(_claim, runs, "worker-a")
    assert [c.variables for c in claimed] == [i["variables"] for i in ITEMS]
    assert [c.expected for c in claimed] == ["0", "1", "2"]
    assert {c.attempts for c in claimed} == {1}
    assert await asyncio.to_thread(_claim, runs, "worker-b") == []  # leased: not again
    run = await runs.run(run_id)
    assert run["status"] == "running"


async def test_a_cell_claimed_too_often_is_abandoned_not_claimed_again(runs: Runs) -> None:
    run_id = await _stopped_run(runs)
    context = runs.api.context
    with context.database.unit_of_work() as session:
        first = session.scalars(select(RunCell.id).where(RunCell.run_id == run_id)
                                .order_by(RunCell.item_position)).first()
        session.execute(update(RunCell).where(RunCell.id == first)
                        .values(attempts=store.MAX_ATTEMPTS))
    claimed = await asyncio.to_thread(_claim, runs, "worker-a")
    assert first not in {c.id for c in claimed}
    assert len(claimed) == 2
    run = await runs.run(run_id)
    assert run["progress"] == {"done": 1, "total": 3, "failed": 1}
    with context.database.unit_of_work(write=False) as session:
        cell = session.get(RunCell, first)
        assert cell is not None
        assert (cell.status, cell.lease_owner) == ("failed", None)
        assert cell.error == {"code": "abandoned",
                              "message": f"claimed {store.MAX_ATTEMPTS} times without "
                                         "finishing"}
