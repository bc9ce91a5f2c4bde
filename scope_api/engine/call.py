"""One provider call as Scope makes it: inside its span, with retries, timed and priced.

Shared by ``POST /executions`` (``execute``) and run cells (``runs.cell``), which differ
only in what wraps each attempt (a run's provider limit) and how many attempts they
allow; the caller records the outcome.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from scope_api.context import AppContext
from scope_api.providers.catalog import Price, cost_usd
from scope_api.providers.retry import call_with_retries
from scope_api.providers.types import CompletionResult, ProviderError
from scope_api.telemetry import ExecutionInfo, SpanRecord


@dataclass(frozen=True)
class Called:
    """What happened: a result or the provider's failure, the time waited, the cost."""

    result: CompletionResult | None
    failure: ProviderError | None
    latency_ms: float  #: waiting for the provider, retries included
    cost: Decimal | None  #: None without a price or without usage
    span: SpanRecord


async def timed_call(ctx: AppContext, info: ExecutionInfo,
                     attempt: Callable[[], Awaitable[CompletionResult]], *,
                     price: Price | None, max_attempts: int,
                     sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> Called:
    """Run ``attempt`` with retries inside the execution's span; never raises a
    :class:`ProviderError` (it is returned as ``failure``). ``sleep`` waits between
    attempts (a run cell gives up its slot meanwhile)."""
    settings = ctx.settings
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
