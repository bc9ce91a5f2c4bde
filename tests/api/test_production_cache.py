"""The production fetch: ETags, no stale reads after changes, and the cache itself."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine, pool, select, text

from scope_api.app import create_app
from scope_api.config import Settings
from scope_api.models import Tenant
from scope_api.notify_listener import NotifyListener
from scope_api.production_cache import MAX_ENTRIES, ProductionCache
from tests.factories import V1, Api


def _production(name: str) -> str:
    return f"{V1}/prompts/{name}/production"


async def _published_prompt(api: Api, headers: dict[str, str], versions: int = 2,
                            published: int = 1) -> str:
    name: str = (await api.create_prompt(headers))["name"]
    for i in range(versions):
        await api.create_version(headers, name, content=f"v{i + 1}: hello {{{{ who }}}}")
    assert (await api.promote(headers, name, published)).status_code == 200
    return name


# --- through the API --------------------------------------------------------------------


async def test_etag_and_if_none_match(api: Api) -> None:
    headers = await api.headers(role="viewer")
    editor = await api.headers(role="editor")
    name = await _published_prompt(api, editor)

    first = await api.client.get(_production(name), headers=headers)
    assert first.status_code == 200
    assert first.json()["number"] == 1
    assert first.json()["content"] == "v1: hello {{ who }}"
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')

    again = await api.client.get(_production(name), headers=headers)
    assert again.headers["etag"] == etag
    assert again.content == first.content

    not_modified = await api.client.get(_production(name),
                                        headers={**headers, "If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified.headers["etag"] == etag

    other = await api.client.get(_production(name),
                                 headers={**headers, "If-None-Match": '"something-else"'})
    assert other.status_code == 200
    assert other.json() == first.json()


async def test_promotion_is_visible_immediately(api: Api) -> None:
    editor = await api.headers(role="editor")
    name = await _published_prompt(api, editor, versions=3)
    first = await api.client.get(_production(name), headers=editor)
    assert first.json()["number"] == 1
    etag = first.headers["etag"]

    assert (await api.promote(editor, name, 2)).status_code == 200
    second = await api.client.get(_production(name), headers=editor)
    assert second.status_code == 200
    assert second.json()["number"] == 2
    assert second.headers["etag"] != etag

    # A client holding the old ETag gets the new version, not a 304.
    revalidated = await api.client.get(_production(name),
                                       headers={**editor, "If-None-Match": etag})
    assert revalidated.status_code == 200
    assert revalidated.json()["number"] == 2

    assert (await api.promote(editor, name, 3)).status_code == 200
    assert (await api.client.get(_production(name), headers=editor)).json()["number"] == 3


async def test_archive_and_delete_are_visible_immediately(api: Api) -> None:
    editor = await api.headers(role="editor")
    archived = await _published_prompt(api, editor)
    deleted = await _published_prompt(api, editor)
    for name in (archived, deleted):
        assert (await api.client.get(_production(name), headers=editor)).status_code == 200

    archive = await api.client.post(f"{V1}/prompts/{archived}/versions/1/archive",
                                    headers=editor)
    assert archive.status_code == 200
    gone = await api.client.get(_production(archived), headers=editor)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"

    assert (await api.client.delete(f"{V1}/prompts/{deleted}", headers=editor)).status_code \
        == 204
    gone = await api.client.get(_production(deleted), headers=editor)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"

    # A prompt re-created under the same name does not inherit the old production version.
    await api.create_prompt(editor, name=deleted)
    assert (await api.client.get(_production(deleted), headers=editor)).status_code == 404


async def test_failed_promotion_does_not_evict(api: Api) -> None:
    editor = await api.headers(role="editor")
    name = await _published_prompt(api, editor)
    first = await api.client.get(_production(name), headers=editor)
    conflict = await api.promote(editor, name, 1)  # already published: 409, rolled back
    assert conflict.status_code == 409
    after = await api.client.get(_production(name), headers=editor)
    assert after.json()["number"] == 1
    assert after.headers["etag"] == first.headers["etag"]


async def test_cache_is_per_tenant(api: Api) -> None:
    acme = await api.headers(tenant="acme", role="editor")
    globex = await api.headers(tenant="globex", role="editor")
    name = await _published_prompt(api, acme)
    assert (await api.client.get(_production(name), headers=acme)).status_code == 200
    # Same name in another tenant: not served from acme's cache entry.
    assert (await api.client.get(_production(name), headers=globex)).status_code == 404
    await api.create_prompt(globex, name=name)
    await api.create_version(globex, name, content="globex only")
    assert (await api.promote(globex, name, 1)).status_code == 200
    theirs = await api.client.get(_production(name), headers=globex)
    assert theirs.json()["content"] == "globex only"
    mine = await api.client.get(_production(name), headers=acme)
    assert mine.json()["content"] == "v1: hello {{ who }}"


# --- across replicas (PostgreSQL LISTEN/NOTIFY; a marker file on SQLite) ---------------


@asynccontextmanager
async def _replica(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """Another app instance on the same database, with its own lifespan and cache."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://scope.test") as c:
            yield app, c


def _tenant_id(api: Api, tenant: str) -> str:
    with api.context.database.unit_of_work(write=False) as session:
        tenant_id: str = session.scalars(select(Tenant.id).where(Tenant.name == tenant)).one()
    return tenant_id


def _listeners(url: str) -> int:
    """Connections of this database currently listening for production invalidations."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND query LIKE 'LISTEN scope_production%'")) or 0
    finally:
        engine.dispose()


async def _poll(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout_s}s waiting for {what}"
        await asyncio.sleep(0.02)


async def test_promotion_on_one_replica_invalidates_the_others(api: Api,
                                                               settings: Settings) -> None:
    url = settings.resolved_database_url
    listener_threads = [t for t in threading.enumerate() if t.name == "scope-notify"]
    postgres = api.context.database.engine.dialect.name == "postgresql"
    if postgres:
        assert listener_threads, "the PostgreSQL app did not start its LISTEN thread"
    else:
        # Processes on one SQLite file (`scope serve --workers N`) share a marker file.
        assert NotifyListener.start_if_postgres(api.context) is None
        assert listener_threads == []

    editor = await api.headers(role="editor")
    name = await _published_prompt(api, editor)
    assert settings.production_cache_ttl_s >= 10  # so only a notification can explain a refresh

    async with _replica(settings) as (replica, client):
        async def both_listening() -> bool:
            return await asyncio.to_thread(_listeners, url) >= 2

        if postgres:
            await _poll(both_listening, 5, "both replicas to LISTEN")
        cache: ProductionCache = replica.state.context.production_cache
        key = (_tenant_id(api, "acme"), name)

        async def replica_has_cached_v1() -> bool:
            response = await client.get(_production(name), headers=editor)
            assert response.json()["number"] == 1
            return cache.get(key) is not None

        # (A read racing the listener's start-up clear() is not stored: poll until cached.)
        await _poll(replica_has_cached_v1, 2, "the replica to cache the production version")

        promoted = await api.promote(editor, name, 2)  # through the first app
        assert promoted.status_code == 200

        async def replica_serves_v2() -> bool:
            response = await client.get(_production(name), headers=editor)
            assert response.status_code == 200
            number: int = response.json()["number"]
            return number == 2

        started = time.monotonic()
        await _poll(replica_serves_v2, 2, "the replica to serve the promoted version")
        assert time.monotonic() - started < 2

        # Archiving through the first app removes it on the replica as well.
        archived = await api.client.post(f"{V1}/prompts/{name}/versions/2/archive",
                                         headers=editor)
        assert archived.status_code == 200

        async def replica_has_none() -> bool:
            return (await client.get(_production(name), headers=editor)).status_code == 404

        await _poll(replica_has_none, 2, "the replica to drop the archived version")


# --- the cache itself -------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


KEY = ("tenant-1", "greeting")
OTHER = ("tenant-1", "farewell")


def test_hit_until_ttl_expires() -> None:
    clock = Clock()
    cache = ProductionCache(30, clock=clock)
    assert cache.get(KEY) is None
    entry = cache.put(KEY, b'{"number":1}', cache.generation(KEY))
    assert cache.get(KEY) == entry
    clock.now += 29.9
    assert cache.get(KEY) == entry
    clock.now += 0.1
    assert cache.get(KEY) is None


def test_etag_depends_on_the_body() -> None:
    cache = ProductionCache(30, clock=Clock())
    one = cache.put(KEY, b'{"number":1}', cache.generation(KEY))
    same = cache.put(OTHER, b'{"number":1}', cache.generation(OTHER))
    two = cache.put(KEY, b'{"number":2}', cache.generation(KEY))
    assert one.etag == same.etag
    assert one.etag != two.etag


def test_invalidate_drops_the_entry() -> None:
    cache = ProductionCache(30, clock=Clock())
    cache.put(KEY, b"v1", cache.generation(KEY))
    cache.put(OTHER, b"x", cache.generation(OTHER))
    cache.invalidate(KEY)
    assert cache.get(KEY) is None
    assert cache.get(OTHER) is not None  # other keys untouched


def test_put_after_invalidate_with_old_generation_is_not_stored() -> None:
    """A reader that read v1 before a promotion committed must not cache v1 afterwards."""
    cache = ProductionCache(30, clock=Clock())
    seen = cache.generation(KEY)  # reader misses, remembers the generation, queries: v1
    cache.invalidate(KEY)  # meanwhile a promotion to v2 commits
    entry = cache.put(KEY, b"v1", seen)  # the reader stores what it read
    assert entry.body == b"v1"  # it may answer its own request with it...
    assert cache.get(KEY) is None  # ...but nobody else gets the stale version
    fresh = cache.put(KEY, b"v2", cache.generation(KEY))
    assert cache.get(KEY) == fresh


def test_invalidate_of_another_key_does_not_block_put() -> None:
    cache = ProductionCache(30, clock=Clock())
    seen = cache.generation(KEY)
    cache.invalidate(OTHER)
    cache.put(KEY, b"v1", seen)
    assert cache.get(KEY) is not None


def test_clear_invalidates_everything_including_in_flight_reads() -> None:
    cache = ProductionCache(30, clock=Clock())
    cache.put(KEY, b"a", cache.generation(KEY))
    cache.put(OTHER, b"b", cache.generation(OTHER))
    in_flight = cache.generation(("tenant-2", "never-cached"))
    cache.clear()
    assert cache.get(KEY) is None
    assert cache.get(OTHER) is None
    cache.put(("tenant-2", "never-cached"), b"stale", in_flight)
    assert cache.get(("tenant-2", "never-cached")) is None
    cache.put(KEY, b"fresh", cache.generation(KEY))
    assert cache.get(KEY) is not None


def test_zero_ttl_disables_caching() -> None:
    cache = ProductionCache(0, clock=Clock())
    entry = cache.put(KEY, b"v1", cache.generation(KEY))
    assert entry.etag
    assert cache.get(KEY) is None


def test_size_is_bounded() -> None:
    cache = ProductionCache(30, clock=Clock())
    for i in range(MAX_ENTRIES + 1):
        key = ("t", str(i))
        cache.put(key, b"x", cache.generation(key))
    assert cache.get(("t", "0")) is None  # the oldest were dropped to make room
    last = ("t", str(MAX_ENTRIES))
    assert cache.get(last) is not None
