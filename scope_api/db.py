"""Database engine, sessions and the per-request unit of work.

SQLite and PostgreSQL must behave alike for everything Scope promises, so:

* SQLite runs in WAL mode with foreign keys on and a busy timeout, and we take
  over its transaction handling (pysqlite's own is broken for this): read
  transactions start with ``BEGIN``, write transactions with ``BEGIN IMMEDIATE``
  so two writers queue on the database lock instead of failing half-way with
  ``database is locked`` when a read lock cannot be upgraded.
* PostgreSQL serialises writers to one prompt with ``SELECT … FOR UPDATE`` in
  the services (see ``services.prompts``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from pydantic_core import PydanticSerializationError, to_json
from sqlalchemy import Connection, Engine, RootTransaction, Table, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from scope_api import bulk_insert
from scope_api.errors import Conflict

#: Execution option read by the SQLite ``begin`` hook.
_BEGIN_OPTION = "scope_sqlite_begin"


def _prepare_sqlite(engine: Engine, *, autocheckpoint: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if not autocheckpoint:  # scope_api.checkpoints runs them instead
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
        # On the driver's connection: through conn.exec_driver_sql, SQLAlchemy's
        # statement machinery added ~50 µs to every transaction (measured on the
        # execution records' writes, scope_api.bulk_insert).
        conn.connection.dbapi_connection.execute(f"BEGIN {mode}").close()


def build_engine(url: str, *, pool_size: int = 10,
                 background_checkpoints: bool = False) -> Engine:
    """Create the engine for ``url``; SQLite files get their folder created.

    ``background_checkpoints``: SQLite's commits do not checkpoint the write-ahead log;
    whoever asks for this runs ``scope_api.checkpoints.Checkpointer`` (the server does).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=pool_size, max_overflow=20,
                               json_serializer=json_text)
        _prepare_sqlite(engine, autocheckpoint=not background_checkpoints)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True,
                         json_serializer=json_text)


def json_text(value: Any) -> str:
    """How JSON columns are written: pydantic-core's encoder, several times faster than
    ``json.dumps`` on the four JSON columns of each execution's record. What it refuses
    (a lone surrogate, say in a provider's error message) goes to ``json.dumps``, which
    escapes it, so that nothing it could store becomes unstorable."""
    try:
        return to_json(value, inf_nan_mode="constants").decode()
    except PydanticSerializationError:
        return json.dumps(value)


class Database:
    """The engine and two session factories: one for reads, one for writes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        write_bind = engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"}) \
            if self.is_sqlite else engine
        self._write_bind = write_bind
        self._read = sessionmaker(bind=engine, expire_on_commit=False)
        self._write = sessionmaker(bind=write_bind, expire_on_commit=False)

    def session(self, *, write: bool) -> Session:
        return (self._write if write else self._read)()

    @contextmanager
    def unit_of_work(self, *, write: bool = True) -> Iterator[Session]:
        """A session that commits when the block ends normally and rolls back otherwise."""
        session = self.session(write=write)
        try:
            yield session
            session.commit()
            for callback in session.info.pop("after_commit", []):
                callback()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def begin_write(self) -> AbstractContextManager[Connection]:
        """A Core connection in a write transaction, committed when the block ends
        normally and rolled back otherwise."""
        return self._write_bind.begin()

    def insert_many(self, inserts: Sequence[tuple[Table, bulk_insert.Rows]]) -> None:
        """Insert each table's rows, in order, in one write transaction, through the
        driver's ``executemany`` (``scope_api.bulk_insert``: the hot path's records)."""
        Writer(self._write_bind, keep=False).insert_many(inserts)

    def writer(self) -> Writer:
        """A :class:`Writer` for one thread's stream of short write transactions."""
        return Writer(self._write_bind, keep=True)

    def dispose(self) -> None:
        self.engine.dispose()


class Writer:
    """:meth:`Database.insert_many` for one thread at a time, on a connection it keeps.

    The execution recorder commits up to a few times per millisecond. Taking a
    connection from the pool for each commit (the checkout, SQLAlchemy's ``Connection``
    around it, the rollback that resets it on return) cost ~70 µs of the ~350 µs of CPU
    a commit of one execution took on SQLite (``bench_record_write.py``); on
    PostgreSQL, where the pool also pings each connection it hands out, 120 µs of CPU
    and a round trip (~150 µs) of every execution's wait.

    A kept connection is not pinged, so one that died meanwhile (a server restart, an
    idle timeout, ``pg_terminate_backend``) shows up as a failed write. If it failed
    before the commit was sent, the transaction died with the connection and nothing
    was written, so the write is made again, once, on a fresh (pinged) connection. A
    connection lost during the commit is not retried: whether that commit happened is
    unknown, and the caller is told it failed. Any failed write closes the kept
    connection, so nothing of a failed transaction can outlive it. :meth:`close` gives
    it back.
    """

    def __init__(self, bind: Engine, *, keep: bool) -> None:
        self._bind = bind
        self._keep = keep
        self._connection: Connection | None = None

    def insert_many(self, inserts: Sequence[tuple[Table, bulk_insert.Rows]]) -> None:
        if not self._keep:
            with self._bind.begin() as connection:
                bulk_insert.insert_many(connection, inserts)
            return
        try:
            try:
                transaction = self._begin()
                bulk_insert.insert_many(transaction.connection, inserts)
            except Exception as exc:
                if not self._lost(exc):
                    raise
                self.close(dead=True)
                transaction = self._begin()
                bulk_insert.insert_many(transaction.connection, inserts)
            transaction.commit()
        except BaseException as exc:
            self.close(dead=self._lost(exc))
            raise

    def _begin(self) -> RootTransaction:
        if self._connection is None:
            self._connection = self._bind.connect()
        return self._connection.begin()

    def _lost(self, exc: BaseException) -> bool:
        """Whether ``exc`` says the connection is gone (rather than the write refused)."""
        if isinstance(exc, DBAPIError):
            return exc.connection_invalidated
        # The driver's own error, from SQLite's BEGIN hook (``_prepare_sqlite``).
        dialect = self._bind.dialect
        return isinstance(exc, dialect.loaded_dbapi.Error) \
            and dialect.is_disconnect(exc, None, None)

    def close(self, *, dead: bool = False) -> None:
        """Give the kept connection back (``dead``: discard it instead)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            if dead:
                connection.invalidate()
            connection.close()


def add_unique(session: Session, instance: object, *, conflict: str) -> None:
    """Add and flush ``instance``; a unique violation (a concurrent same-name create) is 409."""
    session.add(instance)
    try:
        with session.begin_nested():  # so only this insert is undone, not the transaction
            session.flush()
    except IntegrityError:
        raise Conflict(conflict) from None


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the session's current transaction has committed."""
    session.info.setdefault("after_commit", []).append(callback)
