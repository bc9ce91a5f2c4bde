"""A run's concurrency slot is given up while a call waits to be retried."""

from __future__ import annotations

import asyncio
import contextlib

from scope_api.engine.runs.worker import RunSlot


async def test_another_cell_calls_while_one_waits_for_its_retry() -> None:
    gate = asyncio.Semaphore(1)
    order: list[str] = []

    async def retried() -> None:
        async with RunSlot(gate) as slot:
            order.append("a calls")
            await slot.sleep(0.1)  # Retry-After: the slot is free meanwhile
            order.append("a retries")

    async def other() -> None:
        await asyncio.sleep(0.02)
        async with RunSlot(gate):
            order.append("b calls")

    await asyncio.gather(retried(), other())
    assert order == ["a calls", "b calls", "a retries"]
    assert not gate.locked()


async def test_a_cell_cancelled_while_waiting_never_frees_a_slot_twice() -> None:
    gate = asyncio.Semaphore(1)

    async def retried() -> None:
        async with RunSlot(gate) as slot:
            await slot.sleep(10)

    task = asyncio.create_task(retried())
    await asyncio.sleep(0.01)
    async with RunSlot(gate):  # taken while the first waits to retry
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert gate.locked()  # still exactly one slot, held here
    assert not gate.locked()
    await gate.acquire()
    assert gate.locked()  # and no second one appeared
