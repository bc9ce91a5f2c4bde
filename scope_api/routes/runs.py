"""Test runs: start (202), estimate, list, read with progress and summary, results, cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from starlette.concurrency import run_in_threadpool

from scope_api.context import AppContext
from scope_api.deps import ContextDep, PageDep, SessionDep, require
from scope_api.engine.runs import estimate
from scope_api.models import Run, RunCell
from scope_api.pagination import Page
from scope_api.routes.golden_sets import SetExists
from scope_api.schemas.common import NAME_PATTERN, Instant, error_responses
from scope_api.schemas.runs import Estimate, Progress, ResultOut, RunCreate, RunOut, RunTarget
from scope_api.security.principal import Principal
from scope_api.services import run_summary, runs

router = APIRouter(tags=["runs"], responses=error_responses(400, 401, 403, 422))
RunWriter = Annotated[Principal, Depends(require("runs:write"))]
RunReader = Annotated[Principal, Depends(require("runs:read"))]
SetName = Annotated[str, Path(pattern=NAME_PATTERN)]
RunId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="A run's id.")]


def run_out(run: Run, summary: list[dict[str, object]]) -> RunOut:
    return RunOut(id=run.id, golden_set=run.golden_set, prompt=run.prompt,
                  versions=list(run.versions),
                  targets=[RunTarget(**t) for t in run.targets], scorers=list(run.scorers),
                  parameters=dict(run.parameters), concurrency=run.concurrency,
                  budget_usd=None if run.budget_usd is None else float(run.budget_usd),
                  cache=run.use_cache, status=run.status,
                  progress=Progress(done=run.done, total=run.total, failed=run.failed),
                  spent_usd=run.spent_usd, error=run.error,
                  summary=summary,
                  created_by=run.created_by, created_at=run.created_at,
                  started_at=run.started_at, finished_at=run.finished_at)


def result_out(cell: RunCell) -> ResultOut:
    return ResultOut(item_id=cell.item_id, version=cell.version, provider=cell.provider,
                     model=cell.model, output=cell.output, scores=dict(cell.scores),
                     score_details=dict(cell.score_details), input_tokens=cell.input_tokens,
                     output_tokens=cell.output_tokens, latency_ms=cell.latency_ms,
                     cost_usd=None if cell.cost_usd is None else float(cell.cost_usd),
                     cached=cell.cached, status=cell.status,
                     error=cell.error, execution_id=cell.execution_id,
                     completed_at=cell.completed_at)


def _create(ctx: AppContext, principal: Principal, name: str, body: RunCreate) -> RunOut:
    with ctx.database.unit_of_work() as session:
        run = runs.create(session, tenant_id=principal.tenant_id, set_name=name, body=body,
                          created_by=principal.subject, max_cells=ctx.settings.run_max_cells)
        return run_out(run, [])


@router.post("/golden-sets/{name}/runs", status_code=202, response_model=RunOut,
             responses=error_responses(404, 409, 413))
async def start_run(name: SetName, _exists: SetExists, body: RunCreate,
                    principal: RunWriter, ctx: ContextDep) -> RunOut:
    """Check everything (422 lists items whose variables a version needs and they lack;
    nothing runs then), create one cell per (item, version, target) and return at once.
    The server's run worker executes the cells in the background; poll `GET /runs/{id}`."""
    out = await run_in_threadpool(_create, ctx, principal, name, body)
    if ctx.run_worker is not None:
        ctx.run_worker.wake()
    return out


@router.post("/golden-sets/{name}/runs/estimate", response_model=Estimate,
             responses=error_responses(404))
def estimate_run(name: SetName, _exists: SetExists, body: RunCreate, principal: RunWriter,
                 session: SessionDep, ctx: ContextDep) -> Estimate:
    """What the run would cost before starting it: calls, estimated tokens and cost from
    the catalog, and the expected duration at the chosen concurrency. Validates like
    starting the run does; nothing is created."""
    return estimate.estimate(session, tenant_id=principal.tenant_id, set_name=name,
                             body=body, max_cells=ctx.settings.run_max_cells)


@router.get("/runs", response_model=Page[RunOut])
def list_runs(principal: RunReader, session: SessionDep, ctx: ContextDep, page: PageDep,
              golden_set: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None
              ) -> Page[RunOut]:
    """The tenant's runs, newest first (optionally of one golden set, by name)."""
    rows, cursor = runs.list_page(session, tenant_id=principal.tenant_id,
                                  golden_set=golden_set, codec=ctx.cursors, page=page)
    return Page(data=[run_out(r, r.summary or []) for r in rows], next_cursor=cursor)


@router.get("/runs/{id}", response_model=RunOut, responses=error_responses(404))
def get_run(id: RunId, principal: RunReader, session: SessionDep, ctx: ContextDep) -> RunOut:
    """Status, progress (`done`, `total`, `failed`) and the summary per (version, target).
    While the run goes on, the summary covers the cells completed so far and is at most
    a second old."""
    run = runs.get(session, tenant_id=principal.tenant_id, run_id=id)
    return run_out(run, ctx.run_summaries.get(session, run))


@router.get("/runs/{id}/results", response_model=Page[ResultOut],
            responses=error_responses(404))
def get_results(
        id: RunId, principal: RunReader, session: SessionDep, ctx: ContextDep, page: PageDep,
        since: Annotated[Instant | None, Query(
            description="only cells completed at or after this time (RFC 3339 with an "
                        "offset); a cursor belongs to the `since` it was made with")] = None,
) -> Page[ResultOut]:
    """Completed cells in item order; pages stay stable while the run goes on.

    A client following a run can ask for `since` the newest `completed_at` it has seen,
    less a few seconds (cells commit in batches, not exactly in `completed_at` order),
    and read the whole list once the run has ended."""
    run = runs.get(session, tenant_id=principal.tenant_id, run_id=id)
    rows, cursor = runs.results_page(session, run=run, codec=ctx.cursors, page=page,
                                     since=since)
    return Page(data=[result_out(c) for c in rows], next_cursor=cursor)


@router.post("/runs/{id}/cancel", response_model=RunOut, responses=error_responses(404, 409))
def cancel_run(id: RunId, principal: RunWriter, session: SessionDep) -> RunOut:
    """Stop the run now: calls in flight are abandoned, finished cells are kept."""
    run = runs.cancel(session, tenant_id=principal.tenant_id, run_id=id)
    return run_out(run, run_summary.compute(session, run))
