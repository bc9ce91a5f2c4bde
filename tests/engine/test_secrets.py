"""A provider API key, once stored, is found nowhere in plain text.

Not in the database (every column of every table, and on SQLite the raw bytes
of the database file and its WAL), not in the logs (everything at DEBUG,
SQLAlchemy's statements included), not in any response, not in exported spans,
after a session that stored, used, failed with and replaced the key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, pool, select
from sqlalchemy.engine import make_url

from scope_api.config import Settings
from scope_api.models import Base
from tests.engine.conftest import Lab
from tests.factories import V1
from tests.telemetry.receiver import OtlpReceiver

FIRST_KEY = f"sk-scope-first-{uuid.uuid4().hex}"
SECOND_KEY = f"sk-scope-second-{uuid.uuid4().hex}"
KEYS = (FIRST_KEY, SECOND_KEY)


@pytest.fixture
def settings(settings: Settings, otlp_receiver: OtlpReceiver) -> Settings:
    # Content capture on: even the most talkative spans must not carry a key.
    return settings.model_copy(update={"allow_private_provider_urls": True,
                                       "otlp_endpoint": otlp_receiver.url,
                                       "otel_capture_content": True})


def _database_text(url: str) -> list[str]:
    """Every value of every row of every table, as text."""
    engine = create_engine(url, poolclass=pool.NullPool)
    values: list[str] = []
    try:
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    values += [json.dumps(v, default=str) if isinstance(v, dict | list)
                               else str(v) for v in row]
    finally:
        engine.dispose()
    return values


def _sqlite_bytes(url: str) -> bytes:
    database = make_url(url).database
    assert database
    files = [Path(database), Path(f"{database}-wal"), Path(f"{database}-shm")]
    assert files[0].stat().st_size > 0
    return b"".join(f.read_bytes() for f in files if f.exists())


async def test_a_provider_key_is_never_stored_logged_answered_or_exported(
        lab: Lab, otlp_receiver: OtlpReceiver, database_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        responses.append(response)

    lab.client.event_hooks["response"].append(keep)
    base_url = f"{lab.api.context.simulator_url}/v1"
    simulator_headers = {"x-simulator-key": lab.key}
    for name, headers in (("vault", simulator_headers),
                          ("vault-down", {**simulator_headers, "x-simulator-fault": "500"})):
        created = await lab.client.post(f"{V1}/providers", headers=lab.headers, json={
            "name": name, "kind": "openai_compatible", "base_url": base_url,
            "api_key": FIRST_KEY, "options": {"headers": headers}})
        assert created.status_code == 201, created.text
        assert created.json()["api_key_hint"] == f"…{FIRST_KEY[-4:]}"
    prompt = await lab.prompt([{"role": "system", "content": "Answer {{ style }}."},
                               {"role": "user", "content": "What is {{ thing }}?"}])
    run: dict[str, Any] = {"prompt": prompt, "model": "sim-gpt-mini",
                           "variables": {"style": "briefly", "thing": "a key"}}

    ok = await lab.execute(**run, provider="vault")
    assert ok.status_code == 201, ok.text
    failed = await lab.execute(**run, provider="vault-down")
    assert failed.status_code == 502
    replaced = await lab.client.patch(f"{V1}/providers/vault", headers=lab.headers,
                                      json={"api_key": SECOND_KEY})
    assert replaced.json()["api_key_hint"] == f"…{SECOND_KEY[-4:]}"
    again = await lab.execute(**run, provider="vault")
    assert again.status_code == 201, again.text
    assert await lab.calls() == 1 + 4 + 1  # the failing provider was retried 3 times
    for path in ("/providers", "/providers/vault", "/providers/vault-down", "/models",
                 "/executions", f"/executions/{ok.json()['id']}", "/traces",
                 f"/traces/{ok.json()['trace_id']}"):
        assert (await lab.client.get(f"{V1}{path}", headers=lab.headers)).status_code == 200

    # Responses: bodies and headers.
    assert len(responses) >= 15
    for response in responses:
        for key in KEYS:
            assert key not in response.text, response.request.url
            assert key not in str(response.headers)

    # Exported spans: every attribute, name and status message.
    assert await asyncio.to_thread(lab.api.context.telemetry.flush)
    spans = await asyncio.to_thread(otlp_receiver.wait_for_spans, 3)
    assert len(spans) == 3
    assert any("What is a key?" in str(s.attributes) for s in spans)  # content is captured
    for span in spans:
        exported = f"{span.name} {span.status_message} {span.attributes} {span.resource}"
        for key in KEYS:
            assert key not in exported

    # The database: every column of every table; on SQLite also the raw file and WAL.
    values = _database_text(database_url)
    assert any(v.startswith("v1:") for v in values)  # the keys are stored, encrypted
    assert any("What is a key?" in v for v in values)  # and the scan sees the records
    for key in KEYS:
        assert not [v for v in values if key in v]
    if database_url.startswith("sqlite"):
        raw = _sqlite_bytes(database_url)
        assert b"What is a key?" in raw
        for key in KEYS:
            assert key.encode() not in raw

    # Logs, at DEBUG, from every logger (SQLAlchemy's statements, httpx, retries, …).
    assert any(r.name.startswith("httpx") for r in caplog.records)
    assert any(r.name.startswith("scope_api.providers") for r in caplog.records)  # retries
    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for key in KEYS:
        assert key not in logged
