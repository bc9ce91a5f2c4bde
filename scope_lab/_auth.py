"""API key → short-lived JWT, as an ``httpx.Auth`` that works for sync and async clients.

The key is exchanged on first use (``POST /auth/token``); the access token is renewed
with the refresh token (``POST /auth/refresh``) once 80% of its lifetime has passed,
so a request never carries a token about to expire. Refresh tokens rotate and the
server revokes the whole family when one is reused, so renewal happens under a lock
(one renewal for all threads or tasks), and a refused refresh falls back to a new
exchange of the API key. A request answered 401 (a token revoked early, a server
restarted with new keys) is retried once with a freshly exchanged token.

Token requests are yielded from the auth flow, so they travel through the client's
own transport (timeouts and retries included). Threat model: the API key and tokens
live only in this object's memory; they are never logged, and ``repr`` hides them.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any

import httpx
from httpx_retries import Retry

from scope_lab._http import raise_for_error

_Flow = Generator[httpx.Request, httpx.Response, None]
_RENEW_AT = 0.8  # fraction of the token lifetime after which it is renewed


class ApiKeyAuth(httpx.Auth):
    """Authenticate requests to Scope's API with tokens obtained for an API key."""

    def __init__(self, api_key: str, api_url: str, *, retry: Retry | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._api_key = api_key
        self._api_url = api_url.rstrip("/")
        self._clock = clock
        # The token endpoints are POSTs but safe to repeat: allow the transport to retry them.
        self._retry = retry.copy_with(allowed_methods=["POST"]) if retry is not None else None
        self._access: str | None = None
        self._refresh: str | None = None
        self._renew_at = float("-inf")
        self._thread_lock = threading.Lock()
        self._async_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"ApiKeyAuth(api_url={self._api_url!r}, api_key=…)"

    # -- the flow shared by both kinds of client -------------------------------------

    def _token_request(self, path: str, body: dict[str, str]) -> httpx.Request:
        extensions: dict[str, Any] = {"retry": self._retry} if self._retry else {}
        return httpx.Request("POST", f"{self._api_url}{path}", json=body, extensions=extensions)

    def _renew(self, *, force_exchange: bool = False) -> _Flow:
        """Yield token requests until a valid access token is held."""
        if not force_exchange and self._access is not None and self._clock() < self._renew_at:
            return
        if self._refresh is not None and not force_exchange:
            response = yield self._token_request("/auth/refresh",
                                                 {"refresh_token": self._refresh})
            if response.status_code == 200:
                self._store(response)
                return
            if response.status_code != 401:
                raise_for_error(response)
        self._access = self._refresh = None
        response = yield self._token_request("/auth/token", {"api_key": self._api_key})
        raise_for_error(response)
        self._store(response)

    def _store(self, response: httpx.Response) -> None:
        body = response.json()
        self._access = body["access_token"]
        self._refresh = body.get("refresh_token")
        self._renew_at = self._clock() + float(body["expires_in"]) * _RENEW_AT

    def _authorize(self, request: httpx.Request) -> str:
        token = self._access
        assert token is not None
        request.headers["Authorization"] = f"Bearer {token}"
        return token

    # -- sync ------------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> _Flow:
        with self._thread_lock:
            yield from _drive_sync(self._renew())
            used = self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        response.read()
        with self._thread_lock:
            yield from _drive_sync(self._renew(force_exchange=self._access == used))
            self._authorize(request)
        yield request

    # -- async -----------------------------------------------------------------------

    async def async_auth_flow(
            self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        lock = self._async_lock = self._async_lock or asyncio.Lock()
        async with lock:
            flow = self._renew()
            token_request = _step(flow, None)
            while token_request is not None:
                token_response = yield token_request
                await token_response.aread()
                token_request = _step(flow, token_response)
            used = self._authorize(request)
        response = yield request
        if response.status_code != 401:
            return
        await response.aread()
        async with lock:
            flow = self._renew(force_exchange=self._access == used)
            token_request = _step(flow, None)
            while token_request is not None:
                token_response = yield token_request
                await token_response.aread()
                token_request = _step(flow, token_response)
            self._authorize(request)
        yield request


def _drive_sync(flow: _Flow) -> _Flow:
    """Relay a token flow's requests to httpx, reading each response body for it."""
    try:
        request = next(flow)
        while True:
            response = yield request
            response.read()
            request = flow.send(response)
    except StopIteration:
        return


def _step(flow: _Flow, response: httpx.Response | None) -> httpx.Request | None:
    """Advance a token flow: its next request, or None when it is done.

    (An async generator cannot ``yield from``, so the async flow steps by hand.)
    """
    try:
        return next(flow) if response is None else flow.send(response)
    except StopIteration:
        return None
