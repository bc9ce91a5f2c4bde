"""Token exchange and renewal, and the retry transport, as an app would experience them."""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import httpx
import pytest
from httpx_retries import Retry, RetryTransport

import scope_lab
from scope_lab import Scope
from scope_lab._config import default_retry
from tests.lab.conftest import FakeClock, Recorder, Restartable, recording_client
from tests.live import LiveServer


def test_token_is_renewed_with_the_refresh_token_before_it_expires(
        live: LiveServer, clock: FakeClock, recorder: Recorder) -> None:
    with recording_client(recorder) as http, \
            Scope(live.base_url, live.api_key, clock=clock, http_client=http) as client:
        client.me()
        assert recorder.paths() == ["/api/v1/auth/token", "/api/v1/me"]
        recorder.clear()
        clock.advance(600)  # 2/3 of the 15-minute lifetime: still used as is
        client.me()
        assert recorder.paths() == ["/api/v1/me"]
        recorder.clear()
        clock.advance(200)  # past 80%: renewed first
        client.me()
        assert recorder.paths() == ["/api/v1/auth/refresh", "/api/v1/me"]


def test_concurrent_requests_share_one_renewal(live: LiveServer, clock: FakeClock,
                                               recorder: Recorder) -> None:
    with recording_client(recorder) as http, \
            Scope(live.base_url, live.api_key, clock=clock, http_client=http) as client:
        client.me()
        clock.advance(850)
        recorder.clear()
        barrier = threading.Barrier(6)
        errors: list[BaseException] = []

        def call() -> None:
            barrier.wait()
            try:
                client.me()
            except BaseException as exc:  # reported below, with the thread's failure
                errors.append(exc)

        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        # Refresh tokens rotate and reuse revokes them: a second renewal would break.
        assert recorder.paths("/auth/refresh") == ["/api/v1/auth/refresh"]
        assert recorder.paths("/auth/token") == []


def test_a_rejected_token_is_replaced_once(restartable: Restartable,
                                           recorder: Recorder) -> None:
    http = recording_client(recorder)
    client = Scope(restartable.base_url, restartable.api_key, http_client=http)
    with restartable.running():
        client.me()
    # The operator rotates the signing keys: every token issued so far is invalid.
    with restartable.running(SCOPE_JWT_KEYS="rotated:" + "r" * 48):
        recorder.clear()
        assert client.me().role == "admin"
    assert [s for s in recorder.statuses if s[0].endswith("/me")] == [
        ("/api/v1/me", 401), ("/api/v1/me", 200)]
    assert recorder.paths("/auth/token") == ["/api/v1/auth/token"]
    client.close()
    http.close()


def test_a_bad_api_key_is_unauthenticated(live: LiveServer) -> None:
    with Scope(live.base_url, "not-a-key") as client, \
            pytest.raises(scope_lab.Unauthenticated) as error:
        client.me()
    assert error.value.status == 401


def test_requests_are_retried_until_the_server_is_back(restartable: Restartable) -> None:
    retry = Retry(total=15, backoff_factor=0.25, backoff_jitter=0.0, max_backoff_wait=1.0,
                  status_forcelist=[429, 500, 502, 503, 504],
                  retry_on_exceptions=(httpx.TransportError,))
    with restartable.running():
        client = Scope(restartable.base_url, restartable.api_key, retry=retry)
        client.me()
    with restartable.running():
        pass  # make sure the next start is fast (migrations done)
    started = threading.Event()

    def start_later() -> None:
        time.sleep(1.0)  # the client is already retrying by now
        with restartable.running():
            started.set()
            time.sleep(3)

    thread = threading.Thread(target=start_later)
    thread.start()
    assert client.me().role == "admin"
    assert started.is_set()
    thread.join()
    client.close()


class RecordingRetry(Retry):
    """A Retry that records the waits it would make instead of sleeping."""

    waits: ClassVar[list[float]] = []

    def sleep(self, response: httpx.Response | Exception) -> None:
        headers = response.headers if isinstance(response, httpx.Response) else {}
        RecordingRetry.waits.append(self._calculate_sleep(headers))


def scripted(answers: list[tuple[int, dict[str, str]]], calls: list[str]) -> httpx.MockTransport:
    """A server that answers the token exchange, then plays ``answers`` in order."""

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/auth/token") and len(answers) == 0:
            return httpx.Response(200, json=_tokens())
        if request.url.path.endswith("/auth/token"):
            status, headers = answers.pop(0)
            return httpx.Response(status, headers=headers, json=_tokens()
                                  if status == 200 else _error(status))
        status, headers = answers.pop(0) if answers else (200, {})
        body: Any = {"tenant": "t", "role": "admin", "permissions": []} \
            if status == 200 else _error(status)
        return httpx.Response(status, headers=headers, json=body)

    return httpx.MockTransport(handle)


def _tokens() -> dict[str, Any]:
    return {"access_token": "a", "token_type": "bearer", "expires_in": 900,
            "refresh_token": "r"}


def _error(status: int) -> dict[str, Any]:
    return {"error": {"code": "x", "message": f"status {status}", "details": {},
                      "request_id": "req-1"}}


@pytest.fixture
def waits() -> list[float]:
    RecordingRetry.waits = []
    return RecordingRetry.waits


def _client(transport: httpx.MockTransport) -> Scope:
    retry = RecordingRetry(total=3, backoff_factor=0.5, backoff_jitter=0.0,
                           max_backoff_wait=30, status_forcelist=[429, 500, 502, 503, 504],
                           retry_on_exceptions=(httpx.TransportError,))
    http = httpx.Client(transport=RetryTransport(transport=transport, retry=retry))
    return Scope("http://scope.test", "key", http_client=http, retry=retry)


def test_retry_after_is_honoured_for_429_and_503(waits: list[float]) -> None:
    calls: list[str] = []
    client = _client(scripted([(200, {}), (429, {"Retry-After": "2"}),
                               (503, {"Retry-After": "7"}), (200, {})], calls))
    assert client.me().role == "admin"
    assert calls.count("GET /api/v1/me") == 3
    assert waits == [2.0, 7.0]


def test_writes_are_not_retried(waits: list[float]) -> None:
    calls: list[str] = []
    client = _client(scripted([(200, {}), (503, {})], calls))
    with pytest.raises(scope_lab.ServerError) as error:
        client.prompts.create("p")
    assert error.value.status == 503
    assert error.value.request_id == "req-1"
    assert calls.count("POST /api/v1/prompts") == 1
    assert waits == []


def test_the_token_exchange_is_retried(waits: list[float]) -> None:
    calls: list[str] = []
    client = _client(scripted([(502, {}), (200, {})], calls))
    assert client.me().role == "admin"
    assert calls[:2] == ["POST /api/v1/auth/token"] * 2
    assert len(waits) == 1


def test_errors_from_something_other_than_scope_are_explained() -> None:
    def proxy(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html>nginx: not found</html>")

    client = Scope("http://scope.test", "key", http_client=httpx.Client(
        transport=httpx.MockTransport(proxy)), retry=default_retry())
    with pytest.raises(scope_lab.NotFound, match=r"unexpected response from scope\.test"):
        client.me()
