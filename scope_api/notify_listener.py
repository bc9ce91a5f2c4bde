"""Cross-replica invalidation of the production cache over PostgreSQL LISTEN/NOTIFY.

One daemon thread per process holds a dedicated connection listening on the
channel the promoting transactions notify. If the connection drops, the whole
cache is cleared (notifications may have been missed) and the thread
reconnects with backoff; the cache TTL bounds staleness meanwhile.
"""

from __future__ import annotations

import logging
import threading

import psycopg

from scope_api.context import AppContext
from scope_api.production_cache import NOTIFY_CHANNEL, ProductionCache

log = logging.getLogger("scope_api")


class NotifyListener:
    def __init__(self, dsn: str, cache: ProductionCache) -> None:
        self._dsn = dsn
        self._cache = cache
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scope-notify", daemon=True)

    @classmethod
    def start_if_postgres(cls, context: AppContext) -> NotifyListener | None:
        url = context.database.engine.url
        if url.get_backend_name() != "postgresql":
            return None
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        listener = cls(dsn, context.production_cache)
        listener._thread.start()
        return listener

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self._cache.clear()  # anything cached before LISTEN may be stale
                    delay = 0.5
                    while not self._stop.is_set():
                        # Short timeout: stop() (app shutdown) waits for this loop.
                        for note in conn.notifies(timeout=0.1):
                            tenant_id, _, name = note.payload.partition(":")
                            self._cache.invalidate((tenant_id, name))
            except psycopg.Error as exc:
                log.warning("production cache listener lost its connection (%s); retrying",
                            exc.__class__.__name__)
                self._cache.clear()
                self._stop.wait(delay)
                delay = min(delay * 2, 10.0)
