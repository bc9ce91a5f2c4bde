"""Liveness and database reachability, for load balancers and operators."""

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
    """``200 {"status": "ok", "database": "ok"}``, or ``503`` when the database is down."""

    def ping() -> None:
        with ctx.database.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    try:
        await run_in_threadpool(ping)
    except SQLAlchemyError:
        return JSONResponse({"status": "degraded", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
