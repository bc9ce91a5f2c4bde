"""Execution records written through the driver's executemany are stored exactly as
SQLAlchemy's own INSERT stores them, in one transaction, with SQLAlchemy's errors."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from scope_api.db import Database, Writer, build_engine
from scope_api.engine.record import EXECUTIONS, SPANS
from scope_api.services import tenants


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(build_engine(database_url, pool_size=1))
    yield db
    db.dispose()


@pytest.fixture
def tenant_id(database: Database) -> str:
    with database.unit_of_work() as session:
        return tenants.get_or_create(session, "acme").id


def pair(tenant_id: str, **changes: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    execution_id, trace_id = uuid.uuid4().hex, uuid.uuid4().hex
    row = {"id": execution_id, "tenant_id": tenant_id, "prompt": "greet", "prompt_id": None,
           "version": 3, "provider": "sim", "provider_id": None, "model": "m-1",
           "status": "succeeded",
           "rendered": {"messages": [{"role": "user", "content": "Hi é ✓ \"quoted\""}],
                        "parameters": {"temperature": 0.25, "stop": ["\n"]}},
           "output": "Hello", "error": None, "input_tokens": 7, "output_tokens": 2,
           "latency_ms": 12.5, "cost_usd": "0.000123", "warnings": [],
           "trace_id": trace_id, "span_id": trace_id[:16], "created_by": "api_key:k1",
           "created_at": datetime(2026, 11, 26, 9, 30, 0, tzinfo=UTC)}
    span = {"trace_id": trace_id, "span_id": trace_id[:16], "tenant_id": tenant_id,
            "execution_id": execution_id, "name": "chat m-1",
            "start": datetime(2026, 11, 26, 9, 29, 59, 987000, tzinfo=UTC),
            "duration_ms": 12.9, "status": "OK", "prompt": "greet", "model": "m-1",
            "attributes": {"gen_ai.usage.input_tokens": 7, "scope.cost_usd": 0.000123,
                           "gen_ai.response.finish_reasons": ["stop"]}}
    row.update(changes)
    return row, span


def stored(database: Database, table: str, key: str, value: str) -> dict[str, Any]:
    """The row as the database holds it (JSON and datetimes as stored, not parsed back)."""
    with database.engine.connect() as connection:
        columns = [c.name for c in (EXECUTIONS if table == "executions" else SPANS).columns]
        # CAST: on PostgreSQL, compare the stored text, not psycopg's decoded values.
        listed = ", ".join(f"CAST({c} AS TEXT) AS {c}" for c in columns)
        found = connection.execute(text(f"SELECT {listed} FROM {table} WHERE {key} = :v"),
                                   {"v": value}).mappings().one()
        return {k: v for k, v in found.items() if k not in ("id", "trace_id", "span_id",
                                                           "execution_id")}


def test_rows_are_stored_exactly_as_sqlalchemys_insert_stores_them(
        database: Database, tenant_id: str) -> None:
    by_core = pair(tenant_id)
    by_driver = pair(tenant_id, error={"type": "provider_error", "message": "boom"},
                     status="failed", output=None, cost_usd=None)
    by_core_failed = pair(tenant_id, error={"type": "provider_error", "message": "boom"},
                          status="failed", output=None, cost_usd=None)
    with database.begin_write() as connection:
        for row, span in (by_core, by_core_failed):
            connection.execute(insert(EXECUTIONS), [row])
            connection.execute(insert(SPANS), [span])
    same_as_core = pair(tenant_id)
    database.insert_many([(EXECUTIONS, [same_as_core[0], by_driver[0]]),
                          (SPANS, [same_as_core[1], by_driver[1]])])

    for mine, theirs in ((same_as_core, by_core), (by_driver, by_core_failed)):
        assert stored(database, "executions", "id", mine[0]["id"]) == \
            stored(database, "executions", "id", theirs[0]["id"])
        assert stored(database, "execution_spans", "trace_id", mine[1]["trace_id"]) == \
            stored(database, "execution_spans", "trace_id", theirs[1]["trace_id"])
    # A missing error is SQL NULL (the column's none_as_null), as with SQLAlchemy's insert.
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM executions WHERE error IS NULL")
                                  ).scalar() == 2


def test_a_failing_row_rolls_back_the_whole_transaction_with_sqlalchemys_error(
        database: Database, tenant_id: str) -> None:
    good = pair(tenant_id)
    orphan = pair(tenant_id)[1] | {"execution_id": "no-such-execution"}
    with pytest.raises(IntegrityError) as raised:
        database.insert_many([(EXECUTIONS, [good[0]]), (SPANS, [good[1], orphan])])
    assert "Hi é" not in str(raised.value)  # parameters (prompts, outputs) are not shown
    with database.engine.connect() as connection:
        assert connection.execute(select(EXECUTIONS.c.id)).all() == []
    database.insert_many([(EXECUTIONS, [good[0]]), (SPANS, [good[1]])])  # still usable
    with database.engine.connect() as connection:
        assert connection.execute(select(EXECUTIONS.c.id)).scalars().all() == [good[0]["id"]]


def test_rows_must_give_every_column(database: Database, tenant_id: str) -> None:
    row, _ = pair(tenant_id)
    del row["warnings"]  # it has a default, which this path does not apply
    with pytest.raises(ValueError, match="must give exactly its columns"):
        database.insert_many([(EXECUTIONS, [row])])


@pytest.mark.parametrize("change", ["extra key", "missing key"])
def test_rows_of_one_table_must_have_the_same_keys(database: Database, tenant_id: str,
                                                   change: str) -> None:
    first, second = pair(tenant_id), pair(tenant_id)
    if change == "extra key":
        second[0]["note"] = "would be dropped without a word"
    else:
        del second[0]["output"]
    with pytest.raises(ValueError, match="executions must all have the same keys"):
        database.insert_many([(EXECUTIONS, [first[0], second[0]]), (SPANS, [first[1]])])
    with database.engine.connect() as connection:
        assert connection.execute(select(EXECUTIONS.c.id)).all() == []


def ids(database: Database) -> list[str]:
    with database.engine.connect() as connection:
        return sorted(connection.execute(select(EXECUTIONS.c.id)).scalars())


def test_a_writer_commits_every_write_on_the_connection_it_keeps(
        database: Database, tenant_id: str) -> None:
    """The execution recorder's writer: one connection serves every write (no pool
    checkout, and on PostgreSQL no ping, per commit), and each write is committed."""
    pool = database.engine.pool
    writer = database.writer()
    first, second = pair(tenant_id), pair(tenant_id)
    writer.insert_many([(EXECUTIONS, [first[0]]), (SPANS, [first[1]])])
    assert ids(database) == [first[0]["id"]]  # committed: another connection sees it
    assert pool.checkedout() == 1  # type: ignore[attr-defined]
    writer.insert_many([(EXECUTIONS, [second[0]]), (SPANS, [second[1]])])
    assert ids(database) == sorted([first[0]["id"], second[0]["id"]])
    assert pool.checkedout() == 1  # type: ignore[attr-defined]
    writer.close()
    assert pool.checkedout() == 0  # type: ignore[attr-defined]


def lose_connections(database: Database, writer: Writer) -> None:
    """Take the writer's kept connection away as a server would: on PostgreSQL every
    other backend of the database is terminated (as a restart does); SQLite has no
    server, so its driver connection is closed underneath SQLAlchemy."""
    if database.is_sqlite:
        kept = writer._connection  # only the writer holds it
        assert kept is not None
        kept.connection.dbapi_connection.close()  # type: ignore[union-attr]
        return
    with database.engine.connect() as connection:
        ended = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    assert (ended or 0) >= 1  # the writer's connection among them


def test_a_writer_whose_connection_died_writes_again_on_a_new_one(
        database: Database, tenant_id: str, caplog: pytest.LogCaptureFixture) -> None:
    """A connection lost between two writes fails the next one before its commit, when
    nothing can have been written: the writer makes the write again on a fresh
    connection, so it is stored exactly once and its caller never sees the loss."""
    writer = database.writer()
    first, second = pair(tenant_id), pair(tenant_id)
    writer.insert_many([(EXECUTIONS, [first[0]]), (SPANS, [first[1]])])
    lose_connections(database, writer)

    writer.insert_many([(EXECUTIONS, [second[0]]), (SPANS, [second[1]])])

    assert ids(database) == sorted([first[0]["id"], second[0]["id"]])
    with database.engine.connect() as connection:
        spans = connection.execute(select(SPANS.c.execution_id)).scalars().all()
    assert sorted(spans) == sorted([first[0]["id"], second[0]["id"]])
    assert database.engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    writer.close()
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert "Exception during reset" not in caplog.text  # the dead one was discarded


def test_a_writers_failed_write_leaves_nothing_behind(database: Database,
                                                      tenant_id: str) -> None:
    """Rolled back, its connection given back: other writers are not locked out, and
    the writer's next write works."""
    writer = database.writer()
    good, later = pair(tenant_id), pair(tenant_id)
    orphan = pair(tenant_id)[1] | {"execution_id": "no-such-execution"}
    with pytest.raises(IntegrityError):
        writer.insert_many([(EXECUTIONS, [good[0]]), (SPANS, [good[1], orphan])])
    assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert ids(database) == []
    database.insert_many([(EXECUTIONS, [good[0]]), (SPANS, [good[1]])])  # not locked out
    writer.insert_many([(EXECUTIONS, [later[0]]), (SPANS, [later[1]])])
    assert ids(database) == sorted([good[0]["id"], later[0]["id"]])
    writer.close()


def test_json_columns_read_back_what_was_written_even_half_a_character(
        database: Database, tenant_id: str) -> None:
    """JSON columns are encoded by pydantic-core (``db.json_text``); what it refuses, a
    lone UTF-16 surrogate, goes through ``json.dumps`` instead of failing the insert."""
    error = {"code": "provider_error", "message": "cut \ud83d here, é ✓ \"quoted\""}
    row, span = pair(tenant_id, status="failed", output=None, cost_usd=None, error=error)
    database.insert_many([(EXECUTIONS, [row]), (SPANS, [span])])
    with database.engine.connect() as connection:
        found = connection.execute(select(EXECUTIONS.c.error, EXECUTIONS.c.rendered)
                                   .where(EXECUTIONS.c.id == row["id"])).one()
    assert (found.error, found.rendered) == (error, row["rendered"])
