"""Concurrent promotion across two server processes sharing one database.

The promise under test (API.md): at most one version per prompt is published at
any moment, under any concurrency, and every successful promotion leaves exactly
one history record. Two real ``scope serve`` replicas share the database, so the
guarantee cannot rest on anything held in one process's memory.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, pool, text

from tests.live import LiveServer, serve

V1 = "/api/v1"
PROMPT = "race-target"
VERSIONS = 20
PROMOTERS = 16
ROUNDS = 12  # per promoter; each round ends in at most one successful promotion
MIN_SAMPLES = 50
MIN_PROMOTIONS = 100

PUBLISHED_PER_PROMPT = text("SELECT prompt_id, count(*) FROM prompt_versions "
                            "WHERE status = 'published' GROUP BY prompt_id")


@dataclass
class Observations:
    lock: threading.Lock = field(default_factory=threading.Lock)
    promote_ok: int = 0
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    first_promotion: threading.Event = field(default_factory=threading.Event)
    db_samples: int = 0
    two_published: list[int] = field(default_factory=list)
    none_published_after_first: int = 0
    api_samples: int = 0
    production_404_after_first: int = 0
    production_numbers: set[int] = field(default_factory=set)

    def record(self, action: str, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[(action, response.status_code)] += 1
            if response.status_code >= 500:
                self.server_errors.append(f"{action} {response.request.url} -> "
                                          f"{response.status_code} {response.text[:300]}")


def _worker(target: Callable[..., None], *args: Any) -> threading.Thread:
    """A thread running ``target``; anything it raises is recorded, not lost."""
    seen: Observations = args[-1]

    def run() -> None:
        try:
            target(*args)
        except BaseException as exc:
            with seen.lock:
                seen.crashes.append(f"{target.__name__}: {exc!r}")

    return threading.Thread(target=run, name=target.__name__)


def _client(server: LiveServer, headers: dict[str, str]) -> httpx.Client:
    # One client per thread: its own connection pool, its own sockets.
    return httpx.Client(base_url=server.base_url + V1, headers=headers, timeout=30)


def _promoter(server: LiveServer, headers: dict[str, str], seed: int, start: threading.Event,
              seen: Observations) -> None:
    rng = random.Random(seed)
    with _client(server, headers) as client:
        start.wait()
        for _ in range(ROUNDS):
            number = rng.randint(1, VERSIONS)
            path = f"/prompts/{PROMPT}/versions/{number}"
            response = client.post(f"{path}/promote", json={"reason": f"seed {seed}"})
            seen.record("promote", response)
            if response.status_code == 409:
                # Archived (or published by someone else): bring it back and try once more.
                # Either call may lose a race to another promoter; 409 is the right answer then.
                seen.record("unarchive", client.post(f"{path}/unarchive"))
                response = client.post(f"{path}/promote")
                seen.record("promote", response)
            if response.status_code == 200:
                assert response.json()["status"] == "published"
                with seen.lock:
                    seen.promote_ok += 1
                seen.first_promotion.set()


def _db_monitor(database_url: str, stop: threading.Event, seen: Observations) -> None:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            while not stop.is_set():
                after_first = seen.first_promotion.is_set()
                counts = [row[1] for row in conn.execute(PUBLISHED_PER_PROMPT)]
                conn.rollback()  # end the snapshot: the next sample sees new commits
                with seen.lock:
                    seen.db_samples += 1
                    seen.two_published.extend(c for c in counts if c > 1)
                    if after_first and not counts:
                        seen.none_published_after_first += 1
    finally:
        engine.dispose()


def _api_monitor(servers: list[LiveServer], headers: dict[str, str], stop: threading.Event,
                 seen: Observations) -> None:
    clients = [_client(server, headers) for server in servers]
    try:
        i = 0
        while not stop.is_set():
            after_first = seen.first_promotion.is_set()
            response = clients[i % len(clients)].get(f"/prompts/{PROMPT}/production")
            i += 1
            seen.record("production", response)
            with seen.lock:
                seen.api_samples += 1
                if response.status_code == 404 and after_first:
                    seen.production_404_after_first += 1
                elif response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    assert body["status"] == "published", body
                    seen.production_numbers.add(body["number"])
    finally:
        for client in clients:
            client.close()


def _history(client: httpx.Client) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"/prompts/{PROMPT}/promotions", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        records.extend(page["data"])
        cursor = page["next_cursor"]
        if not cursor:
            return records


@pytest.mark.slow
def test_concurrent_promotions_on_two_replicas_keep_one_published_version(
        database_url: str) -> None:
    with serve(database_url) as first, serve(database_url) as second:
        headers = first.headers()
        with _client(first, headers) as setup:
            assert setup.post("/prompts", json={"name": PROMPT}).status_code == 201
            for n in range(1, VERSIONS + 1):
                created = setup.post(f"/prompts/{PROMPT}/versions",
                                     json={"content": f"v{n}: Hello {{{{ name }}}}"})
                assert created.status_code == 201, created.text
            assert setup.get(f"/prompts/{PROMPT}/production").status_code == 404

        seen = Observations()
        start, stop = threading.Event(), threading.Event()
        servers = [first, second]
        promoters = [_worker(_promoter, servers[i % 2], headers, i, start, seen)
                     for i in range(PROMOTERS)]
        monitors = [_worker(_db_monitor, database_url, stop, seen),
                    _worker(_api_monitor, servers, headers, stop, seen)]
        for thread in monitors + promoters:
            thread.start()
        started = time.monotonic()
        start.set()
        for thread in promoters:
            thread.join(timeout=120)
        elapsed = time.monotonic() - started
        stop.set()
        for thread in monitors:
            thread.join(timeout=30)
        assert not any(t.is_alive() for t in promoters + monitors), "a worker hung"

        assert seen.crashes == []
        assert seen.server_errors == [], seen.server_errors[:5]
        assert seen.two_published == [], "two published versions seen at once"
        assert seen.none_published_after_first == 0
        assert seen.production_404_after_first == 0
        assert seen.db_samples >= MIN_SAMPLES, (seen.db_samples, elapsed)
        assert seen.api_samples >= MIN_SAMPLES, (seen.api_samples, elapsed)
        assert seen.promote_ok >= MIN_PROMOTIONS, (seen.promote_ok, seen.statuses)
        # Every answer was one the contract allows.
        allowed = {("promote", 200), ("promote", 409), ("unarchive", 200), ("unarchive", 409),
                   ("production", 200), ("production", 404)}
        assert set(seen.statuses) <= allowed, seen.statuses
        assert seen.statuses[("promote", 200)] == seen.promote_ok

        with _client(second, headers) as check:
            history = _history(check)
            assert len(history) == seen.promote_ok
            # Oldest first, the history is one chain: each promotion replaced the
            # version promoted just before it, so none ran against a stale state.
            chain = list(reversed(history))
            assert chain[0]["previous_version"] is None
            for before, after in itertools.pairwise(chain):
                assert after["previous_version"] == before["version"], (before, after)
            published = check.get(f"/prompts/{PROMPT}/versions",
                                  params={"status": "published"}).json()["data"]
            assert [v["number"] for v in published] == [chain[-1]["version"]]
        if not database_url.startswith("sqlite"):
            # PostgreSQL replicas invalidate each other's production cache on commit
            # (LISTEN/NOTIFY), so both already serve the final version. SQLite has no
            # such channel: another process's cache is only bounded by its TTL.
            for server in servers:
                with _client(server, headers) as check:
                    production = check.get(f"/prompts/{PROMPT}/production")
                    assert production.json()["number"] == chain[-1]["version"]
        assert seen.production_numbers <= {p["version"] for p in history}
