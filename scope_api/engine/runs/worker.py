"""The run worker: one per server process, claiming and executing cells in the background.

A loop (woken when a run is created, else every ``poll_s``) claims cells up to the
free capacity, starts one task per cell, renews the leases of cells in flight,
cancels tasks whose run was cancelled or stopped, and marks finished runs. On a
clean shutdown it cancels its tasks and hands their cells back; after a crash the
leases run out and any worker (this one restarted, or another replica) resumes
the missing cells only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from scope_api.context import AppContext
from scope_api.engine.http import provider_http_client
from scope_api.engine.runs import cell as cells
from scope_api.engine.runs import store
from scope_api.engine.runs.judging import Judge
from scope_api.engine.runs.limiter import Limits
from scope_api.errors import ScopeError

log = logging.getLogger("scope_api.runs")
RECORD_ATTEMPTS = 4
GATHER_S = 0.01
CLAIM_BATCH_SHARE = 8  # claim once an eighth of the capacity is free
RECORD_GATHER_S = 0.02
RECORD_BATCH = 256


class RunWorker:
    """Executes the cells of active runs; see the module docstring."""

    def __init__(self, ctx: AppContext) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.owner = f"worker-{uuid.uuid4().hex[:16]}"
        self.lease_s = settings.run_lease_s
        self.poll_s = settings.run_poll_s
        self.capacity = settings.run_max_in_flight
        self.limits = Limits(settings.run_provider_concurrency)
        self._tasks: dict[asyncio.Task[None], store.Claimed] = {}
        # One load per run, shared by its cells (a claim starts up to 128 at once).
        self._plans: dict[str, asyncio.Future[cells.RunPlan]] = {}
        # Each run's concurrency bounds its provider calls; more cells are claimed than
        # that, so the next call starts the moment one ends (not a claim later).
        self._gates: dict[str, asyncio.Semaphore] = {}
        self._wake = asyncio.Event()
        self._finished: asyncio.Queue[tuple[store.Claimed, store.CellOutcome,
                                            asyncio.Future[bool]]] = asyncio.Queue()
        self._loop_task: asyncio.Task[None] | None = None
        self._recorder_task: asyncio.Task[None] | None = None
        self._http = provider_http_client(
            allow_private=lambda: ctx.settings.allow_private_provider_urls)

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._recorder_task = loop.create_task(self._recorder())
        self._loop_task = loop.create_task(self._loop())

    def wake(self) -> None:
        """A run was created or resumed: look for work now."""
        self._wake.set()

    async def stop(self) -> None:
        """Cancel in-flight cells and hand them back, so a restart resumes at once."""
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._recorder_task is not None:
            self._recorder_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recorder_task
        await self._http.aclose()
        try:
            await run_in_threadpool(store.release, self.ctx, owner=self.owner)
        except Exception:  # the database may be gone at shutdown; leases then expire
            log.warning("could not hand back run cells at shutdown", exc_info=True)

    async def _loop(self) -> None:
        last_slow = last_renew = float("-inf")
        while True:
            try:
                now = time.monotonic()
                slow = now - last_slow >= self.poll_s
                await self._tick(slow=slow)
                if slow:
                    last_slow = now
                if now - last_renew > self.lease_s / 3:
                    await run_in_threadpool(store.renew, self.ctx, owner=self.owner,
                                            cell_ids=[c.id for c in self._tasks.values()],
                                            lease_s=self.lease_s)
                    last_renew = now
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not kill the worker
                log.exception("run worker iteration failed; retrying")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
            # Let the completions of the next few milliseconds gather: one claim for many.
            await asyncio.sleep(GATHER_S)

    async def _tick(self, *, slow: bool) -> None:
        """Claim work for free slots; now and then, stop cancelled runs and end idle ones."""
        ctx = self.ctx
        in_flight: dict[str, int] = {}
        for claimed in self._tasks.values():
            in_flight[claimed.run_id] = in_flight.get(claimed.run_id, 0) + 1
        if slow and in_flight:
            status = await run_in_threadpool(store.statuses, ctx, in_flight)
            for task, claimed in list(self._tasks.items()):
                if status.get(claimed.run_id) not in ("queued", "running"):
                    task.cancel()
        free = self.capacity - len(self._tasks)
        # Claim in batches while a backlog of claimed cells remains: each claim is a
        # write transaction whose Python work in a thread competes with the event loop
        # for the GIL, and one per few completions delayed every call (bench_runs).
        if free >= max(1, self.capacity // CLAIM_BATCH_SHARE) or \
                (free > 0 and len(self._tasks) <= self.capacity // 2):
            claimed_cells = await run_in_threadpool(
                store.claim, ctx, owner=self.owner, lease_s=self.lease_s, free=free,
                in_flight=in_flight)
            for claimed in claimed_cells:
                task = asyncio.get_running_loop().create_task(self._execute(claimed))
                self._tasks[task] = claimed
                task.add_done_callback(self._done)
        if slow:
            await run_in_threadpool(store.finish_runs, ctx)
            busy = {c.run_id for c in self._tasks.values()}
            for run_id in set(self._plans) - busy:  # reloaded if the run has more cells
                self._plans.pop(run_id, None)
                self._gates.pop(run_id, None)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)
        self._wake.set()  # room for another cell

    async def _execute(self, claimed: store.Claimed) -> None:
        try:
            outcome = await self._outcome(await self._plan(claimed.run_id), claimed)
        except asyncio.CancelledError:
            raise
        except ScopeError as exc:
            outcome = cells.failed(exc.message)
        except Exception as exc:  # recorded on the cell; the run goes on
            log.exception("run %s cell %s failed unexpectedly", claimed.run_id, claimed.id)
            outcome = cells.failed(f"internal error: {type(exc).__name__}", code="internal")
        try:
            recorded = await self._record(claimed, outcome)
        except SQLAlchemyError:
            # The database stayed unreachable through every retry: the cell keeps its
            # lease, which runs out, and the cell is executed again later. Say so.
            log.exception("run %s cell %s: could not record its result", claimed.run_id,
                          claimed.id)
            return
        if not recorded:
            log.warning("run %s cell %s: lease lost before recording", claimed.run_id,
                        claimed.id)

    async def _plan(self, run_id: str) -> cells.RunPlan:
        loading = self._plans.get(run_id)
        if loading is None:
            loading = self._plans[run_id] = asyncio.ensure_future(
                run_in_threadpool(cells.load_plan, self.ctx, run_id))
        try:
            # Shielded: one cell cancelled must not cancel the load its siblings await.
            return await asyncio.shield(loading)
        except Exception:
            if self._plans.get(run_id) is loading:
                del self._plans[run_id]  # the next cell tries again
            raise

    async def _record(self, claimed: store.Claimed, outcome: store.CellOutcome) -> bool:
        """Queue the result for the recorder and wait until it is committed."""
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._finished.put((claimed, outcome, done))
        return await done

    async def _recorder(self) -> None:
        """Commit finished cells in groups: whatever finished while the last commit ran."""
        while True:
            batch = [await self._finished.get()]
            # A moment for the cells finishing alongside: fewer, larger transactions.
            # No provider slot waits on this (a cell's gate is released at its answer).
            await asyncio.sleep(RECORD_GATHER_S)
            while not self._finished.empty() and len(batch) < RECORD_BATCH:
                batch.append(self._finished.get_nowait())
            pairs = [(claimed, outcome) for claimed, outcome, _ in batch]
            try:
                recorded = await self._commit(pairs)
            except Exception as exc:  # the cells stay leased; they are retried elsewhere
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for (*_, done), ok in zip(batch, recorded, strict=True):
                if not done.done():
                    done.set_result(ok)

    async def _commit(self, pairs: list[tuple[store.Claimed, store.CellOutcome]]
                      ) -> list[bool]:
        # A call was made (and paid for) for each of these: try hard before giving up.
        for attempt in range(RECORD_ATTEMPTS):
            try:
                return await run_in_threadpool(store.complete, self.ctx, owner=self.owner,
                                               done=pairs)
            except SQLAlchemyError:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                log.warning("recording %d run cells failed; retrying", len(pairs),
                            exc_info=True)
                await asyncio.sleep(0.5 * 2 ** attempt)
        return [False] * len(pairs)

    async def _outcome(self, plan: cells.RunPlan, claimed: store.Claimed
                       ) -> store.CellOutcome:
        ctx = self.ctx
        prepared = cells.prepare(plan, claimed)
        key = cells.cache_key(prepared) if plan.use_cache else None
        if key is not None:
            entry = await run_in_threadpool(store.cache_get, ctx, tenant_id=plan.tenant_id,
                                            key=key)
            if entry is not None:
                return await cells.scored(ctx, plan, claimed, prepared,
                                          cells.from_cache(entry), Judge(ctx, plan.tenant_id))
        limit = self.limits.for_provider(plan.tenant_id, claimed.provider)
        gate = self._gates.get(claimed.run_id)
        if gate is None:
            gate = self._gates[claimed.run_id] = asyncio.Semaphore(plan.concurrency)
        async with RunSlot(gate) as slot:
            outcome = await cells.call(ctx, plan, claimed, prepared, limit,
                                       client=self._http, sleep=slot.sleep)
        if key is not None and outcome.status == "succeeded" and outcome.output is not None:
            await run_in_threadpool(store.cache_put, ctx, tenant_id=plan.tenant_id, key=key,
                                    output=outcome.output, input_tokens=outcome.input_tokens,
                                    output_tokens=outcome.output_tokens)
        return await cells.scored(ctx, plan, claimed, prepared, outcome,
                                  Judge(ctx, plan.tenant_id))


class RunSlot:
    """One of a run's concurrency slots, held for a call and given up while the call
    waits to be retried (a ``Retry-After`` of seconds must not idle a slot)."""

    def __init__(self, gate: asyncio.Semaphore) -> None:
        self._gate = gate
        self._held = False

    async def __aenter__(self) -> RunSlot:
        await self._gate.acquire()
        self._held = True
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._held:
            self._held = False
            self._gate.release()

    async def sleep(self, seconds: float) -> None:
        self._held = False
        self._gate.release()
        await asyncio.sleep(seconds)
        await self._gate.acquire()  # cancelled here: not held, so not released twice
        self._held = True
