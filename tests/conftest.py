"""Fixtures shared by the whole suite: real databases, the app, clients, servers.

Every database test runs on SQLite and on PostgreSQL. PostgreSQL is expected at
``SCOPE_TEST_POSTGRES_URL`` (default: the local server on these machines); if it
cannot be reached the PostgreSQL tests *fail*. Set ``SCOPE_TEST_DATABASES=sqlite``
to deliberately run SQLite only (CI never does).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from scope_api.app import create_app
from scope_api.config import Settings
from scope_api.migrate import upgrade
from scope_api.models import Base
from tests.factories import Api

# Apps started inside this process come and go by the hundred: gc.freeze() would only
# cost each a full collection (Settings.gc_freeze). Servers the tests spawn keep it on
# (tests.live strips SCOPE_* variables from their environment).
os.environ["SCOPE_GC_FREEZE"] = "false"

PG_URL = os.environ.get("SCOPE_TEST_POSTGRES_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("SCOPE_TEST_DATABASES",
                                              "sqlite,postgresql").split(",") if b.strip()]
JWT_KEY = "test:" + "k" * 48


def _pg_admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(PG_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT",
                         connect_args={"connect_timeout": 5})


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "scope.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test process."""
    name = f"scope_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL is required at {PG_URL} and could not be reached: {exc}. "
                    "Start it, or set SCOPE_TEST_DATABASES=sqlite to skip it deliberately.")
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each backend."""
    if request.param == "sqlite":
        path = tmp_path / "scope.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_database")
    _truncate_all(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path / "data", jwt_keys=[JWT_KEY])


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://scope.test") as c:
        yield c


@pytest.fixture
def api(app: FastAPI, client: httpx.AsyncClient) -> Api:
    """Helpers to create tenants, keys, tokens, prompts and versions."""
    return Api(app, client)
