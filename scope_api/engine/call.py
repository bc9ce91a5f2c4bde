"""One provider call as Scope makes it: inside its span, with retries, timed and priced.

Shared by ``POST /executions`` (``execute``) and run cells (``runs.cell``), which differ
only in what wraps each attempt (a run's provider limit) and how many attempts they
allow, and in what they do with the record (:func:`recorded`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from scope_api.context import AppContext
from scope_api.engine import record
from scope_api.engine.requests import Prepared
from scope_api.providers.catalog import cost_usd
from scope_api.providers.retry import call_with_retries
from scope_api.providers.types import CompletionResult, ProviderError
from scope_api.telemetry import SpanRecord


@dataclass(frozen=True)
class Called:
    """What happened: a result or the provider's failure, the time waited, the cost."""

    result: CompletionResult | None
    failure: ProviderError | None
    latency_ms: float  #: waiting for the provider, retries included
    cost: Decimal | None  #: None without a price or without usage
    span: SpanRecord


async def timed_call(ctx: AppContext, prepared: Prepared, *, execution_id: str, tenant: str,
                     attempt: Callable[[], Awaitable[CompletionResult]], max_attempts: int,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Called:
    """Run ``attempt`` (one call of ``prepared``) with retries inside the execution's span;
    never raises a :class:`ProviderError` (it is returned as ``failure``). ``sleep`` waits
    between attempts (a run cell gives up its slot meanwhile)."""
    settings = ctx.settings
    price = prepared.target.price
    info = prepared.span_info(execution_id, tenant)
    result: CompletionResult | None = None
    failure: ProviderError | None = None
    cost: Decimal | None = None
    with ctx.telemetry.execution_span(info) as span:
        started = time.perf_counter()
        try:
            result = await call_with_retries(
                attempt, max_attempts=max_attempts,
                base_delay_s=settings.provider_retry_base_delay_s,
                max_delay_s=settings.provider_retry_max_delay_s, sleep=sleep)
        except ProviderError as exc:
            failure = exc
            span.fail(exc)
        latency_ms = (time.perf_counter() - started) * 1000
        if result is not None:
            cost = cost_usd(result.usage.input_tokens, result.usage.output_tokens, price)
            span.succeed(result, cost_usd=None if cost is None else float(cost))
    return Called(result, failure, latency_ms, cost, span.record)


def recorded(prepared: Prepared, called: Called, *, execution_id: str, tenant_id: str,
             created_by: str) -> tuple[record.Outcome, tuple[dict[str, Any], dict[str, Any]]]:
    """The call's outcome and the rows that record it (the execution and its span)."""
    target, model = prepared.target, prepared.request.model
    outcome = record.outcome(called.result, called.failure, prepared.rendered_record(),
                             called.latency_ms, called.cost, model=model,
                             priced=target.price is not None)
    return outcome, record.rows(execution_id=execution_id, tenant_id=tenant_id,
                                target=target, model=model, outcome=outcome,
                                span=called.span, created_by=created_by)
