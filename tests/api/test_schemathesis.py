"""Property-based conformance: the API does what its own OpenAPI schema says.

Schemathesis reads ``/api/v1/openapi.json`` from the app, generates requests for
every operation (valid ones, and invalid ones that must be refused), sends them
in-process as an admin, and checks each answer: never a 5xx, and a status code,
content type, headers and body the schema documents.

SQLite only: this checks the HTTP contract, which does not depend on the backend.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from scope_api.app import create_app
from scope_api.config import Settings
from scope_api.services import api_keys, tenants
from tests.conftest import JWT_KEY

V1 = "/api/v1"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Names hypothesis reaches for first, so path-parameter operations sometimes hit
# existing resources instead of answering 404 every time.
SEEDED_PROMPTS = ["0", "a", "00", "0-", "0.", "0_"]


def _settings(path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{path}", data_dir=path.parent / "data",
                    jwt_keys=[JWT_KEY])


# Golden-set uploads also take JSON Lines, documented as text: send it as text.
schemathesis.serializer.alias(["application/x-ndjson", "application/jsonl"], "text/plain")

# The schema is read from an app that is never started: building the OpenAPI
# document needs no database. Requests go to the started app of the fixture.
schema = schemathesis.openapi.from_dict(
    create_app(_settings(Path("/nonexistent/scope.db"))).openapi())


def _client(app: FastAPI) -> asgi.ASGIClient:
    """A requests session into ``app``, run by schemathesis's ASGI transport."""
    return asgi.get_client(cast(Any, app))


def _ensure_seeded(app: FastAPI, headers: dict[str, str]) -> None:
    """Seeded prompts exist, each with versions 1 and 2 and a production version."""
    with _client(app) as client:
        for name in SEEDED_PROMPTS:
            if client.get(f"{V1}/prompts/{name}", headers=headers).status_code == 404:
                created = client.post(f"{V1}/prompts", json={"name": name}, headers=headers)
                assert created.status_code == 201, created.text
                for content in ("Hello {{ name }}", [{"role": "user", "content": "{{ q }}"}]):
                    version = client.post(f"{V1}/prompts/{name}/versions",
                                          json={"content": content}, headers=headers)
                    assert version.status_code == 201, version.text
            production = client.get(f"{V1}/prompts/{name}/production", headers=headers)
            if production.status_code == 404:
                client.post(f"{V1}/prompts/{name}/versions/1/unarchive", headers=headers)
                promoted = client.post(f"{V1}/prompts/{name}/versions/1/promote",
                                       headers=headers)
                assert promoted.status_code == 200, promoted.text


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory,
            sqlite_template: Path) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    """The app on its own SQLite database, and an admin's Authorization header."""
    path = tmp_path_factory.mktemp("schemathesis") / "scope.db"
    shutil.copy(sqlite_template, path)
    app = create_app(_settings(path))
    try:
        # Entering the client starts the app's lifespan; schemathesis keeps it
        # running for every request until shutdown_lifespans() below.
        with _client(app) as client:
            with app.state.context.database.unit_of_work() as session:
                tenant = tenants.get_or_create(session, "acme")
                _, secret = api_keys.create(session, tenant_id=tenant.id, name="schemathesis",
                                            role="admin", created_by="tests")
            token = client.post(f"{V1}/auth/token", json={"api_key": secret})
            assert token.status_code == 200, token.text
        yield app, {"Authorization": f"Bearer {token.json()['access_token']}"}
    finally:
        asgi.shutdown_lifespans()


@pytest.fixture
def served(started: tuple[FastAPI, dict[str, str]]) -> tuple[FastAPI, dict[str, str]]:
    """``started``, with the seeded prompts back if an earlier operation deleted them."""
    _ensure_seeded(*started)
    return started


@schema.parametrize()
@settings(max_examples=25, deadline=None, database=None,
          # ``served`` runs once per operation, not per example: intended.
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_openapi_schema(
        case: schemathesis.Case[Any], served: tuple[FastAPI, dict[str, str]]) -> None:
    app, headers = served
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)
