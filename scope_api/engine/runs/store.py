"""The run worker's database moments, each one short transaction (run in threads).

Claiming uses ``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so replicas sharing
a database never claim the same cell; SQLite serialises write transactions
(``BEGIN IMMEDIATE``), which gives the same guarantee on one machine. A claim is a
lease: the owner renews it while the call is in flight, and a cell whose lease has
run out (its worker died) is claimable again. Completing a cell writes its result,
the execution record and the run's counters in one transaction, and only while
the lease is still held: a recorded cell is never executed again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scope_api.bulk_insert import insert_many
from scope_api.context import AppContext
from scope_api.engine.record import EXECUTIONS, SPANS
from scope_api.models import (
    GoldenItem,
    ResponseCacheEntry,
    Run,
    RunCell,
)
from scope_api.models.base import utcnow
from scope_api.models.runs import RUN_ACTIVE
from scope_api.services import run_summary

MAX_ATTEMPTS = 5  # claims of one cell; beyond, its worker keeps dying on it: give up


@dataclass(frozen=True)
class Claimed:
    """A cell this worker now holds, with what it needs to execute."""

    id: str
    run_id: str
    tenant_id: str
    item_id: str
    variables: dict[str, Any] | None  # None: the item was deleted with its golden set
    expected: str | None
    version: int
    provider: str
    model: str
    attempts: int


def claim(ctx: AppContext, *, owner: str, lease_s: float, free: int,
          in_flight: Mapping[str, int], ahead: int = 2) -> list[Claimed]:
    """Lease up to ``free`` cells of active runs, oldest run first, up to ``ahead`` times
    each run's concurrency (the worker gates the calls themselves at the concurrency;
    the cells beyond it wait, leased, to start the moment a call ends)."""
    if not _any_run(ctx, Run.status.in_(RUN_ACTIVE)):
        return []
    now = utcnow()
    lease_until = now + timedelta(seconds=lease_s)
    claimed: list[Claimed] = []
    # Core statements: a claim runs in a thread, and the ORM's per-object work there
    # held the GIL long enough to delay the event loop's provider calls.
    cells = cast(Table, RunCell.__table__)
    with ctx.database.unit_of_work() as session:
        runs = session.execute(select(Run.id, Run.tenant_id, Run.concurrency, Run.status)
                               .where(Run.status.in_(RUN_ACTIVE))
                               .order_by(Run.created_at, Run.id)).all()
        for run in runs:
            room = min(free - len(claimed), ahead * run.concurrency - in_flight.get(run.id, 0))
            if room <= 0:
                continue
            rows = session.execute(
                select(cells.c.id, cells.c.item_id, cells.c.version, cells.c.provider,
                       cells.c.model, cells.c.attempts, GoldenItem.variables,
                       GoldenItem.expected)
                .outerjoin(GoldenItem, GoldenItem.id == cells.c.item_id)
                .where(cells.c.run_id == run.id,
                       or_(cells.c.status == "pending",
                           and_(cells.c.status == "running", cells.c.lease_until < now)))
                .order_by(cells.c.item_position, cells.c.id).limit(room)
                .with_for_update(skip_locked=True, of=cells)).all()
            if not rows:
                continue
            if run.status == "queued":
                session.execute(update(Run).where(Run.id == run.id)
                                .values(status="running", started_at=now))
            spent = [row for row in rows if row.attempts >= MAX_ATTEMPTS]
            if spent:
                _abandon(session, run.id, [row.id for row in spent], now)
            taken = [row for row in rows if row.attempts < MAX_ATTEMPTS]
            if taken:
                session.execute(
                    update(cells).where(cells.c.id == bindparam("cell_id")),
                    [{"cell_id": row.id, "status": "running", "lease_owner": owner,
                      "lease_until": lease_until, "attempts": row.attempts + 1}
                     for row in taken])
            claimed.extend(Claimed(
                id=row.id, run_id=run.id, tenant_id=run.tenant_id, item_id=row.item_id,
                variables=None if row.variables is None else dict(row.variables),
                expected=row.expected, version=row.version, provider=row.provider,
                model=row.model, attempts=row.attempts + 1) for row in taken)
    return claimed


def renew(ctx: AppContext, *, owner: str, cell_ids: Iterable[str], lease_s: float) -> None:
    """Extend the leases of cells still in flight."""
    ids = list(cell_ids)
    if not ids:
        return
    with ctx.database.unit_of_work() as session:
        session.execute(update(RunCell)
                        .where(RunCell.id.in_(ids), RunCell.lease_owner == owner,
                               RunCell.status == "running")
                        .values(lease_until=utcnow() + timedelta(seconds=lease_s)))


def release(ctx: AppContext, *, owner: str) -> None:
    """On a clean shutdown: hand unfinished cells back at once (no lease to wait out)."""
    with ctx.database.unit_of_work() as session:
        session.execute(update(RunCell)
                        .where(RunCell.lease_owner == owner, RunCell.status == "running")
                        .values(status="pending", lease_owner=None, lease_until=None,
                                attempts=RunCell.attempts - 1))


def statuses(ctx: AppContext, run_ids: Iterable[str]) -> dict[str, str]:
    """Current status of each run (to stop work on cancelled or stopped runs)."""
    ids = list(set(run_ids))
    if not ids:
        return {}
    with ctx.database.unit_of_work(write=False) as session:
        return dict(session.execute(select(Run.id, Run.status).where(Run.id.in_(ids))).all())


@dataclass(frozen=True)
class CellOutcome:
    status: str  # succeeded | failed
    output: str | None
    error: dict[str, Any] | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float | None
    cost_usd: Decimal | None
    scores: dict[str, float]
    score_details: dict[str, str]
    cached: bool
    execution: dict[str, Any] | None  #: an ``executions`` row, when a call was made
    span: dict[str, Any] | None  #: its ``execution_spans`` row
    judge_cost_usd: Decimal = Decimal(0)  #: llm_judge calls grading it (run spend only)


def complete(ctx: AppContext, *, owner: str,
             done: Sequence[tuple[Claimed, CellOutcome]]) -> list[bool]:
    """Record finished cells (result, execution, run counters) in one transaction.

    Group commit: under load many cells finish within milliseconds of each other, and
    one write transaction for all of them costs little more than one for each (on
    SQLite every write transaction is serialised). Returns, per cell, whether it was
    recorded: False if its lease was lost (another worker owns it now).
    """
    now = utcnow()
    counters: dict[str, list[float]] = {}
    with ctx.database.unit_of_work() as session:
        # Which cells are still ours: locked, so a competing claim waits for this commit.
        held = set(session.scalars(
            select(RunCell.id).where(RunCell.id.in_([c.id for c, _ in done]),
                                     RunCell.lease_owner == owner,
                                     RunCell.status == "running")
            .with_for_update()))
        recorded = [cell.id in held for cell, _ in done]
        mine = [(cell, outcome) for cell, outcome in done if cell.id in held]
        if not mine:
            return recorded
        # Core statements with one parameter set per cell: the ORM's per-object
        # bookkeeping would cost more than the database work itself.
        cells = cast(Table, RunCell.__table__)
        session.execute(
            update(cells).where(cells.c.id == bindparam("cell_id")),
            [{"cell_id": cell.id, "status": outcome.status, "output": outcome.output,
              "error": outcome.error, "input_tokens": outcome.input_tokens,
              "output_tokens": outcome.output_tokens, "latency_ms": outcome.latency_ms,
              "cost_usd": None if outcome.cost_usd is None else str(outcome.cost_usd),
              "scores": outcome.scores, "score_details": outcome.score_details,
              "cached": outcome.cached,
              "execution_id": None if outcome.execution is None else outcome.execution["id"],
              "lease_owner": None, "lease_until": None, "completed_at": now}
             for cell, outcome in mine])
        # The cells' execution records, written as POST /executions writes its own.
        insert_many(session.connection(), [
            (EXECUTIONS, [o.execution for _, o in mine if o.execution is not None]),
            (SPANS, [o.span for _, o in mine if o.span is not None])])
        for cell, outcome in mine:
            counter = counters.setdefault(cell.run_id, [0, 0, 0.0])
            counter[0] += 1
            counter[1] += outcome.status == "failed"
            counter[2] += float((outcome.cost_usd or 0) + outcome.judge_cost_usd)
        for run_id, (count, failed, cost) in counters.items():
            session.execute(update(Run).where(Run.id == run_id).values(
                done=Run.done + int(count), failed=Run.failed + int(failed),
                spent_usd=Run.spent_usd + cost))
            _after_progress(session, run_id, now)
    return recorded


def _after_progress(session: Session, run_id: str, now: datetime) -> None:
    """Stop a run over its budget; end a run whose last cell just finished."""
    run = session.get(Run, run_id)
    if run is None or run.status not in RUN_ACTIVE:
        return
    if run.budget_usd is not None and run.spent_usd >= float(run.budget_usd):
        run.status, run.finished_at = "failed", now
        run.error = {"code": "budget_exceeded",
                     "message": f"spent ${run.spent_usd:.6f} of the ${run.budget_usd} "
                                "budget; cells not yet executed were skipped"}
    elif run.done >= run.total:
        _finish(session, run)  # the last cell: the run ends with it, not a poll later


def _finish(session: Session, run: Run) -> None:
    run.status, run.finished_at = "succeeded", utcnow()
    run.summary = run_summary.compute(session, run)


def _any_run(ctx: AppContext, condition: Any) -> bool:
    # A read first: an idle worker polls every second, and on SQLite a write
    # transaction (BEGIN IMMEDIATE) would queue behind every execution being recorded.
    with ctx.database.unit_of_work(write=False) as session:
        return bool(session.scalar(select(exists().where(condition))))


def finish_runs(ctx: AppContext) -> list[str]:
    """Mark running runs with no cell left to do as succeeded, with their summary."""
    finished: list[str] = []
    if not _any_run(ctx, or_(Run.status == "running",
                             and_(Run.status.in_(("cancelled", "failed")),
                                  Run.summary.is_(None)))):
        return finished
    with ctx.database.unit_of_work() as session:
        open_cells = exists().where(RunCell.run_id == Run.id,
                                    RunCell.status.in_(("pending", "running")))
        for run in session.scalars(select(Run).where(Run.status == "running", ~open_cells)
                                   .with_for_update(skip_locked=True)):
            _finish(session, run)
            finished.append(run.id)
        for run in session.scalars(select(Run).where(Run.status.in_(("cancelled", "failed")),
                                                     Run.summary.is_(None))
                                   .with_for_update(skip_locked=True)):
            run.summary = run_summary.compute(session, run)
    return finished


def _abandon(session: Session, run_id: str, cell_ids: list[str], now: datetime) -> None:
    """Cells whose workers keep dying on them fail instead of taking down the next one."""
    session.execute(update(RunCell).where(RunCell.id.in_(cell_ids)).values(
        status="failed", lease_owner=None, lease_until=None, completed_at=now,
        error={"code": "abandoned",
               "message": f"claimed {MAX_ATTEMPTS} times without finishing"}))
    session.execute(update(Run).where(Run.id == run_id).values(
        done=Run.done + len(cell_ids), failed=Run.failed + len(cell_ids)))


def cache_get(ctx: AppContext, *, tenant_id: str, key: str) -> ResponseCacheEntry | None:
    with ctx.database.unit_of_work(write=False) as session:
        entry = session.get(ResponseCacheEntry, (tenant_id, key))
        if entry is not None:
            session.expunge(entry)
        return entry


def cache_put(ctx: AppContext, *, tenant_id: str, key: str, output: str,
              input_tokens: int | None, output_tokens: int | None) -> None:
    try:
        with ctx.database.unit_of_work() as session:
            if session.get(ResponseCacheEntry, (tenant_id, key)) is None:
                session.add(ResponseCacheEntry(tenant_id=tenant_id, key=key, output=output,
                                               input_tokens=input_tokens,
                                               output_tokens=output_tokens))
    except IntegrityError:
        pass  # another cell stored the same answer first: equally good
