"""Prompts: the registry entries, and ``get`` — the cached fetch production apps use."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from scope_lab._async._api import AsyncAPI
from scope_lab._async.resources._base import AsyncResource, segment
from scope_lab._backends import AsyncBackend
from scope_lab._cache import CacheKey, PromptCache
from scope_lab._prompt import Prompt
from scope_lab.errors import ConnectionError, RateLimited, ScopeError, ServerError
from scope_lab.models import Content, PromptInfo

logger = logging.getLogger("scope_lab")
# Failures that mean "Scope is unavailable right now", as opposed to a definite answer.
_UNAVAILABLE = (ConnectionError, ServerError, RateLimited)


class AsyncPrompts(AsyncResource):
    """``scope.prompts``: create and browse prompts; ``get`` one for your app."""

    def __init__(self, api: AsyncAPI, cache: PromptCache, backend: AsyncBackend) -> None:
        super().__init__(api)
        self._cache = cache
        self._backend = backend

    async def get(self, name: str, *, label: str = "production", version: int | None = None,
                  ttl: float = 60.0, fallback: Content | None = None) -> Prompt:
        """The prompt an app should use now, from the cache whenever possible.

        A hit younger than ``ttl`` seconds never touches the network. An older one is
        returned at once while one background refresh (revalidated with ``ETag``) runs.
        If Scope is unreachable the last good value keeps being served; with nothing
        cached, ``fallback`` (a template) is returned with ``is_fallback=True``, or
        :class:`scope_lab.ConnectionError` is raised. ``version`` pins a version
        number instead of the ``production`` label.
        """
        key: CacheKey = (name, label, version)
        entry = self._cache.entries.get(key)
        if entry is not None:
            if self._cache.clock() - entry.fetched_at >= ttl and self._cache.claim(key, ttl):
                self._backend.spawn(self._refresh, key)
            return entry.prompt
        if fallback is not None and self._cache.backing_off(key):
            return Prompt.fallback(name, fallback)
        try:
            prompt = await self._fetch(key, None)
        except _UNAVAILABLE as exc:
            self._cache.failed(key)
            if fallback is None:
                raise
            logger.warning("Scope is unavailable (%s); using the fallback for prompt %r",
                           exc, name)
            return Prompt.fallback(name, fallback)
        assert prompt is not None
        self._cache.store(key, prompt)
        return prompt

    async def _fetch(self, key: CacheKey, etag: str | None) -> Prompt | None:
        """Fetch from the server; None when ``etag`` is still current (304)."""
        name, label, version = key
        if version is not None:
            path = f"/prompts/{segment(name)}/versions/{int(version)}"
        elif label == "production":
            path = f"/prompts/{segment(name)}/production"
        else:
            raise ValueError(f"unknown label {label!r}: the registry has 'production' "
                             "(or pass version=N)")
        headers = {"If-None-Match": etag} if etag else None
        response = await self._api.request("GET", path, headers=headers)
        if response.status_code == 304:
            return None
        return Prompt.from_version(response.json(), response.headers.get("etag"))

    async def _refresh(self, key: CacheKey) -> None:
        try:
            entry = self._cache.entries.get(key)
            prompt = await self._fetch(key, entry.prompt.etag if entry else None)
            if prompt is None:
                self._cache.touch(key)
            else:
                self._cache.store(key, prompt)
        except ScopeError as exc:
            # Keep serving the last good value; a deleted or unpublished prompt too, so an
            # operator's mistake cannot take a running app down. Say so in the log.
            self._cache.failed(key)
            logger.warning("could not refresh prompt %r (%s); serving the cached version",
                           key[0], exc)
        finally:
            self._cache.release(key)

    async def list(self, *, tag: str | None = None, q: str | None = None,
                   limit: int | None = None) -> AsyncIterator[PromptInfo]:
        """All prompts (optionally with ``tag`` or matching ``q``), fetched lazily."""
        async for prompt in self._api.items("/prompts", PromptInfo.model_validate,
                                            {"tag": tag, "q": q}, limit=limit):
            yield prompt

    async def create(self, name: str, *, description: str = "",
                     tags: Sequence[str] = ()) -> PromptInfo:
        """Register a new prompt (it has no versions yet)."""
        body = {"name": name, "description": description, "tags": list(tags)}
        return PromptInfo.model_validate(await self._api.json("POST", "/prompts", json=body))

    async def retrieve(self, name: str) -> PromptInfo:
        """A prompt's registry entry, with its production and latest version numbers."""
        return PromptInfo.model_validate(
            await self._api.json("GET", f"/prompts/{segment(name)}"))

    async def update(self, name: str, *, description: str | None = None,
                     tags: Sequence[str] | None = None) -> PromptInfo:
        """Change a prompt's description or tags."""
        body: dict[str, Any] = {}
        if description is not None:
            body["description"] = description
        if tags is not None:
            body["tags"] = list(tags)
        return PromptInfo.model_validate(
            await self._api.json("PATCH", f"/prompts/{segment(name)}", json=body))

    async def delete(self, name: str) -> None:
        """Delete a prompt with all its versions and history."""
        await self._api.request("DELETE", f"/prompts/{segment(name)}")
