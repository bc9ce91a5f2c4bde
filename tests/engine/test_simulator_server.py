"""The provider simulator the app serves itself: up with the app, gone with it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from scope_api.app import create_app
from scope_api.config import Settings
from scope_api.engine.simulator_server import GRACEFUL_SHUTDOWN_S
from tests.conftest import JWT_KEY


async def test_the_simulator_lives_and_dies_with_the_app(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'scope.db'}",
                        data_dir=tmp_path / "data", jwt_keys=[JWT_KEY])
    app = create_app(settings)
    async with httpx.AsyncClient() as held_client:
        async with app.router.lifespan_context(app), httpx.AsyncClient() as client:
            url = app.state.context.simulator_url
            assert url.startswith("http://127.0.0.1:")
            calls = await client.get(f"{url}/_simulator/calls", params={"key": "k"})
            assert calls.json() == {"key": "k", "calls": 0, "in_flight": 0, "answered": 0}
            # A request the simulator holds for 30 s must not hold the app's shutdown.
            held = asyncio.ensure_future(held_client.post(
                f"{url}/v1/chat/completions", headers={"authorization": "Bearer x",
                                                       "x-simulator-fault": "timeout"},
                json={"model": "sim-gpt-mini", "messages": [{"role": "user",
                                                             "content": "hi"}]}))
            for _ in range(1000):  # polling the simulator's own counter
                if (await client.get(f"{url}/_simulator/calls")).json()["in_flight"]:
                    break
                await asyncio.sleep(0.01)
            started = time.monotonic()
        assert time.monotonic() - started < GRACEFUL_SHUTDOWN_S + 2
        with pytest.raises(httpx.HTTPError):
            await held
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{url}/_simulator/calls")
