"""In-process cache of serialized production versions.

``GET /prompts/{name}/production`` is the hot path of every app using Scope,
so a hit costs a dict lookup and no database round trip. Correctness rules:

* An entry is dropped when a promotion, archive or deletion of its prompt
  *commits* (not before: a rolled-back promotion must not evict anything).
* A reader that missed, queried the database, and is about to store what it
  read must not resurrect a version a concurrent promotion just replaced: each
  key has a generation, bumped on invalidation, and ``put`` only stores if the
  generation is still the one seen before the query.
* Across replicas, PostgreSQL carries invalidations with LISTEN/NOTIFY (the
  NOTIFY is sent inside the promoting transaction, so it is delivered exactly
  when it commits; see ``notify_listener``). The TTL bounds staleness if a
  notification were ever lost, e.g. while a listener reconnects.
* Several processes on one SQLite file (``scope serve --workers N``) share a
  marker file next to the database: a committed invalidation touches it, and
  every lookup compares its mtime (one ``stat``) with the last one seen, clearing
  the cache when another process changed it.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scope_api.db import on_commit

Key = tuple[str, str]  # (tenant id, prompt name)
MAX_ENTRIES = 100_000


@dataclass(frozen=True)
class Entry:
    body: bytes
    etag: str
    expires_at: float


class ProductionCache:
    """Serialized production versions keyed by (tenant id, prompt name)."""

    def __init__(self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic,
                 marker: Path | None = None) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._marker = marker
        self._marker_seen = self._marker_mtime()
        self._entries: dict[Key, Entry] = {}
        self._generations: dict[Key, int] = {}
        self._epoch = 0  # bumped by clear(), which invalidates every key at once
        self._lock = threading.Lock()
        #: Called after every invalidation (one key or all): caches derived from the
        #: registry (``engine.target_cache``) drop what they hold.
        self.listeners: list[Callable[[], None]] = []

    def _marker_mtime(self) -> int:
        if self._marker is None:
            return 0
        try:
            return os.stat(self._marker).st_mtime_ns
        except FileNotFoundError:
            return 0

    def check_marker(self) -> None:
        """Clear everything if another process sharing the SQLite file changed the
        registry (one ``stat``; nothing to do without a marker file)."""
        if self._marker is None:
            return
        seen = self._marker_mtime()
        if seen != self._marker_seen:
            self._marker_seen = seen
            self.clear()

    def get(self, key: Key) -> Entry | None:
        self.check_marker()
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self._clock():
            return None
        return entry

    def generation(self, key: Key) -> tuple[int, int]:
        return self._epoch, self._generations.get(key, 0)

    def put(self, key: Key, body: bytes, generation: tuple[int, int]) -> Entry:
        """Store ``body`` unless ``key`` was invalidated since ``generation`` was read."""
        entry = Entry(body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"',
                      self._clock() + self.ttl_s)
        if self.ttl_s <= 0:
            return entry
        with self._lock:
            if (self._epoch, self._generations.get(key, 0)) == generation:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = entry
        return entry

    def invalidate(self, key: Key) -> None:
        with self._lock:
            self._generations[key] = self._generations.get(key, 0) + 1
            self._entries.pop(key, None)
        self._tell_listeners()

    def announce(self) -> None:
        """Tell other processes sharing the marker file that something changed."""
        if self._marker is not None:
            self._marker.touch()

    def clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self._entries.clear()
        self._tell_listeners()

    def _tell_listeners(self) -> None:
        for listener in self.listeners:
            listener()


NOTIFY_CHANNEL = "scope_production"
#: The key invalidated when a tenant's providers or prices change: not a prompt name
#: (those never start with ``:``), and it reaches the other replicas the same way.
PROVIDERS_KEY = ":providers"


def invalidate_on_commit(session: Session, cache: ProductionCache, key: Key) -> None:
    """Drop ``key`` here when the session commits, and on PostgreSQL tell the other replicas."""
    def after_commit() -> None:
        cache.invalidate(key)
        cache.announce()

    on_commit(session, after_commit)
    if session.get_bind().dialect.name == "postgresql":
        # Sent inside the transaction: PostgreSQL delivers it on commit, never on rollback.
        session.execute(select(func.pg_notify(NOTIFY_CHANNEL, f"{key[0]}:{key[1]}")))
