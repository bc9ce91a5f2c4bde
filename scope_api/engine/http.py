"""The HTTP client provider calls go through."""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA bundle takes ~20 ms: once per process, not per client.
    return httpx.create_ssl_context()


def provider_http_client() -> httpx.AsyncClient:
    """A client for provider calls (per-call timeouts come from the adapters)."""
    return httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=False,
                             verify=_tls_context(),
                             limits=httpx.Limits(max_connections=256,
                                                 max_keepalive_connections=64))
