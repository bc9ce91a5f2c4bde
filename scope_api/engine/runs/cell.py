"""Executing one cell: render the item, call the target (or reuse a cached answer), score.

The provider call is the same as ``POST /executions`` makes (adapter, retries,
span, catalog price) and is recorded as an execution too, so run cells appear in
``/executions``, ``/traces`` and the OTLP export like any other call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from scope_api import templating
from scope_api.context import AppContext
from scope_api.engine import record, requests
from scope_api.engine.call import recorded, timed_call
from scope_api.engine.requests import Prepared
from scope_api.engine.runs import store
from scope_api.engine.runs.judging import Judge
from scope_api.engine.runs.limiter import AdaptiveLimit
from scope_api.errors import ScopeError
from scope_api.models import Run, Tenant
from scope_api.models.base import new_id
from scope_api.providers import url_safety
from scope_api.providers.types import CompletionResult, ProviderError
from scope_api.schemas.executions import ExecutionParameters
from scope_api.scorers import Score, judge, parse_scorers, score, scorer_name


@dataclass
class RunPlan:
    """What every cell of one run shares, read once per run by each worker."""

    run_id: str
    tenant_id: str
    tenant: str
    prompt: str
    concurrency: int
    parameters: ExecutionParameters
    scorers: list[Any]
    use_cache: bool
    targets: dict[tuple[int, str, str], record.Target] = field(default_factory=dict)


def load_plan(ctx: AppContext, run_id: str) -> RunPlan:
    """The run's settings and, per (version, provider, model), its loaded target."""
    with ctx.database.unit_of_work(write=False) as session:
        run = session.get(Run, run_id)
        assert run is not None
        tenant = session.scalar(select(Tenant.name).where(Tenant.id == run.tenant_id)) or ""
        plan = RunPlan(run_id=run.id, tenant_id=run.tenant_id, tenant=tenant,
                       prompt=run.prompt, concurrency=run.concurrency,
                       parameters=ExecutionParameters(**run.parameters),
                       scorers=parse_scorers(run.scorers), use_cache=run.use_cache)
        versions, targets = list(run.versions), list(run.targets)
    for version in versions:
        for target in targets:
            plan.targets[(version, target["provider"], target["model"])] = record.load_target(
                ctx, tenant_id=plan.tenant_id, prompt=plan.prompt, version=version,
                provider=target["provider"], model=target["model"])
    return plan


def prepare(plan: RunPlan, cell: store.Claimed) -> Prepared:
    """Render and build the request; raises :class:`ScopeError` for a cell that cannot run."""
    target = plan.targets[(cell.version, cell.provider, cell.model)]
    if cell.variables is None:
        raise ScopeError("the item was deleted (its golden set is gone)")
    return requests.prepare(target, model=cell.model, variables=cell.variables,
                            parameters=plan.parameters)


def cache_key(prepared: Prepared) -> str:
    """What was asked, exactly: the provider, model, rendered messages and parameters."""
    payload = [prepared.target.provider, prepared.request.model, prepared.rendered,
               requests.parameters_record(prepared.request.parameters)]
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()


async def call(ctx: AppContext, plan: RunPlan, cell: store.Claimed, prepared: Prepared,
               limit: AdaptiveLimit, *, client: httpx.AsyncClient,
               sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
               ) -> store.CellOutcome:
    """Call the target once (with the usual retries, waiting between them with ``sleep``);
    the outcome with its execution record."""
    target, settings = prepared.target, ctx.settings
    try:
        await target.recheck_url(allow_private=settings.allow_private_provider_urls)
    except url_safety.UnsafeUrl as exc:  # the cell fails, saying why; nothing was called
        raise ScopeError(exc.message) from None

    async def attempt() -> CompletionResult:
        async with limit.slot():
            try:
                result: CompletionResult = await prepared.adapter.complete(
                    prepared.request, config=prepared.config, client=client)
            except ProviderError as exc:
                if exc.status == 429:
                    limit.throttled(exc.retry_after_s)
                raise
        limit.succeeded()
        return result

    execution_id = new_id()
    called = await timed_call(ctx, prepared, execution_id=execution_id, tenant=plan.tenant,
                              attempt=attempt, max_attempts=settings.run_provider_max_attempts,
                              sleep=sleep)
    outcome, (execution, span_row) = recorded(prepared, called, execution_id=execution_id,
                                              tenant_id=plan.tenant_id,
                                              created_by=f"run:{plan.run_id}")
    return store.CellOutcome(
        status=outcome.status, output=outcome.output, error=outcome.error,
        input_tokens=outcome.input_tokens, output_tokens=outcome.output_tokens,
        latency_ms=called.latency_ms, cost_usd=called.cost, scores={}, score_details={},
        cached=False, execution=execution, span=span_row)


def failed(message: str, code: str = "cell_error") -> store.CellOutcome:
    """A cell that could not be executed at all (nothing was called)."""
    return store.CellOutcome(status="failed", output=None,
                             error={"code": code, "message": message}, input_tokens=None,
                             output_tokens=None, latency_ms=None, cost_usd=None, scores={},
                             score_details={}, cached=False, execution=None, span=None)


def from_cache(entry: Any) -> store.CellOutcome:
    """A stored answer to the identical request: no call, no cost."""
    return store.CellOutcome(status="succeeded", output=entry.output, error=None,
                             input_tokens=entry.input_tokens,
                             output_tokens=entry.output_tokens, latency_ms=0.0,
                             cost_usd=Decimal(0), scores={}, score_details={}, cached=True,
                             execution=None, span=None)


async def scored(ctx: AppContext, plan: RunPlan, cell: store.Claimed, prepared: Prepared,
                 outcome: store.CellOutcome, judge_with: Judge) -> store.CellOutcome:
    """The outcome with every scorer's score (a failed call gets none) and what judging
    it cost."""
    if outcome.status != "succeeded" or outcome.output is None or not plan.scorers:
        return outcome
    scores: dict[str, float] = {}
    details: dict[str, str] = {}
    input_text = _text(prepared.rendered)
    for spec in plan.scorers:
        if getattr(spec, "type", None) == "llm_judge":
            try:
                result: Score = await judge(spec, input_text=input_text,
                                            output=outcome.output, expected=cell.expected,
                                            complete=judge_with)
            except ScopeError as exc:  # the judge failed, not the cell: no score, say why
                result = Score(None, exc.message)
        elif getattr(spec, "type", None) == "json_schema":
            # Validation is bounded (about a second) but must not stall the event loop.
            result = await run_in_threadpool(score, spec, output=outcome.output,
                                             expected=cell.expected)
        else:
            result = score(spec, output=outcome.output, expected=cell.expected)
        name = scorer_name(spec)
        if result.value is not None:
            scores[name] = result.value
        if result.detail:
            details[name] = result.detail
    return store.CellOutcome(**{**outcome.__dict__, "scores": scores,
                                "score_details": details,
                                "judge_cost_usd": judge_with.spent})


def _text(rendered: templating.Content) -> str:
    if isinstance(rendered, str):
        return rendered
    return "\n".join(f"{m['role']}: {m['content']}" for m in rendered)
