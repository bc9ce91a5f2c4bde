"""Group commit for execution records: one writer, one transaction for what queued meanwhile.

Each ``POST /executions`` used to open its own write transaction in the thread pool.
On SQLite every write transaction is serialised, so under load the threads queued on
the database lock, and SQLite's busy handler makes a waiting writer *sleep* (1, 2, 5,
10 ms and up): at 500 requests/s throughput collapsed to ~150/s. Now requests hand
their rows to this recorder and await the commit; it writes whatever queued while the
previous transaction ran, in one transaction. A request still answers only once its
record is committed, so nothing acknowledged is ever lost.

A batch that fails on a foreign key (a prompt or provider deleted during a call) is
written again row by row, each failing row without its links (``record.save_rows``).

The writes run on the recorder's own thread, not the request thread pool: a busy pool
(slow list queries, say) must not hold back the commits every execution waits for.
That thread writes through one ``db.Writer``, which keeps its connection (and makes a write
again on a new one if the kept one turns out to have died before the commit).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scope_api.context import AppContext
from scope_api.engine import record

log = logging.getLogger("scope_api.engine")
MAX_BATCH = 256

Rows = tuple[dict[str, Any], dict[str, Any]]  # (executions row, execution_spans row)


class ExecutionRecorder:
    """Commits execution records in groups; :meth:`save` returns once its row is durable."""

    def __init__(self, ctx: AppContext) -> None:
        self._queue: asyncio.Queue[tuple[Rows, asyncio.Future[None]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._writer = ctx.database.writer()

    def start(self) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scope-recorder")
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Write what is queued, then stop (requests in flight have finished by now)."""
        while not self._queue.empty():
            await self._write(self._take())
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._writer.close)
            self._thread.shutdown(wait=True)

    async def save(self, rows: Rows) -> None:
        """Queue ``rows`` and wait until they are committed (or raise why not)."""
        if self._task is None:  # nothing would ever write the queue
            raise RuntimeError("the execution recorder is started by the app's lifespan")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put((rows, done))
        await done

    def _take(self) -> list[tuple[Rows, asyncio.Future[None]]]:
        batch: list[tuple[Rows, asyncio.Future[None]]] = []
        while not self._queue.empty() and len(batch) < MAX_BATCH:
            batch.append(self._queue.get_nowait())
        return batch

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            await self._write([first, *self._take()])

    async def _write(self, batch: list[tuple[Rows, asyncio.Future[None]]]) -> None:
        try:
            await asyncio.get_running_loop().run_in_executor(
                self._thread, record.save_rows, self._writer, [rows for rows, _ in batch])
        except Exception as exc:  # each waiting request answers with the database error
            for _, done in batch:
                if not done.done():
                    done.set_exception(exc)
            return
        for _, done in batch:
            if not done.done():
                done.set_result(None)
