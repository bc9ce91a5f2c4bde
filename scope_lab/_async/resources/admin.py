"""Administration: API keys, users, and traces of executions."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from scope_lab._async.resources._base import AsyncResource, segment
from scope_lab.models import ApiKey, ApiKeyCreated, Span, User


class AsyncApiKeys(AsyncResource):
    """``scope.api_keys``: keys for apps and scripts (admin only)."""

    async def list(self) -> AsyncIterator[ApiKey]:
        """Every key of the tenant, revoked ones included (never their secrets)."""
        async for key in self._api.items("/api-keys", ApiKey.model_validate):
            yield key

    async def create(self, name: str, *, role: str) -> ApiKeyCreated:
        """A new key; its ``secret`` is in this answer only, so store it now."""
        return ApiKeyCreated.model_validate(
            await self._api.json("POST", "/api-keys", json={"name": name, "role": role}))

    async def revoke(self, id: str) -> None:
        """Revoke a key: it can no longer get tokens, and its tokens stop working."""
        await self._api.request("DELETE", f"/api-keys/{segment(id)}")


class AsyncUsers(AsyncResource):
    """``scope.users``: people of the tenant and their roles (admin only)."""

    async def list(self) -> AsyncIterator[User]:
        """Every user of the tenant."""
        async for user in self._api.items("/users", User.model_validate):
            yield user

    async def create(self, email: str, *, role: str) -> User:
        """Add a user with a role (``admin``, ``editor`` or ``viewer``)."""
        return User.model_validate(
            await self._api.json("POST", "/users", json={"email": email, "role": role}))

    async def update(self, id: str, *, role: str) -> User:
        """Change a user's role."""
        return User.model_validate(
            await self._api.json("PATCH", f"/users/{segment(id)}", json={"role": role}))

    async def delete(self, id: str) -> None:
        """Remove a user."""
        await self._api.request("DELETE", f"/users/{segment(id)}")


class AsyncTraces(AsyncResource):
    """``scope.traces``: the spans Scope recorded for executions (also exported by OTLP)."""

    async def list(self, *, prompt: str | None = None, model: str | None = None,
                   status: str | None = None, since: datetime | str | None = None,
                   until: datetime | str | None = None,
                   limit: int | None = None) -> AsyncIterator[Span]:
        """Execution spans, newest first, filtered."""
        params: dict[str, Any] = {"prompt": prompt, "model": model, "status": status,
                                  "since": _iso(since), "until": _iso(until)}
        async for span in self._api.items("/traces", Span.model_validate, params,
                                          limit=limit):
            yield span

    async def retrieve(self, trace_id: str) -> builtins.list[Span]:
        """The spans of one trace."""
        rows = await self._api.json("GET", f"/traces/{segment(trace_id)}")
        return [Span.model_validate(row) for row in rows]


def _iso(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value
