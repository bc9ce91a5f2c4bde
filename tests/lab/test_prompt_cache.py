"""``prompts.get`` as production apps rely on it: fresh hits, stale-while-revalidate,
outages, fallbacks and the disk snapshot, against real server processes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import scope_lab
from scope_lab import Scope
from scope_lab._cache import PromptCache
from scope_lab._config import default_retry
from scope_lab._prompt import Prompt
from tests.lab.conftest import FakeClock, Recorder, Restartable, recording_client
from tests.lab.test_client import unique
from tests.live import LiveServer


def publish(scope: Scope, name: str, content: str) -> int:
    """Create ``name`` if needed, add a version with ``content`` and promote it."""
    with contextlib.suppress(scope_lab.Conflict):
        scope.prompts.create(name)
    number = scope.versions.create(name, content).number
    scope.versions.promote(name, number)
    return number


@pytest.fixture
def app_client(live: LiveServer, clock: FakeClock, recorder: Recorder) -> Iterator[Scope]:
    with recording_client(recorder) as http, \
            Scope(live.base_url, live.api_key, clock=clock, http_client=http) as client:
        client.me()  # exchange the key now, so the tests below count prompt fetches only
        recorder.clear()
        yield client


def test_fresh_hits_never_touch_the_network(scope: Scope, app_client: Scope,
                                            recorder: Recorder, clock: FakeClock) -> None:
    name = unique()
    publish(scope, name, "Hello {{ name }}!")
    first = app_client.prompts.get(name, ttl=60)
    assert (first.name, first.version, first.is_fallback) == (name, 1, False)
    assert first.render(name="Ada") == "Hello Ada!"
    clock.advance(59)
    for _ in range(100):
        assert app_client.prompts.get(name, ttl=60) is first
    assert recorder.paths("/production") == [f"/api/v1/prompts/{name}/production"]


def test_stale_value_is_served_while_exactly_one_refresh_runs(
        scope: Scope, app_client: Scope, recorder: Recorder, clock: FakeClock) -> None:
    name = unique()
    publish(scope, name, "one")
    assert app_client.prompts.get(name).content == "one"
    publish(scope, name, "two")
    clock.advance(61)
    recorder.clear()

    results: list[str] = []
    barrier = threading.Barrier(8)

    def read() -> None:
        barrier.wait()
        results.append(str(app_client.prompts.get(name).content))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["one"] * 8  # nobody waited for the network
    app_client._backend.drain()
    assert len(recorder.paths("/production")) == 1
    assert app_client.prompts.get(name).content == "two"


def test_unchanged_prompt_is_revalidated_with_304(scope: Scope, app_client: Scope,
                                                  recorder: Recorder,
                                                  clock: FakeClock) -> None:
    name = unique()
    publish(scope, name, "stable")
    first = app_client.prompts.get(name)
    clock.advance(120)
    assert app_client.prompts.get(name) is first
    app_client._backend.drain()
    assert (f"/api/v1/prompts/{name}/production", 304) in recorder.statuses
    recorder.clear()
    clock.advance(30)  # the 304 made it fresh again
    assert app_client.prompts.get(name) is first
    assert recorder.paths("/production") == []


def test_pinned_version_is_cached_like_production(scope: Scope, app_client: Scope) -> None:
    name = unique()
    publish(scope, name, "first {{ x }}")
    publish(scope, name, "second {{ x }}")
    pinned = app_client.prompts.get(name, version=1)
    assert (pinned.version, pinned.render(x=1)) == (1, "first 1")
    assert app_client.prompts.get(name).version == 2


def test_render_names_every_missing_variable(scope: Scope, app_client: Scope) -> None:
    name = unique()
    publish(scope, name, "{{ greeting }}, {{ name }}! {% for t in topics %}{{ t }}{% endfor %}")
    prompt = app_client.prompts.get(name)
    with pytest.raises(scope_lab.MissingVariablesError) as missing:
        prompt.render(greeting="Hi")
    assert missing.value.names == ["name", "topics"]
    assert isinstance(missing.value, scope_lab.ScopeError)
    assert prompt.render(greeting="Hi", name="Ada", topics=["a", "b"]) == "Hi, Ada! ab"


def test_unknown_prompt_is_not_found_even_with_a_fallback(app_client: Scope) -> None:
    # The server answered definitely: a fallback would hide a typo or a deleted prompt.
    with pytest.raises(scope_lab.NotFound):
        app_client.prompts.get("never-created", fallback="Hi")


def test_outage_serves_last_good_value_then_recovers(restartable: Restartable,
                                                    clock: FakeClock) -> None:
    with restartable.running() as server, Scope(server.base_url, server.api_key) as admin:
        name = unique()
        publish(admin, name, "v1 text")
    app = Scope(restartable.base_url, restartable.api_key, clock=clock,
                retry=default_retry().copy_with(total=0))
    with restartable.running() as server:
        assert app.prompts.get(name).content == "v1 text"
    # The server is down now.
    clock.advance(300)
    for _ in range(3):
        prompt = app.prompts.get(name)
        assert (prompt.content, prompt.is_fallback, prompt.version) == ("v1 text", False, 1)
    app._backend.drain()
    with restartable.running() as server:
        with Scope(server.base_url, server.api_key) as admin:
            publish(admin, name, "v2 text")
        clock.advance(10)  # past the pause after the failed refresh
        assert app.prompts.get(name).content == "v1 text"
        app._backend.drain()
        assert app.prompts.get(name).content == "v2 text"
    app.close()


def test_fallback_when_nothing_cached_and_server_down(restartable: Restartable,
                                                     clock: FakeClock) -> None:
    fast = default_retry().copy_with(total=0)
    app = Scope(restartable.base_url, restartable.api_key, clock=clock, retry=fast)
    prompt = app.prompts.get("greeting", fallback="Hello {{ name }} (offline)")
    assert prompt.is_fallback
    assert prompt.version is None
    assert prompt.variables == ["name"]
    assert prompt.render(name="Ada") == "Hello Ada (offline)"
    with pytest.raises(scope_lab.ConnectionError, match="could not reach Scope"):
        app.prompts.get("other-prompt")
    app.close()


def test_snapshot_lets_an_app_start_while_scope_is_down(restartable: Restartable,
                                                       clock: FakeClock,
                                                       tmp_path: Path) -> None:
    snapshot = tmp_path / "prompts.json"
    with restartable.running() as server:
        with Scope(server.base_url, server.api_key) as admin:
            name = unique()
            publish(admin, name, [{"role": "system", "content": "You help {{ who }}."}])
        with Scope(server.base_url, server.api_key, snapshot=snapshot) as first_run:
            first_run.prompts.get(name)
    assert snapshot.exists()
    assert (snapshot.stat().st_mode & 0o777) == 0o600

    fast = default_retry().copy_with(total=0)
    with Scope(restartable.base_url, restartable.api_key, snapshot=snapshot, clock=clock,
               retry=fast) as second_run:
        prompt = second_run.prompts.get(name, fallback="unused")
        assert (prompt.version, prompt.is_fallback) == (1, False)
        assert prompt.render(who="Ada") == [{"role": "system", "content": "You help Ada."}]


def test_a_corrupt_snapshot_is_ignored(tmp_path: Path, live: LiveServer,
                                       caplog: pytest.LogCaptureFixture) -> None:
    snapshot = tmp_path / "prompts.json"
    snapshot.write_text("{not json")
    with Scope(live.base_url, live.api_key, snapshot=snapshot) as client, \
            pytest.raises(scope_lab.NotFound):
        client.prompts.get("absent")
    assert "ignoring the prompt snapshot" in caplog.text


def test_an_entry_renewed_since_the_caller_looked_is_not_claimed() -> None:
    # A caller found the entry stale; meanwhile another refresh renewed it (304) and
    # released its claim. The caller must not start a second refresh.
    clock = FakeClock()
    cache = PromptCache(clock=clock)
    key = ("greeting", "production", None)
    cache.store(key, Prompt.fallback("greeting", "Hi {{ name }}"))
    clock.advance(90)
    assert cache.claim(key, 60)
    cache.touch(key)
    cache.release(key)
    assert not cache.claim(key, 60)
    clock.advance(60)
    assert cache.claim(key, 60)
