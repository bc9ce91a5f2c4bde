"""Fixtures for run tests: the real app, its in-process simulator and its run worker."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest

from scope_api.config import Settings
from tests.engine.conftest import Lab
from tests.factories import V1, Api, unique_name


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Fast provider retries, short leases and a quick worker loop."""
    return settings.model_copy(update={"provider_retry_base_delay_s": 0.001,
                                       "provider_retry_max_delay_s": 0.01,
                                       "run_lease_s": 2.0, "run_poll_s": 0.05})


@dataclass
class Runs(Lab):
    """A Lab that also makes golden sets and runs, and waits for runs to end."""

    async def golden_set(self, items: list[dict[str, Any]]) -> str:
        name = unique_name("set")
        response = await self.client.post(f"{V1}/golden-sets", json={"name": name},
                                          headers=self.headers)
        assert response.status_code == 201, response.text
        response = await self.client.post(f"{V1}/golden-sets/{name}/items", json=items,
                                          headers=self.headers)
        assert response.status_code == 201, response.text
        return name

    async def start(self, golden_set: str, **body: Any) -> Any:
        return await self.client.post(f"{V1}/golden-sets/{golden_set}/runs", json=body,
                                      headers=self.headers)

    async def run(self, run_id: str) -> dict[str, Any]:
        response = await self.client.get(f"{V1}/runs/{run_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def wait(self, run_id: str, timeout_s: float = 30) -> dict[str, Any]:
        """Poll until the run has ended (as a client would)."""
        deadline = time.monotonic() + timeout_s
        while True:
            run = await self.run(run_id)
            if run["status"] not in ("queued", "running"):
                return run
            if time.monotonic() > deadline:
                raise AssertionError(f"run still {run['status']} after {timeout_s}s: {run}")
            await asyncio.sleep(0.05)

    async def results(self, run_id: str, *, limit: int = 200,
                      **filters: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": limit, **filters}
            if cursor:
                params["cursor"] = cursor
            response = await self.client.get(f"{V1}/runs/{run_id}/results", params=params,
                                              headers=self.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            rows.extend(page["data"])
            cursor = page["next_cursor"]
            if not cursor:
                return rows


@pytest.fixture
async def runs(api: Api) -> Runs:
    return Runs(api, await api.headers(role="admin"))
