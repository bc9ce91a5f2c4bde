"""Fixtures for engine tests: the real app with its in-process simulator, fast retries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest

from scope_api.config import Settings
from tests.factories import V1, Api, unique_name
from tests.telemetry.receiver import OtlpReceiver

MODELS = ("sim-gpt-mini", "sim-claude-haiku", "sim-gemini-flash")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Retries as in production (4 attempts), but waits of milliseconds, not seconds."""
    return settings.model_copy(update={"provider_retry_base_delay_s": 0.001,
                                       "provider_retry_max_delay_s": 0.01})


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@dataclass
class Lab:
    """A tenant with a simulator provider and helpers to run and inspect executions."""

    api: Api
    headers: dict[str, str]
    key: str = field(default_factory=lambda: f"engine-{uuid.uuid4().hex}")

    @property
    def client(self) -> httpx.AsyncClient:
        return self.api.client

    async def prompt(self, *contents: Any, promote: int | None = None) -> str:
        """A new prompt with one version per content (numbers 1, 2, …)."""
        name = (await self.api.create_prompt(self.headers))["name"]
        for content in contents:
            await self.api.create_version(self.headers, name, content=content)
        if promote is not None:
            assert (await self.api.promote(self.headers, name, promote)).status_code == 200
        return name

    async def provider(self, *, headers: dict[str, str] | None = None,
                       **options: Any) -> str:
        """A simulator provider whose calls are counted under this lab's key."""
        name = unique_name("sim")
        body = {"name": name, "kind": "simulator",
                "options": {"headers": {"x-simulator-key": self.key, **(headers or {})},
                            **options}}
        response = await self.client.post(f"{V1}/providers", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return name

    async def local_provider(self, monkeypatch: pytest.MonkeyPatch) -> str:
        """An ``openai_compatible`` provider at the in-process simulator's loopback URL,
        saved with ``SCOPE_ALLOW_PRIVATE_PROVIDER_URLS`` on (left on: the caller turns
        it off to see the URL refused at call time)."""
        monkeypatch.setattr(self.api.context.settings, "allow_private_provider_urls", True)
        name = unique_name("local")
        response = await self.client.post(f"{V1}/providers", headers=self.headers, json={
            "name": name, "kind": "openai_compatible",
            "base_url": f"{self.api.context.simulator_url}/v1", "api_key": "sk-local-test-key",
            "options": {"headers": {"x-simulator-key": self.key}}})
        assert response.status_code == 201, response.text
        return name

    async def execute(self, **body: Any) -> httpx.Response:
        body.setdefault("variables", {})
        if "label" not in body:
            body.setdefault("version", 1)
        return await self.client.post(f"{V1}/executions", json=body, headers=self.headers)

    async def calls(self) -> int:
        """Completion requests the simulator received with this lab's key."""
        url = self.api.context.simulator_url
        async with httpx.AsyncClient() as client:
            response = await client.get(f"{url}/_simulator/calls", params={"key": self.key})
        count: int = response.json()["calls"]
        return count

    async def executions(self, **params: Any) -> list[dict[str, Any]]:
        response = await self.client.get(f"{V1}/executions", params=params,
                                         headers=self.headers)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    async def prices(self, provider: str) -> dict[str, tuple[Decimal, Decimal]]:
        response = await self.client.get(f"{V1}/models", params={"provider": provider},
                                         headers=self.headers)
        return {m["model"]: (Decimal(str(m["input_per_mtok_usd"])),
                             Decimal(str(m["output_per_mtok_usd"])))
                for m in response.json()["data"] if m["input_per_mtok_usd"] is not None}


@pytest.fixture
async def lab(api: Api) -> Lab:
    """An admin of tenant ``acme`` (admins may create providers and execute)."""
    return Lab(api, await api.headers(role="admin"))


def expected_cost(input_tokens: int, output_tokens: int,
                  price: tuple[Decimal, Decimal]) -> float:
    """API.md: input_tokens × input price / 1e6 + output_tokens × output price / 1e6."""
    return float(input_tokens * price[0] / 10**6 + output_tokens * price[1] / 10**6)
