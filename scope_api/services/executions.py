"""Reading executions and their span records (writing them is ``engine``'s job)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scope_api.errors import NotFound
from scope_api.models import Execution, ExecutionSpan
from scope_api.pagination import CursorCodec, PageRequest, paginate


@dataclass(frozen=True)
class ExecutionFilters:
    prompt: str | None = None
    provider: str | None = None
    model: str | None = None
    status: str | None = None
    since: datetime | None = None


@dataclass(frozen=True)
class SpanFilters:
    prompt: str | None = None
    model: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _scope(kind: str, tenant_id: str, filters: ExecutionFilters | SpanFilters) -> str:
    """The cursor scope: a cursor only continues the list (and filters) it came from."""
    values = {k: (v.isoformat() if isinstance(v, datetime) else v)
              for k, v in asdict(filters).items()}
    return f"{kind}:{tenant_id}:" + json.dumps(values, sort_keys=True)


def list_page(session: Session, *, tenant_id: str, filters: ExecutionFilters,
              codec: CursorCodec, page: PageRequest) -> tuple[Sequence[Execution], str | None]:
    """The tenant's executions matching ``filters``, newest first."""
    query = select(Execution).where(Execution.tenant_id == tenant_id)
    if filters.prompt is not None:
        query = query.where(Execution.prompt == filters.prompt)
    if filters.provider is not None:
        query = query.where(Execution.provider == filters.provider)
    if filters.model is not None:
        query = query.where(Execution.model == filters.model)
    if filters.status is not None:
        query = query.where(Execution.status == filters.status)
    if filters.since is not None:
        query = query.where(Execution.created_at >= filters.since)
    return paginate(session, query, codec=codec, scope=_scope("executions", tenant_id, filters),
                    request=page, created_at=Execution.created_at, id_=Execution.id)


def get(session: Session, *, tenant_id: str, execution_id: str) -> Execution:
    execution = session.scalar(select(Execution).where(Execution.tenant_id == tenant_id,
                                                       Execution.id == execution_id))
    if execution is None:
        raise NotFound(f"execution '{execution_id}' not found")
    return execution


def list_spans(session: Session, *, tenant_id: str, filters: SpanFilters, codec: CursorCodec,
               page: PageRequest) -> tuple[Sequence[ExecutionSpan], str | None]:
    """The tenant's execution spans matching ``filters``, newest start first.

    ``since`` is inclusive and ``until`` exclusive, both on the span's start.
    """
    query = select(ExecutionSpan).where(ExecutionSpan.tenant_id == tenant_id)
    if filters.prompt is not None:
        query = query.where(ExecutionSpan.prompt == filters.prompt)
    if filters.model is not None:
        query = query.where(ExecutionSpan.model == filters.model)
    if filters.status is not None:
        query = query.where(ExecutionSpan.status == filters.status)
    if filters.since is not None:
        query = query.where(ExecutionSpan.start >= filters.since)
    if filters.until is not None:
        query = query.where(ExecutionSpan.start < filters.until)
    return paginate(session, query, codec=codec, scope=_scope("traces", tenant_id, filters),
                    request=page, created_at=ExecutionSpan.start, id_=ExecutionSpan.span_id)


def trace(session: Session, *, tenant_id: str, trace_id: str) -> Sequence[ExecutionSpan]:
    """The spans of one trace, oldest first; ``404`` if the tenant has none in it."""
    spans = session.scalars(
        select(ExecutionSpan)
        .where(ExecutionSpan.tenant_id == tenant_id, ExecutionSpan.trace_id == trace_id)
        .order_by(ExecutionSpan.start, ExecutionSpan.span_id)).all()
    if not spans:
        raise NotFound(f"trace '{trace_id}' not found")
    return spans
