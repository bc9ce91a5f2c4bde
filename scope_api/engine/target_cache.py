"""In-process cache of execution targets: what ``POST /executions`` reads before a call.

A target (``record.Target``: the prompt version's content, the provider with its key
decrypted, the model's price) costs 4-6 queries and a thread-pool hop to read, on
every execution, although it changes only when someone edits the registry. So:

* Entries are keyed by (tenant id, prompt, version or ``None`` for production,
  provider, model) and live at most ``ttl_s`` (``SCOPE_PRODUCTION_CACHE_TTL_S``).
* Every invalidation of the production cache drops **all** entries: promotions,
  archives and deletions of prompts already go through it, and provider and price
  changes now do too (``PROVIDERS_KEY``). That includes the ones other replicas
  announce (PostgreSQL LISTEN/NOTIFY) and, on SQLite, the marker file other processes
  touch, checked on every lookup. Registry writes are rare next to executions:
  clearing everything keeps the rules simple.
* A reader that missed stores what it read only if nothing was invalidated while it
  read (the epoch it saw first is still current), so a concurrent change is never
  overwritten by the state before it.
* Errors are not cached: a missing prompt or provider is read again next time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from scope_api.production_cache import ProductionCache

if TYPE_CHECKING:
    from scope_api.engine.record import Target

#: (tenant id, prompt, version (None: the published one), provider, model)
Key = tuple[str, str, int | None, str, str]
MAX_ENTRIES = 10_000


class TargetCache:
    """Execution targets, dropped whenever the registry changes; see the module docstring."""

    def __init__(self, registry: ProductionCache, ttl_s: float, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._registry = registry
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[Key, tuple[Target, float]] = {}
        self._epoch = 0
        self._lock = threading.Lock()
        registry.listeners.append(self.clear)

    def get(self, key: Key) -> Target | None:
        self._registry.check_marker()  # may clear() us
        found = self._entries.get(key)
        if found is None or found[1] <= self._clock():
            return None
        return found[0]

    def epoch(self) -> int:
        """Pass to :meth:`put` after reading: a change in between voids the read."""
        return self._epoch

    def put(self, key: Key, target: Target, epoch: int) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if epoch != self._epoch:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (target, self._clock() + self.ttl_s)

    def clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self._entries.clear()
