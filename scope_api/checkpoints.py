"""SQLite's WAL checkpoints, run on a thread of their own instead of inside commits.

By default SQLite checkpoints inside the commit that takes the write-ahead log past
1,000 pages: that commit copies the pages back into the database file and syncs both
files, and every execution waiting on the group commit (``engine.recorder``) waits
with it. Measured in process, one execution after another, one commit in fifty took
3–9 ms instead of ~0.5 ms: the engine's p99 (``tests/benchmarks/README.md``, "Engine
overhead").

So the server's engine is built with automatic checkpoints off
(``build_engine(..., background_checkpoints=True)``) and the lifespan runs
:class:`Checkpointer`: a ``PASSIVE`` checkpoint every :data:`INTERVAL_S`, which waits
for no reader or writer, as SQLite's documentation suggests for applications that
checkpoint in a separate thread. The thread runs at the lowest CPU priority (on
Linux, where a thread has its own nice value): copying a quarter-second's pages
takes the CPU for a while, and at normal priority the requests under way waited for
it every 0.25 s (the p99 at 500 executions/s fell by ~0.8 ms when it stopped). SQLite
releases the interpreter lock while it checkpoints, so the priority decides who gets
the CPU, and the scheduler still gives the thread a share of a saturated one. Nothing
changes for durability: a committed
transaction is in the log either way. Other processes (the CLI, migrations) keep
SQLite's automatic checkpoints, and SQLite checkpoints when the last connection closes.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("scope_api")

#: Between checkpoints. At the highest write rates measured (~500 commits/s of ~15
#: pages each) the log then grows by a few MB between two checkpoints.
INTERVAL_S = 0.25


class Checkpointer:
    """A daemon thread checkpointing one SQLite database's log every ``interval_s``."""

    def __init__(self, engine: Engine, interval_s: float = INTERVAL_S) -> None:
        self._engine = engine
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scope-checkpoints",
                                        daemon=True)
        self.checkpoints = 0  #: how many have run
        #: SQLite's answer to the last one: (busy, log frames, frames checkpointed)
        self.last: tuple[int, int, int] | None = None

    @classmethod
    def start_if_sqlite(cls, engine: Engine) -> Checkpointer | None:
        if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
            return None
        return cls(engine).start()

    def start(self) -> Checkpointer:
        """Start checkpointing, on the thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop, after one last checkpoint."""
        self._stop.set()
        self._thread.join(timeout=10)

    def checkpoint(self) -> tuple[int, int, int]:
        """Checkpoint now: SQLite's ``(busy, log frames, frames checkpointed)``."""
        connection = self._engine.raw_connection()  # autocommit (db._prepare_sqlite)
        try:
            cursor = connection.cursor()
            try:
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                busy, frames, done = cursor.fetchone() or (0, 0, 0)
            finally:
                cursor.close()
        finally:
            connection.close()  # back to the pool
        self.checkpoints += 1
        self.last = (busy, frames, done)
        return busy, frames, done

    def _run(self) -> None:
        _lower_priority()
        while not self._stop.wait(self._interval_s):
            self._checkpoint_logged()
        self._checkpoint_logged()

    def _checkpoint_logged(self) -> None:
        try:
            self.checkpoint()
        except (DBAPIError, sqlite3.Error) as exc:  # the next one will catch up
            log.warning("SQLite checkpoint failed (%s); retrying in %g s",
                        type(getattr(exc, "orig", exc)).__name__, self._interval_s)


def _lower_priority() -> None:
    """Give this thread the lowest CPU priority (Linux: a thread has its own nice value)."""
    if sys.platform != "linux":
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except OSError as exc:  # not allowed here: checkpoints still run, at normal priority
        log.debug("checkpoint thread keeps its priority: %s", exc)
