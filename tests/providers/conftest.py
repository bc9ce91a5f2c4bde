"""Fixtures for provider tests: a real simulator over HTTP, and the doc-derived samples."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from scope_api.providers.simulator import create_simulator_app

FIXTURES = Path(__file__).parent / "fixtures"
STARTUP_TIMEOUT_S = 10.0


def load_fixture(name: str) -> Any:
    """A doc-derived sample from ``tests/providers/fixtures/`` (see its README)."""
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope="session")
def simulator_url() -> Iterator[str]:
    """Base URL of a simulator served by uvicorn on an ephemeral port, for the session.

    Calls are counted per ``x-simulator-key``, so tests sharing it use their
    own key (``simulator_key``) rather than resetting each other's counts.
    """
    config = uvicorn.Config(create_simulator_app(), host="127.0.0.1", port=0,
                            log_level="warning", access_log=False, lifespan="off", ws="none")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="provider-simulator", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the provider simulator did not start")
        time.sleep(0.01)  # polling a condition, not synchronising on time
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def simulator_key() -> str:
    """A fresh ``x-simulator-key`` value: this test's own call counter."""
    return f"test-{uuid.uuid4().hex}"
