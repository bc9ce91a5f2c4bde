"""Executions read their target from a cache: every registry change must still show at once.

Each test executes first (so the target is cached), changes the registry, and checks the
next execution sees the change: here, and on another app instance sharing the database
(PostgreSQL LISTEN/NOTIFY; the marker file on SQLite).
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

from scope_api.config import Settings
from scope_api.engine.record import Target
from scope_api.engine.target_cache import TargetCache
from scope_api.production_cache import ProductionCache
from tests.api.test_production_cache import _replica
from tests.engine.conftest import Lab, expected_cost
from tests.factories import V1

MODEL = "sim-gpt-mini"


async def _setup(lab: Lab) -> tuple[str, str]:
    prompt = await lab.prompt("one {{ x }}", "two {{ x }}", promote=1)
    provider = await lab.provider()
    first = await lab.execute(prompt=prompt, label="production", provider=provider,
                              model=MODEL, variables={"x": "a"})
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    assert lab.api.context.targets is not None
    return prompt, provider


async def _run(lab: Lab, prompt: str, provider: str) -> Any:
    return await lab.execute(prompt=prompt, label="production", provider=provider,
                             model=MODEL, variables={"x": "a"})


async def test_a_promotion_changes_what_runs_next(lab: Lab) -> None:
    prompt, provider = await _setup(lab)
    assert (await lab.api.promote(lab.headers, prompt, 2)).status_code == 200
    after = await _run(lab, prompt, provider)
    assert after.json()["version"] == 2
    assert after.json()["rendered"]["content"] == "two a"


async def test_provider_changes_apply_to_the_next_execution(lab: Lab) -> None:
    prompt, provider = await _setup(lab)
    url = f"{V1}/providers/{provider}"
    changed = await lab.client.patch(url, headers=lab.headers, json={"options": {
        "headers": {"x-simulator-key": lab.key, "x-simulator-fault": "400"}}})
    assert changed.status_code == 200, changed.text
    assert (await _run(lab, prompt, provider)).status_code == 502  # the new options

    changed = await lab.client.patch(url, headers=lab.headers,
                                     json={"enabled_models": ["sim-claude-haiku"]})
    assert changed.status_code == 200
    refused = await _run(lab, prompt, provider)
    assert refused.status_code == 422, refused.text

    assert (await lab.client.delete(url, headers=lab.headers)).status_code == 204
    assert (await _run(lab, prompt, provider)).status_code == 404


async def test_a_price_override_prices_the_next_execution(lab: Lab) -> None:
    prompt, provider = await _setup(lab)
    price_url = f"{V1}/models/{provider}/{MODEL}/price"
    set_price = await lab.client.put(price_url, headers=lab.headers, json={
        "input_per_mtok_usd": 1000, "output_per_mtok_usd": 2000})
    assert set_price.status_code == 200, set_price.text
    priced = (await _run(lab, prompt, provider)).json()
    assert priced["cost_usd"] == expected_cost(priced["input_tokens"], priced["output_tokens"],
                                               (Decimal(1000), Decimal(2000)))

    assert (await lab.client.delete(price_url, headers=lab.headers)).status_code == 204
    catalog = (await lab.prices(provider))[MODEL]
    again = (await _run(lab, prompt, provider)).json()
    assert again["cost_usd"] == expected_cost(again["input_tokens"], again["output_tokens"],
                                              catalog)


async def test_another_replica_sees_a_promotion_and_a_provider_change(
        lab: Lab, settings: Settings) -> None:
    prompt, provider = await _setup(lab)
    async with _replica(settings) as (_, client):
        async def on_replica() -> Any:
            return await client.post(f"{V1}/executions", headers=lab.headers, json={
                "prompt": prompt, "label": "production", "provider": provider,
                "model": MODEL, "variables": {"x": "a"}})

        assert (await on_replica()).json()["version"] == 1  # cached on the replica now
        assert (await lab.api.promote(lab.headers, prompt, 2)).status_code == 200
        await _until(lambda r: r.json().get("version") == 2, on_replica)

        changed = await lab.client.patch(f"{V1}/providers/{provider}", headers=lab.headers,
                                         json={"enabled_models": ["sim-claude-haiku"]})
        assert changed.status_code == 200
        await _until(lambda r: r.status_code == 422, on_replica)


async def _until(done: Any, call: Any, timeout_s: float = 2.0) -> None:
    """The replica learns of changes asynchronously (a notification): poll, bounded."""
    deadline = time.monotonic() + timeout_s
    while not done(await call()):
        assert time.monotonic() < deadline, "the replica kept executing the old target"
        await asyncio.sleep(0.02)


# --- the cache itself -------------------------------------------------------------------

KEY = ("tenant-1", "greeting", None, "sim", MODEL)


def _target() -> Any:
    return object.__new__(Target)  # the cache never looks inside


def test_a_read_that_raced_an_invalidation_is_not_stored() -> None:
    registry = ProductionCache(300)
    cache = TargetCache(registry, 300)
    epoch = cache.epoch()
    registry.invalidate(("tenant-1", "greeting"))  # a promotion commits meanwhile
    cache.put(KEY, _target(), epoch)
    assert cache.get(KEY) is None
    cache.put(KEY, target := _target(), cache.epoch())
    assert cache.get(KEY) is target


def test_entries_expire_and_any_registry_change_drops_them_all() -> None:
    now = [1000.0]
    registry = ProductionCache(300)
    cache = TargetCache(registry, 30, clock=lambda: now[0])
    other = ("tenant-2", "other", 3, "sim", MODEL)
    cache.put(KEY, _target(), cache.epoch())
    cache.put(other, _target(), cache.epoch())
    now[0] += 29
    assert cache.get(KEY) is not None
    now[0] += 2
    assert cache.get(KEY) is None
    cache.put(KEY, _target(), cache.epoch())
    registry.invalidate(("tenant-2", ":providers"))
    assert cache.get(KEY) is None
    assert cache.get(other) is None
