"""The HTTP client provider calls go through: httpx's API on aiohttp's connection pool.

Adapters speak ``httpx.AsyncClient``; underneath, ``httpx_aiohttp.AiohttpTransport``
sends the requests with aiohttp. httpcore 1.0.9's pool, httpx's default, does work
quadratic in its connection count on every request (each idle check counts every
connection and ``select``s its socket): at the 64 calls in flight a run keeps, that
took a third of the server's CPU. With aiohttp's pool and C parser underneath, a run
cell costs the server about 3 ms of CPU instead of 7.5 (``tests/benchmarks/README.md``).

``httpx_aiohttp`` maps aiohttp's errors onto httpx's loosely (a refused connection or a
hang-up becomes ``ConnectTimeout``, which the adapters would report as "could not be
reached within N s"); :class:`ProviderTransport` maps them by what happened, so the
adapters' messages and retry decisions stay those of httpx's own transport.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

MAX_CONNECTIONS = 256
KEEPALIVE_S = 5.0

#: aiohttp's errors → httpx's, most specific first (the first ``isinstance`` wins).
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.ReadError),
    (TimeoutError, httpx.ReadTimeout),
)


def _as_httpx(exc: httpx.TransportError, request: httpx.Request) -> httpx.TransportError:
    cause = exc.__cause__
    for aiohttp_error, httpx_error in _ERRORS:
        if isinstance(cause, aiohttp_error):
            return httpx_error(str(cause) or type(cause).__name__, request=request)
    return exc


class _Body(httpx.AsyncByteStream):
    """The response body, with read errors mapped like the request's."""

    def __init__(self, stream: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._stream, self._request = stream, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except httpx.TransportError as exc:
            raise _as_httpx(exc, self._request) from exc.__cause__

    async def aclose(self) -> None:
        await self._stream.aclose()


class ProviderTransport(AiohttpTransport):
    """:class:`AiohttpTransport` with aiohttp's errors mapped by what happened."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await super().handle_async_request(request)
        except httpx.TransportError as exc:
            raise _as_httpx(exc, request) from exc.__cause__
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _Body(response.stream, request)
        # Nor in httpx's jar (see _session).
        if "set-cookie" in response.headers:
            del response.headers["set-cookie"]
        return response


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~20 ms: once per process, not per client.
    return httpx.create_ssl_context()


def _session() -> aiohttp.ClientSession:
    # No cookie jar: one session serves every tenant, and a cookie one provider sets
    # must never ride along on another tenant's call to the same host.
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ssl=_tls_context(),
                                       keepalive_timeout=KEEPALIVE_S),
        cookie_jar=aiohttp.DummyCookieJar())


def provider_http_client() -> httpx.AsyncClient:
    """A client for provider calls (per-call timeouts come from the adapters).

    The aiohttp session is opened on the first call, in the event loop that makes it.
    """
    return httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=False,
                             # verify: the transport builds a TLS context even when
                             # given a session; reuse the loaded one (~20 ms each).
                             transport=ProviderTransport(verify=_tls_context(),
                                                         client=_session))
