"""Executions: run a prompt version on a model, and read what ran."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from scope_api.deps import ContextDep, PageDep, ResourceId, SessionDep, get_context, require
from scope_api.engine.execute import execute
from scope_api.engine.record import Recorded
from scope_api.models import Execution
from scope_api.pagination import Page
from scope_api.schemas.common import NAME_PATTERN, Instant, error_responses
from scope_api.schemas.executions import (
    ExecutionCreate,
    ExecutionError,
    ExecutionOut,
    ExecutionStatus,
)
from scope_api.schemas.providers import MODEL_PATTERN
from scope_api.security.principal import Principal
from scope_api.services import executions
from scope_api.services.executions import ExecutionFilters

router = APIRouter(tags=["executions"], responses=error_responses(400, 401, 403, 422))

ExecutionWriter = Annotated[Principal, Depends(require("executions:write"))]
ExecutionReader = Annotated[Principal, Depends(require("executions:read"))]


def execution_out(e: Execution | Recorded) -> ExecutionOut:
    return ExecutionOut(
        id=e.id, prompt=e.prompt, version=e.version, provider=e.provider, model=e.model,
        status=e.status,
        rendered=e.rendered, output=e.output,
        error=ExecutionError.model_validate(e.error) if e.error is not None else None,
        input_tokens=e.input_tokens, output_tokens=e.output_tokens, latency_ms=e.latency_ms,
        cost_usd=float(e.cost_usd) if e.cost_usd is not None else None,
        warnings=list(e.warnings), trace_id=e.trace_id, span_id=e.span_id,
        created_at=e.created_at)


@router.post("/executions", status_code=201, response_model=ExecutionOut,
             responses=error_responses(404, 413, 502, 504))
async def create_execution(body: ExecutionCreate, principal: ExecutionWriter,
                           request: Request) -> ExecutionOut:
    """Render a prompt version (`version`, or `label: "production"`) with `variables` and
    run it on `model` of the configured `provider`; `201` with the recorded execution.

    - `404`: the prompt, the version (or a published one) or the provider does not exist.
    - `422`: a missing variable (every one is named in `details.errors`), a model that is
      not enabled on the provider, a parameter of the wrong type or range, JSON mode on
      a provider without one, a provider `base_url` the URL policy refuses, provider
      `options` saved before they were checked that cannot be used. Nothing is
      recorded and the provider is not called.
    - `502 provider_error` / `504 provider_timeout`: the provider failed (after retries
      on 429, 5xx and connection errors). The failed execution **is** recorded, with the
      provider's message: `details.execution_id` names it.

    A model the catalog does not price still runs: `cost_usd` is null and `warnings`
    says why. A `simulator` provider's `options` may carry `headers` (e.g.
    `{"x-simulator-fault": "429", "x-simulator-fail-times": "1"}`), `latency_ms` and
    `timeout_s`.
    """
    # The context from the request, not ContextDep: one dependency fewer to resolve on
    # the engine's hot path.
    return execution_out(await execute(get_context(request), principal, body))


@router.get("/executions", response_model=Page[ExecutionOut])
def list_executions(
        principal: ExecutionReader, session: SessionDep, ctx: ContextDep, page: PageDep,
        prompt: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
        provider: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
        model: Annotated[str | None, Query(pattern=MODEL_PATTERN)] = None,
        status: Annotated[ExecutionStatus | None, Query()] = None,
        since: Annotated[Instant | None, Query(
            description="RFC 3339 with an offset, e.g. 2026-11-26T10:00:00Z; inclusive")] = None,
) -> Page[ExecutionOut]:
    """The tenant's executions, newest first, filtered by prompt, provider, model, status
    and creation time."""
    filters = ExecutionFilters(prompt=prompt, provider=provider, model=model, status=status,
                               since=since)
    rows, cursor = executions.list_page(session, tenant_id=principal.tenant_id,
                                        filters=filters, codec=ctx.cursors, page=page)
    return Page(data=[execution_out(e) for e in rows], next_cursor=cursor)


@router.get("/executions/{id}", response_model=ExecutionOut, responses=error_responses(404))
def get_execution(principal: ExecutionReader, session: SessionDep,
                  id: ResourceId) -> ExecutionOut:
    return execution_out(executions.get(session, tenant_id=principal.tenant_id,
                                        execution_id=id))
