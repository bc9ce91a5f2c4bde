"""Traces: Scope's own record of execution spans (also exported over OTLP when configured)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from scope_api.deps import ContextDep, PageDep, SessionDep, require
from scope_api.models import ExecutionSpan
from scope_api.pagination import Page
from scope_api.schemas.common import NAME_PATTERN, Instant, error_responses
from scope_api.schemas.executions import SpanOut, SpanStatus
from scope_api.schemas.providers import MODEL_PATTERN
from scope_api.security.principal import Principal
from scope_api.services import executions
from scope_api.services.executions import SpanFilters

router = APIRouter(tags=["traces"], responses=error_responses(400, 401, 403, 422))

TraceReader = Annotated[Principal, Depends(require("traces:read"))]
TraceId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 lowercase hex digits")]
InstantQuery = Annotated[Instant | None, Query(description="RFC 3339 with an offset")]


def span_out(s: ExecutionSpan) -> SpanOut:
    return SpanOut(trace_id=s.trace_id, span_id=s.span_id, name=s.name, start=s.start,
                   duration_ms=s.duration_ms, attributes=s.attributes,
                   status=s.status)


@router.get("/traces", response_model=Page[SpanOut])
def list_traces(principal: TraceReader, session: SessionDep, ctx: ContextDep, page: PageDep,
                prompt: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
                model: Annotated[str | None, Query(pattern=MODEL_PATTERN)] = None,
                status: Annotated[SpanStatus | None, Query()] = None,
                since: InstantQuery = None, until: InstantQuery = None) -> Page[SpanOut]:
    """Execution spans, newest start first: one per execution, with the GenAI semantic
    convention attributes (`gen_ai.*`) and Scope's (`scope.*`). `since` (inclusive) and
    `until` (exclusive) bound the span's start; `status` is `ok` or `error`."""
    filters = SpanFilters(prompt=prompt, model=model, status=status, since=since, until=until)
    rows, cursor = executions.list_spans(session, tenant_id=principal.tenant_id,
                                         filters=filters, codec=ctx.cursors, page=page)
    return Page(data=[span_out(s) for s in rows], next_cursor=cursor)


@router.get("/traces/{trace_id}", response_model=list[SpanOut], responses=error_responses(404))
def get_trace(principal: TraceReader, session: SessionDep, trace_id: TraceId) -> list[SpanOut]:
    """The spans of one trace, oldest first; `404` if none of them is this tenant's."""
    return [span_out(s) for s in executions.trace(session, tenant_id=principal.tenant_id,
                                                  trace_id=trace_id)]
