"""Retrying a provider call: the one place where a failed call is tried again.

Adapters send exactly once; the caller wraps the call in :func:`call_with_retries`.

Policy:

* Only a :class:`~scope_api.providers.types.ProviderError` whose ``retryable`` is
  true is retried: HTTP 429, 500, 502, 503, 504, 529, connection failures and
  connect timeouts (see ``adapters._common``). Everything else (a 400, a bad key,
  a read timeout, an unreadable answer, any non-provider exception, cancellation)
  propagates at once.
* At most ``max_attempts`` calls in all (default 4: the first and 3 retries);
  after the last, the last error propagates unchanged (never tenacity's
  ``RetryError``), so callers see the provider's message and status.
* Wait before retry *n* (1-based): ``base_delay_s × 2^(n-1)`` plus a random jitter
  of up to ``base_delay_s``, so concurrent callers that failed together do not
  come back together; capped at ``max_delay_s``. Defaults: 0.5–1 s, 1–1.5 s,
  2–2.5 s.
* When the provider said how long to wait (``Retry-After``/``retry-after-ms``, or
  Gemini's ``RetryInfo``: ``ProviderError.retry_after_s``), that wait is used
  instead of the backoff, also capped at ``max_delay_s``: a request is not held
  open longer than that for one retry.
* ``sleep`` is injectable so tests record the waits instead of sleeping them.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from scope_api.providers.types import ProviderError

T = TypeVar("T")

log = logging.getLogger("scope_api.providers")


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable


def backoff_wait(base_delay_s: float, max_delay_s: float
                 ) -> Callable[[RetryCallState], float]:
    """The wait before the next attempt, per the policy in this module's docstring."""

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, ProviderError) and exc.retry_after_s is not None:
            return max(0.0, min(exc.retry_after_s, max_delay_s))
        exponential: float = base_delay_s * 2.0 ** (state.attempt_number - 1)
        return min(max_delay_s, exponential + random.uniform(0, base_delay_s))

    return wait


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome is not None else None
    delay = state.next_action.sleep if state.next_action is not None else 0.0
    # ProviderError messages are safe to log: they never carry a credential.
    log.warning("provider call failed (attempt %d), retrying in %.2f s: %s",
                state.attempt_number, delay, exc)


async def call_with_retries(call: Callable[[], Awaitable[T]], *, max_attempts: int = 4,
                            base_delay_s: float = 0.5, max_delay_s: float = 20,
                            sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> T:
    """Await ``call()``, retrying retryable provider errors with backoff."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    # The first attempt runs bare: nearly every call succeeds on it, and setting up
    # tenacity costs ~25 µs of event-loop time per call. A retryable failure hands
    # over to tenacity, which sees it as its own first attempt (same waits, same log).
    try:
        return await call()
    except ProviderError as exc:
        if not exc.retryable or max_attempts == 1:
            raise
        first_failure: ProviderError | None = exc
    retrying = AsyncRetrying(
        sleep=sleep,
        stop=stop_after_attempt(max_attempts),
        wait=backoff_wait(base_delay_s, max_delay_s),
        retry=retry_if_exception(_is_retryable),
        before_sleep=_log_retry,
        reraise=True,
    )

    async def attempt() -> T:
        nonlocal first_failure
        if first_failure is not None:
            failure, first_failure = first_failure, None
            raise failure
        # tenacity awaits only what it recognises as a coroutine function; a lambda
        # or partial returning an awaitable would otherwise come back un-awaited.
        return await call()

    return await retrying(attempt)
