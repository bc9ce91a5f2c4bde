"""The prompt cache behind ``prompts.get``: fresh hits, stale-while-revalidate, outages.

An entry is *fresh* while younger than the caller's TTL and is then returned without
any I/O. A *stale* entry is still returned at once, and :meth:`PromptCache.claim`
lets exactly one caller per key start a background refresh. A failed refresh keeps
the entry (the last good value is what an app wants during an outage) and holds off
the next attempt for ``retry_backoff`` seconds, so an outage does not turn every call
into a new connection attempt.

Time comes from the injected ``clock`` (monotonic seconds), so tests move time
instead of patching it. Entries can be mirrored to a JSON snapshot on disk; entries
loaded from it start stale, so an app that starts while Scope is down serves them
and refreshes as soon as Scope answers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scope_lab import _snapshot
from scope_lab._prompt import Prompt

CacheKey = tuple[str, str, int | None]
"""``(name, label, version)``; ``label`` is ignored by the server when ``version`` is set."""

logger = logging.getLogger("scope_lab")
_NEVER = float("-inf")


@dataclass(slots=True)
class Entry:
    prompt: Prompt
    fetched_at: float


class PromptCache:
    """Thread-safe map from :data:`CacheKey` to the last good :class:`Prompt`."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 snapshot: Path | None = None, retry_backoff: float = 5.0) -> None:
        self.clock = clock
        self.entries: dict[CacheKey, Entry] = {}
        self._retry_at: dict[CacheKey, float] = {}
        self._refreshing: set[CacheKey] = set()
        self._lock = threading.Lock()
        self._snapshot = snapshot
        self._retry_backoff = retry_backoff
        if snapshot is not None:
            for key, prompt in _snapshot.load(snapshot).items():
                self.entries[key] = Entry(prompt, _NEVER)

    def store(self, key: CacheKey, prompt: Prompt) -> None:
        """Remember a freshly fetched prompt."""
        with self._lock:
            self.entries[key] = Entry(prompt, self.clock())
            self._retry_at.pop(key, None)
            self._save()

    def touch(self, key: CacheKey) -> None:
        """The server confirmed the cached value (304): it is fresh again."""
        with self._lock:
            entry = self.entries.get(key)
            if entry is not None:
                entry.fetched_at = self.clock()
            self._retry_at.pop(key, None)

    def claim(self, key: CacheKey, ttl: float) -> bool:
        """True for the one caller that should refresh ``key`` now; it must call :meth:`release`.

        The entry's age is checked again under the lock: a caller that found it stale
        may have looked just before another refresh renewed it and released its claim,
        and must not start a second one.
        """
        with self._lock:
            entry = self.entries.get(key)
            if entry is not None and self.clock() - entry.fetched_at < ttl:
                return False
            if key in self._refreshing or self.clock() < self._retry_at.get(key, _NEVER):
                return False
            self._refreshing.add(key)
            return True

    def release(self, key: CacheKey) -> None:
        """The refresh of ``key`` has ended, successfully or not."""
        with self._lock:
            self._refreshing.discard(key)

    def failed(self, key: CacheKey) -> None:
        """Fetching ``key`` failed: do not try again for ``retry_backoff`` seconds."""
        with self._lock:
            self._retry_at[key] = self.clock() + self._retry_backoff

    def backing_off(self, key: CacheKey) -> bool:
        """True while ``key`` is inside the pause that follows a failed fetch."""
        return self.clock() < self._retry_at.get(key, _NEVER)

    def _save(self) -> None:
        if self._snapshot is None:
            return
        try:
            _snapshot.save(self._snapshot, {k: e.prompt for k, e in self.entries.items()})
        except OSError as exc:
            # A read-only disk must not take the app down with it: the memory cache still works.
            logger.warning("could not write the prompt snapshot %s: %s", self._snapshot, exc)
