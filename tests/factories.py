"""Small factories for test data, with keyword overrides."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from fastapi import FastAPI

from scope_api.context import AppContext
from scope_api.services import api_keys, tenants

V1 = "/api/v1"
_names = itertools.count(1)


def unique_name(prefix: str = "prompt") -> str:
    return f"{prefix}-{next(_names)}"


class Api:
    """Talks to the app the way a client does, plus direct key creation."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        self.app = app
        self.client = client

    @property
    def context(self) -> AppContext:
        context: AppContext = self.app.state.context
        return context

    def create_key(self, *, tenant: str = "acme", role: str = "admin",
                   name: str = "test") -> str:
        """A new API key secret for ``tenant`` (created if needed), as ``scope keys create``."""
        with self.context.database.unit_of_work() as session:
            t = tenants.get_or_create(session, tenant)
            _, secret = api_keys.create(session, tenant_id=t.id, name=name, role=role,
                                        created_by="tests")
        return secret

    async def tokens(self, secret: str) -> dict[str, Any]:
        response = await self.client.post(f"{V1}/auth/token", json={"api_key": secret})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def headers(self, *, tenant: str = "acme", role: str = "admin") -> dict[str, str]:
        """Authorization headers for a fresh key of ``role`` in ``tenant``."""
        body = await self.tokens(self.create_key(tenant=tenant, role=role))
        return {"Authorization": f"Bearer {body['access_token']}"}

    async def create_prompt(self, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
        body = {"name": unique_name(), **overrides}
        response = await self.client.post(f"{V1}/prompts", json=body, headers=headers)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def create_version(self, headers: dict[str, str], prompt: str,
                             **overrides: Any) -> dict[str, Any]:
        body = {"content": "Hello {{ name }}!", **overrides}
        response = await self.client.post(f"{V1}/prompts/{prompt}/versions", json=body,
                                          headers=headers)
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    async def promote(self, headers: dict[str, str], prompt: str, number: int,
                      **body: Any) -> httpx.Response:
        return await self.client.post(f"{V1}/prompts/{prompt}/versions/{number}/promote",
                                      json=body or None, headers=headers)
