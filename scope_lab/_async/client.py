"""``AsyncScope``: the client for asyncio apps (``Scope`` is its blocking twin)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from httpx_retries import Retry, RetryTransport

from scope_lab._async._api import AsyncAPI
from scope_lab._async.resources.admin import AsyncApiKeys, AsyncTraces, AsyncUsers
from scope_lab._async.resources.executions import AsyncExecutions
from scope_lab._async.resources.golden_sets import AsyncGoldenSets
from scope_lab._async.resources.prompts import AsyncPrompts
from scope_lab._async.resources.providers import AsyncModels, AsyncProviders
from scope_lab._async.resources.runs import AsyncRuns
from scope_lab._async.resources.versions import AsyncVersions
from scope_lab._auth import ApiKeyAuth
from scope_lab._backends import AsyncBackend
from scope_lab._cache import PromptCache
from scope_lab._config import DEFAULT_TIMEOUT, default_retry, resolve
from scope_lab.models import Me


class AsyncScope:
    """A connection to one Scope server, with its resources as attributes.

    ``base_url`` and ``api_key`` default to ``SCOPE_BASE_URL`` and ``SCOPE_API_KEY``.
    Pass ``http_client`` to bring your own ``httpx`` client (proxies, certificates,
    event hooks); it is then used as is, so add a retry transport to it if you want
    retries. ``snapshot`` is a file where fetched prompts are kept so an app can start
    while Scope is down; ``clock`` (monotonic seconds) drives the prompt cache and
    token renewal, so tests can move time.
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, *,
                 http_client: httpx.AsyncClient | None = None,
                 timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
                 retry: Retry | None = None,
                 snapshot: str | os.PathLike[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        settings = resolve(base_url, api_key)
        retry = retry or default_retry()
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            transport=RetryTransport(transport=httpx.AsyncHTTPTransport(), retry=retry),
            timeout=timeout, headers={"User-Agent": "scope-lab"})
        auth = ApiKeyAuth(settings.api_key, settings.api_url, retry=retry, clock=clock)
        self._api = AsyncAPI(self._http, settings.api_url, auth)
        self._backend = AsyncBackend()
        self.base_url = settings.base_url
        cache = PromptCache(clock=clock, snapshot=Path(snapshot) if snapshot else None)
        self.prompts = AsyncPrompts(self._api, cache, self._backend)
        self.versions = AsyncVersions(self._api)
        self.providers = AsyncProviders(self._api)
        self.models = AsyncModels(self._api)
        self.executions = AsyncExecutions(self._api)
        self.golden_sets = AsyncGoldenSets(self._api)
        self.traces = AsyncTraces(self._api)
        self.api_keys = AsyncApiKeys(self._api)
        self.users = AsyncUsers(self._api)
        self.runs = AsyncRuns(self._api, self._backend)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def me(self) -> Me:
        """Who this client is: tenant, role and permissions of its API key."""
        return Me.model_validate(await self._api.json("GET", "/me"))

    async def health(self) -> dict[str, Any]:
        """The server's health (``{"status": "ok", "database": "ok", "spans": {…}}``, the
        span counts of the process that answered); no credentials needed."""
        response = await self._http.get(f"{self._api.api_url}/health")
        body: dict[str, Any] = response.json()
        return body

    async def close(self) -> None:
        """Close the connections this client opened (not a client you passed in)."""
        await self._backend.drain()
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncScope:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()
