"""Liveness, database reachability and span export, for load balancers and operators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from scope_api.deps import ContextDep

router = APIRouter(tags=["operations"])


@router.get("/health", responses={503: {"description": "the database is unreachable"}})
async def health(ctx: ContextDep) -> JSONResponse:
    """``200 {"status": "ok", "database": "ok", "spans": {…}}``, or ``503`` when the
    database is down.

    ``spans``: whether this process exports execution spans (``SCOPE_OTLP_ENDPOINT``)
    and how many it has ``exported``, ``failed`` to export (the collector refused them
    or could not be reached) and ``dropped`` (its queue was full) since it started. Lost
    spans do not make the process unhealthy: executions and their records are unaffected.
    """

    def ping() -> None:
        with ctx.database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    spans = {"exporting": ctx.telemetry.endpoint is not None, **ctx.telemetry.stats()}
    try:
        await run_in_threadpool(ping)
    except SQLAlchemyError:
        return JSONResponse({"status": "degraded", "database": "unreachable", "spans": spans},
                            status_code=503)
    return JSONResponse({"status": "ok", "database": "ok", "spans": spans})
