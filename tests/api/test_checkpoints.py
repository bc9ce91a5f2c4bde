"""SQLite's write-ahead log is checkpointed by the server's thread, not inside commits."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, text

from scope_api.checkpoints import Checkpointer
from scope_api.context import AppContext
from scope_api.db import Database, build_engine
from scope_api.migrate import upgrade

ROWS = 3000  # ~1,500 pages with its index: past SQLite's 1,000-page automatic checkpoint


def fill(database: Database) -> None:
    """Many commits of one row each, as the execution recorder makes them."""
    with database.begin_write() as connection:
        connection.execute(text("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.execute(text("CREATE INDEX ix_filler_body ON filler (body)"))
    for n in range(ROWS):
        with database.begin_write() as connection:
            connection.execute(text("INSERT INTO filler (body) VALUES (:b)"),
                               {"b": f"{n:06d}" + "x" * 500})


def rows_in_main_file(path: Path) -> int:
    """Rows in the database file itself: ``immutable=1`` reads it and ignores the log."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as connection:
        try:
            count: int = connection.execute("SELECT count(*) FROM filler").fetchone()[0]
        except sqlite3.OperationalError:  # the table itself is still only in the log
            return 0
        return count


@contextmanager
def migrated(tmp_path: Path, *, background_checkpoints: bool) -> Iterator[tuple[Database, Path]]:
    """A migrated SQLite database file, opened as the server (``True``) or the CLI would."""
    path = tmp_path / "scope.db"
    upgrade(f"sqlite:///{path}")
    database = Database(build_engine(f"sqlite:///{path}",
                                     background_checkpoints=background_checkpoints))
    try:
        yield database, path
    finally:
        database.dispose()


def test_with_background_checkpoints_commits_leave_the_log_to_the_checkpointer(
        tmp_path: Path) -> None:
    with migrated(tmp_path, background_checkpoints=True) as (database, path):
        fill(database)
        assert rows_in_main_file(path) == 0  # no commit checkpointed
        assert (tmp_path / "scope.db-wal").stat().st_size > 4_000_000

        checkpointer = Checkpointer(database.engine)
        busy, frames, done = checkpointer.checkpoint()
        assert (busy, done) == (0, frames)
        assert rows_in_main_file(path) == ROWS


def test_by_default_commits_checkpoint_as_sqlite_does(tmp_path: Path) -> None:
    """The CLI and migrations keep SQLite's automatic checkpoints."""
    with migrated(tmp_path, background_checkpoints=False) as (database, path):
        fill(database)
        assert rows_in_main_file(path) > 0


def test_the_thread_checkpoints_while_running_and_once_more_when_stopped(
        tmp_path: Path) -> None:
    with migrated(tmp_path, background_checkpoints=True) as (database, path):
        checkpointer = Checkpointer.start_if_sqlite(database.engine)
        assert checkpointer is not None
        try:
            fill(database)
            after_fill = checkpointer.checkpoints
            # The main file is read only once the thread has stopped: a read while a
            # checkpoint writes it could see it half-written.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and checkpointer.checkpoints <= after_fill:
                time.sleep(0.05)
            assert checkpointer.checkpoints > after_fill  # by itself, every 0.25 s
            _busy, frames, done = checkpointer.last or (0, 0, -1)
            assert done == frames  # the whole log: nothing was written since
            with database.begin_write() as connection:
                connection.execute(text("INSERT INTO filler (body) VALUES ('last')"))
        finally:
            checkpointer.stop()
        assert rows_in_main_file(path) == ROWS + 1


@pytest.mark.skipif(sys.platform != "linux", reason="only Linux gives a thread its own nice")
def test_the_checkpoint_thread_runs_at_the_lowest_priority(tmp_path: Path) -> None:
    # It shares the server's CPU: at normal priority its page copies delayed the
    # requests under way every 0.25 s. Only the thread is lowered, not the process.
    before = os.getpriority(os.PRIO_PROCESS, 0)
    with migrated(tmp_path, background_checkpoints=True) as (database, _path):
        checkpointer = Checkpointer(database.engine, interval_s=0.02).start()
        try:
            [thread] = [t for t in threading.enumerate() if t.name == "scope-checkpoints"]
            assert thread.native_id is not None
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and checkpointer.checkpoints == 0:
                time.sleep(0.01)
            assert checkpointer.checkpoints > 0
            assert os.getpriority(os.PRIO_PROCESS, thread.native_id) == 19
        finally:
            checkpointer.stop()
    assert os.getpriority(os.PRIO_PROCESS, 0) == before


def test_a_failed_checkpoint_is_logged_and_the_next_one_catches_up(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "scope.db"
    path.mkdir()  # a folder where the database should be: SQLite cannot open it
    engine = build_engine(f"sqlite:///{path}", background_checkpoints=True)
    checkpointer = Checkpointer(engine, interval_s=0.02)
    try:
        with caplog.at_level(logging.WARNING, logger="scope_api"):
            checkpointer.start()
            assert wait_for(lambda: "SQLite checkpoint failed" in caplog.text)
        assert "SQLite checkpoint failed (OperationalError); retrying in 0.02 s" in caplog.text
        assert checkpointer.checkpoints == 0

        path.rmdir()
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("CREATE TABLE t (x)")
        assert wait_for(lambda: checkpointer.checkpoints > 0)  # the thread kept going
    finally:
        checkpointer.stop()
        engine.dispose()
    assert not checkpointer._thread.is_alive()  # stopped: the failures did not wedge it


def wait_for(condition: Callable[[], bool], timeout_s: float = 10) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_only_sqlite_files_get_a_checkpointer() -> None:
    memory = create_engine("sqlite://")
    postgres = build_engine("postgresql+psycopg://scope@127.0.0.1:1/none")
    try:
        assert Checkpointer.start_if_sqlite(memory) is None
        assert Checkpointer.start_if_sqlite(postgres) is None
    finally:
        memory.dispose()
        postgres.dispose()


async def test_the_server_checkpoints_sqlite_on_its_thread(app: FastAPI) -> None:
    """The server's connections leave checkpoints to its thread; PostgreSQL has none."""
    context: AppContext = app.state.context
    if context.database.is_sqlite:
        assert context.checkpointer is not None
        assert "scope-checkpoints" in [t.name for t in threading.enumerate()]
        with context.database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    else:
        assert context.checkpointer is None
