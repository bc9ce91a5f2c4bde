"""Per-provider concurrency that adapts to rate limits: back off on 429s, then recover.

Answers are counted per window of a second. At the end of a window:

* more than a fifth of the answers were 429: the provider is over its limit; the
  concurrency is halved (never below one) and no new call starts before the
  ``Retry-After`` it gave has passed;
* some 429s, fewer than that: sporadic throttling (or a limit just touched): hold;
* none: grow by a quarter (at least one slot) up to the configured maximum.

A 429'd call itself is retried after its ``Retry-After`` (``providers.retry``)
without holding a slot. So a provider with a real limit settles around it, and
random 429s on a provider with room to spare do not throttle a whole run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

WINDOW_S = 1.0
OVER_LIMIT_SHARE = 0.2
GROWTH = 0.25


class AdaptiveLimit:
    """How many calls to one provider may be in flight, adjusted as answers come back."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.limit = float(maximum)
        self.in_flight = 0
        self._paused_until = 0.0
        self._window_start = time.monotonic()
        self._answers = 0
        self._throttled = 0
        self._retry_after = 0.0
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the duration of a call."""
        async with self._changed:
            while True:
                pause = self._paused_until - time.monotonic()
                if pause <= 0 and self.in_flight < max(1, int(self.limit)):
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(),
                                           timeout=pause if pause > 0 else None)
            self.in_flight += 1
        try:
            yield
        finally:
            async with self._changed:
                self.in_flight -= 1
                self._changed.notify_all()

    def throttled(self, retry_after_s: float | None) -> None:
        """The provider answered 429."""
        self._answers += 1
        self._throttled += 1
        self._retry_after = max(self._retry_after, retry_after_s or 1.0)
        self._maybe_adjust()

    def succeeded(self) -> None:
        """The provider answered."""
        self._answers += 1
        self._maybe_adjust()

    def _maybe_adjust(self) -> None:
        now = time.monotonic()
        if now - self._window_start < WINDOW_S:
            return
        if self._throttled > OVER_LIMIT_SHARE * self._answers:
            self.limit = max(1.0, self.limit / 2)
            self._paused_until = max(self._paused_until, now + self._retry_after)
        elif self._throttled == 0:
            self.limit = min(float(self.maximum), self.limit + max(1.0, self.limit * GROWTH))
        self._window_start, self._answers, self._throttled = now, 0, 0
        self._retry_after = 0.0


class Limits:
    """One :class:`AdaptiveLimit` per (tenant, provider)."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self._by_key: dict[tuple[str, str], AdaptiveLimit] = {}

    def for_provider(self, tenant_id: str, provider: str) -> AdaptiveLimit:
        key = (tenant_id, provider)
        limit = self._by_key.get(key)
        if limit is None:
            limit = self._by_key[key] = AdaptiveLimit(self.maximum)
        return limit
