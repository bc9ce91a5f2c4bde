"""Migrations: from a truly empty database, to the models' schema, and back.

Each test gets a database nobody has touched: a new SQLite file, or a new
PostgreSQL database created here and dropped afterwards.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from scope_api.migrate import alembic_config, upgrade
from scope_api.models import Base
from tests.conftest import BACKENDS, PG_URL

APP_TABLES = set(Base.metadata.tables)
ONE_PUBLISHED = "uq_prompt_versions_one_published"


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, not even ``alembic_version``."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'scope.db'}"
        return
    name = f"scope_migrate_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _engine(url: str) -> Engine:
    return create_engine(url, poolclass=pool.NullPool)


def _tables(url: str) -> set[str]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _schema_diffs(url: str) -> list[Any]:
    """What autogenerate would change to make the database match the models.

    ``compare_type`` is on so a column of the wrong type counts as a difference.
    ``UtcDateTime`` is a ``TypeDecorator`` over ``DateTime(timezone=True)``, and
    alembic compares a decorator by its impl, so it needs no special handling.
    """
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True})
            diffs: list[Any] = compare_metadata(context, Base.metadata)
            return diffs
    finally:
        engine.dispose()


def _revisions(url: str) -> list[str]:
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def test_upgrade_from_empty_builds_the_models_schema_and_is_idempotent(
        empty_database_url: str) -> None:
    url = empty_database_url
    if not url.startswith("sqlite"):
        assert _tables(url) == set()

    upgrade(url)

    assert _tables(url) == APP_TABLES | {"alembic_version"}
    assert _revisions(url) == [_head(url)]
    assert _schema_diffs(url) == []

    engine = _engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, name, created_at) "
                          "VALUES ('t1', 'kept', CURRENT_TIMESTAMP)"))
    upgrade(url)  # a second run has nothing to do and touches no data
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM tenants")).scalars().all() == ["kept"]
    engine.dispose()
    assert _revisions(url) == [_head(url)]
    assert _schema_diffs(url) == []


def test_downgrade_to_base_then_upgrade_to_head(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url)

    command.downgrade(alembic_config(url), "base")
    assert _tables(url) & APP_TABLES == set()
    assert _revisions(url) == []

    upgrade(url)
    assert _tables(url) == APP_TABLES | {"alembic_version"}
    assert _revisions(url) == [_head(url)]
    assert _schema_diffs(url) == []


def test_two_processes_migrating_at_once_both_succeed(empty_database_url: str) -> None:
    url = empty_database_url
    code = f"from scope_api.migrate import upgrade; upgrade({url!r})"
    processes = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=60), *p.communicate()) for p in processes]
    for returncode, stdout, stderr in results:
        assert returncode == 0, f"{stdout}\n{stderr}"
    assert _revisions(url) == [_head(url)]
    assert _schema_diffs(url) == []


def test_database_refuses_a_second_published_version(empty_database_url: str) -> None:
    url = empty_database_url
    upgrade(url)
    engine = _engine(url)
    with engine.connect() as conn:
        index = next(ix for ix in inspect(conn).get_indexes("prompt_versions")
                     if ix["name"] == ONE_PUBLISHED)
    assert index["column_names"] == ["prompt_id"]
    assert index["unique"]
    where = index["dialect_options"][f"{engine.dialect.name}_where"]
    assert "status" in str(where)
    assert "'published'" in str(where)

    def insert_version(prompt: str, number: int, status: str) -> None:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO prompt_versions (id, prompt_id, number, status, content, "
                "variables, metadata, message, created_at) VALUES (:id, :prompt, :number, "
                """:status, '"hi"', '[]', '{}', '', CURRENT_TIMESTAMP)"""),
                {"id": uuid.uuid4().hex, "prompt": prompt, "number": number, "status": status})

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO tenants (id, name, created_at) "
                          "VALUES ('t1', 'acme', CURRENT_TIMESTAMP)"))
        for prompt in ("p1", "p2"):
            conn.execute(text("INSERT INTO prompts (id, tenant_id, name, description, "
                              "created_at, updated_at) VALUES (:id, 't1', :id, '', "
                              "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"id": prompt})
    insert_version("p1", 1, "published")
    insert_version("p1", 2, "draft")  # the index is partial: other statuses are unlimited
    insert_version("p1", 3, "archived")
    insert_version("p1", 4, "archived")
    insert_version("p2", 1, "published")  # and it is per prompt
    with pytest.raises(IntegrityError):
        insert_version("p1", 5, "published")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE prompt_versions SET status = 'published' "
                          "WHERE prompt_id = 'p1' AND number = 2"))
    with engine.connect() as conn:
        published = conn.execute(text("SELECT prompt_id, count(*) FROM prompt_versions "
                                      "WHERE status = 'published' GROUP BY prompt_id "
                                      "ORDER BY prompt_id")).all()
    assert [tuple(row) for row in published] == [("p1", 1), ("p2", 1)]
    engine.dispose()
