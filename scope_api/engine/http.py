"""The HTTP client provider calls go through: httpx's API on aiohttp's connection pool.

Adapters speak ``httpx.AsyncClient``; :class:`ProviderTransport` sends their requests
with one aiohttp session. httpcore 1.0.9's pool, httpx's default, does work quadratic
in its connection count on every request (each idle check counts every connection and
``select``s its socket): at the 64 calls in flight a run keeps, that took a third of
the server's CPU. With aiohttp's pool and C parser underneath, a run cell costs the
server about 3 ms of CPU instead of 7.5 (``tests/benchmarks/README.md``).

The transport is Scope's own rather than ``httpx_aiohttp``'s, which mapped aiohttp's
errors loosely (a refused connection or a hang-up became ``ConnectTimeout``, which the
adapters would report as "could not be reached within N s") and let others through
unmapped; here each maps to the httpx error of what happened, so the adapters' messages
and retry decisions are those of httpx's own transport. It is also one layer, not two:
an execution's provider call was a fifth of its CPU.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import httpx

from scope_api.engine.proxies import Proxies
from scope_api.engine.resolver import PolicyResolver

MAX_CONNECTIONS = 256
KEEPALIVE_S = 5.0
_CHUNK_BYTES = 64 * 1024

#: aiohttp's errors → httpx's, most specific first (the first ``isinstance`` wins).
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientConnectionError, httpx.ReadError),
    (TimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientError, httpx.TransportError),
)
_CAUGHT = tuple(aiohttp_error for aiohttp_error, _ in _ERRORS)


def _as_httpx(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    for aiohttp_error, httpx_error in _ERRORS:
        if isinstance(exc, aiohttp_error):
            return httpx_error(str(exc) or type(exc).__name__, request=request)
    raise AssertionError(f"unmapped {type(exc).__name__}")  # _CAUGHT is _ERRORS' keys


@functools.lru_cache(maxsize=64)
def _timeout(connect: float | None, read: float | None, pool: float | None
             ) -> aiohttp.ClientTimeout:
    # httpx's timeouts in aiohttp's terms; few distinct values, so built once each.
    return aiohttp.ClientTimeout(sock_connect=connect, sock_read=read, connect=pool)


class _Body(httpx.AsyncByteStream):
    """The response body as aiohttp reads it, with read errors mapped like the request's."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._response, self._request = response, request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(_CHUNK_BYTES):
                yield chunk
        except _CAUGHT as exc:
            raise _as_httpx(exc, self._request) from exc

    async def aclose(self) -> None:
        self._response.release()


class ProviderTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface over one aiohttp session, opened on the first call
    (in the event loop that makes it); through the environment's proxy, if any. Host
    names resolve through ``engine.resolver``: an address the base-URL policy refuses
    (private ones unless ``allow_private()``) raises ``url_safety.UnsafeUrl``."""

    def __init__(self, proxies: Proxies | None = None, *,
                 allow_private: Callable[[], bool] = lambda: False) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._proxies = Proxies() if proxies is None else proxies
        self._allow_private = allow_private

    def _open(self) -> aiohttp.ClientSession:
        resolver = PolicyResolver(allow_private=self._allow_private,
                                  exempt=self._proxies.is_proxy_host)
        # No cookie jar: one session serves every tenant, and a cookie one provider sets
        # must never ride along on another tenant's call to the same host.
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ssl=_tls_context(),
                                           keepalive_timeout=KEEPALIVE_S,
                                           resolver=resolver),
            cookie_jar=aiohttp.DummyCookieJar())
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        timeout = request.extensions.get("timeout", {})
        headers = request.headers.multi_items()
        proxy = self._proxies.for_url(request.url.scheme, request.url.host) \
            if self._proxies else None
        if proxy and proxy.headers and request.url.scheme == "http":
            # aiohttp sends proxy_headers on an HTTPS tunnel's CONNECT only; a plain
            # HTTP request goes to the proxy itself, so it carries them.
            headers += proxy.headers.items()
        try:
            response = await session.request(
                request.method, str(request.url), headers=headers,
                data=await request.aread() or None, allow_redirects=False,
                # httpx decodes Content-Encoding itself (Response.aiter_bytes)
                auto_decompress=False,
                timeout=_timeout(timeout.get("connect"), timeout.get("read"),
                                 timeout.get("pool")),
                proxy=proxy.url if proxy else None,
                proxy_headers=proxy.headers if proxy else None)
        except _CAUGHT as exc:
            raise _as_httpx(exc, request) from exc
        return httpx.Response(
            status_code=response.status, headers=response.raw_headers,
            stream=_Body(response, request), request=request,
            extensions={"http_version": b"HTTP/1.1",
                        "reason_phrase": (response.reason or "").encode()})

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _NoCookies(httpx.Cookies):
    """A jar that keeps nothing a response sets."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class ProviderClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` that keeps no cookies, for the same reason as the session.

    httpx would otherwise also rebuild each response as a ``urllib`` request and
    response for ``http.cookiejar`` (a twentieth of an execution's CPU)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        raise TypeError("provider calls keep no cookies")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~20 ms: once per process, not per client.
    return httpx.create_ssl_context()


def provider_http_client(*, allow_private: Callable[[], bool] = lambda: False
                         ) -> httpx.AsyncClient:
    """A client for provider calls (per-call timeouts come from the adapters), through
    the proxy the environment names (``scope_api.engine.proxies``); host names that
    resolve to private addresses are refused unless ``allow_private()``."""
    return ProviderClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=False,
                          transport=ProviderTransport(allow_private=allow_private))
