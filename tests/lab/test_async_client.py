"""AsyncScope: the same client for asyncio apps (generated twin of Scope)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

import scope_lab
from scope_lab import AsyncScope, Scope
from tests.lab.conftest import FakeClock
from tests.lab.test_client import unique
from tests.lab.test_prompt_cache import publish
from tests.live import LiveServer

ROOT = Path(__file__).resolve().parents[2]


async def test_async_get_caches_and_refreshes_in_a_task(scope: Scope, live: LiveServer,
                                                        clock: FakeClock) -> None:
    name = unique()
    publish(scope, name, "one {{ x }}")
    async with AsyncScope(live.base_url, live.api_key, clock=clock) as client:
        first = await client.prompts.get(name)
        assert first.render(x=1) == "one 1"
        assert await client.prompts.get(name) is first
        publish(scope, name, "two {{ x }}")
        clock.advance(61)
        stale = await asyncio.gather(*(client.prompts.get(name) for _ in range(5)))
        assert {p.version for p in stale} == {1}
        await client._backend.drain()
        assert (await client.prompts.get(name)).version == 2


async def test_async_resources_iterate_and_raise_like_the_sync_ones(
        live: LiveServer) -> None:
    async with AsyncScope(live.base_url, live.api_key) as client:
        tag = unique("tag")
        for _ in range(3):
            await client.prompts.create(unique(), tags=[tag])
        names = [p.name async for p in client.prompts.list(tag=tag)]
        assert len(names) == 3
        with pytest.raises(scope_lab.NotFound) as error:
            await client.prompts.retrieve("missing-prompt")
        assert error.value.status == 404
        assert (await client.me()).tenant == "default"


def test_the_sync_client_is_generated_from_the_async_one() -> None:
    result = subprocess.run([sys.executable, "scripts/gen_sync.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_import_is_light() -> None:
    code = ("import sys, scope_lab; from scope_lab import Scope, Prompt; "
            "heavy = [m for m in ('pandas', 'numpy', 'ipywidgets', 'altair', 'tqdm', "
            "'scope_api', 'jinja2') if m in sys.modules]; print(heavy)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
