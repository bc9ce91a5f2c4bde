"""SDK tests run against real ``scope serve`` processes over HTTP.

The server runs on SQLite: what the SDK sees does not depend on the database, and
the API's own suite covers PostgreSQL.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from scope_lab import Scope
from tests.live import LiveServer, free_port, serve


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Recorder:
    """What a client sent and received, observed through httpx event hooks."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    statuses: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_request(self, request: httpx.Request) -> None:
        with self._lock:
            self.sent.append((request.method, request.url.path))

    def on_response(self, response: httpx.Response) -> None:
        with self._lock:
            self.statuses.append((response.request.url.path, response.status_code))

    def paths(self, suffix: str = "") -> list[str]:
        with self._lock:
            return [p for _, p in self.sent if p.endswith(suffix)]

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()
            self.statuses.clear()


@pytest.fixture(scope="session")
def live() -> Iterator[LiveServer]:
    """One server for the tests that do not stop it."""
    with serve(None) as server:
        yield server


class Restartable:
    """A server that a test can stop and start again on the same port and data."""

    def __init__(self, tmp: Path) -> None:
        self.port = free_port()
        self.data_dir = tmp / "data"
        self.api_key = "bootstrap-" + secrets.token_urlsafe(32)
        self.base_url = f"http://127.0.0.1:{self.port}"

    @contextmanager
    def running(self, **env: str) -> Iterator[LiveServer]:
        with serve(None, port=self.port, data_dir=self.data_dir,
                   env={"SCOPE_BOOTSTRAP_API_KEY": self.api_key, **env}) as server:
            yield server


@pytest.fixture
def restartable(tmp_path: Path) -> Restartable:
    return Restartable(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def recording_client(recorder: Recorder, **kwargs: object) -> httpx.Client:
    """An httpx client with Scope's retry transport whose traffic the recorder sees."""
    from httpx_retries import RetryTransport

    from scope_lab._config import default_retry

    return httpx.Client(transport=RetryTransport(transport=httpx.HTTPTransport(),
                                                 retry=default_retry()),
                        event_hooks={"request": [recorder.on_request],
                                     "response": [recorder.on_response]}, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def scope(live: LiveServer) -> Iterator[Scope]:
    with Scope(live.base_url, live.api_key) as client:
        yield client
