"""The retry policy: what is retried, how long it waits, when it gives up.

The waits are recorded by an injected ``sleep`` instead of being slept. The policy
is checked on its own first, then end to end: the real adapters against the
simulator over HTTP, whose call counter shows how many requests really went out.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from scope_api.providers.adapters import adapter_for
from scope_api.providers.retry import call_with_retries
from scope_api.providers.types import (
    CompletionRequest,
    CompletionResult,
    ProviderConfig,
    ProviderError,
    ProviderTimeout,
)


class Calls:
    """A provider call that fails with the given errors, then answers "ok"."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.count = 0

    async def __call__(self) -> str:
        self.count += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def busy(retry_after_s: float | None = None) -> ProviderError:
    return ProviderError("OpenAI answered HTTP 503: overloaded", status=503,
                         retry_after_s=retry_after_s, retryable=True)


async def test_retryable_errors_are_retried_until_the_call_succeeds() -> None:
    call, sleeps = Calls(busy(), busy()), Sleeps()
    assert await call_with_retries(call, sleep=sleeps) == "ok"
    assert call.count == 3
    assert len(sleeps) == 2


async def test_any_callable_returning_an_awaitable_is_awaited() -> None:
    call = Calls(busy())
    assert await call_with_retries(lambda: call(), sleep=Sleeps()) == "ok"
    assert call.count == 2


async def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    call, sleeps = Calls(*[busy() for _ in range(5)]), Sleeps()
    await call_with_retries(call, max_attempts=6, base_delay_s=1, max_delay_s=5, sleep=sleeps)
    # 1, 2, 4, 8, 16 seconds plus up to 1 s of jitter each, never over 5.
    for wait, low in zip(sleeps, [1, 2, 4, 5, 5], strict=True):
        assert low <= wait <= min(low + 1, 5)


async def test_jitter_spreads_callers_that_failed_together() -> None:
    waits = set()
    for _ in range(20):
        sleeps = Sleeps()
        await call_with_retries(Calls(busy()), sleep=sleeps)
        waits.add(sleeps[0])
    assert len(waits) > 10
    assert all(0.5 <= wait <= 1.0 for wait in waits)


async def test_the_providers_retry_after_replaces_the_backoff_and_is_capped() -> None:
    call, sleeps = Calls(busy(retry_after_s=3), busy(retry_after_s=0), busy(retry_after_s=90)),\
        Sleeps()
    assert await call_with_retries(call, max_delay_s=20, sleep=sleeps) == "ok"
    assert sleeps == [3, 0, 20]


@pytest.mark.parametrize("error", [
    ProviderError("OpenAI answered HTTP 400: bad request", status=400),
    ProviderError("OpenAI answered an unreadable response"),
    ProviderTimeout("OpenAI did not answer within 60 s"),
    ValueError("a bug, not a provider failure"),
])
async def test_other_failures_propagate_at_once(error: Exception) -> None:
    call, sleeps = Calls(error), Sleeps()
    with pytest.raises(type(error)) as info:
        await call_with_retries(call, sleep=sleeps)
    assert info.value is error
    assert (call.count, sleeps) == (1, [])


async def test_a_retryable_timeout_is_retried() -> None:
    call, sleeps = Calls(ProviderTimeout("could not connect", retryable=True)), Sleeps()
    assert await call_with_retries(call, sleep=sleeps) == "ok"
    assert call.count == 2


async def test_gives_up_after_max_attempts_with_the_last_provider_error() -> None:
    errors = [busy() for _ in range(4)]
    call, sleeps = Calls(*errors), Sleeps()
    with pytest.raises(ProviderError) as info:
        await call_with_retries(call, max_attempts=4, sleep=sleeps)
    assert info.value is errors[-1]
    assert (call.count, len(sleeps)) == (4, 3)


async def test_one_attempt_means_no_retry() -> None:
    call = Calls(busy())
    with pytest.raises(ProviderError):
        await call_with_retries(call, max_attempts=1, sleep=Sleeps())
    assert call.count == 1
    with pytest.raises(ValueError, match="at least 1"):
        await call_with_retries(call, max_attempts=0)


async def test_cancellation_while_waiting_stops_the_retries() -> None:
    call, started = Calls(busy(), busy()), asyncio.Event()

    async def slow_sleep(seconds: float) -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(call_with_retries(call, sleep=slow_sleep))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert call.count == 1


async def test_the_default_sleep_really_waits(caplog: pytest.LogCaptureFixture) -> None:
    call = Calls(busy(retry_after_s=0.01))
    assert await call_with_retries(call) == "ok"
    assert "retrying in 0.01 s: OpenAI answered HTTP 503: overloaded" in caplog.text


# --- Against the simulator, over real HTTP ---------------------------------------------------

async def simulator_calls(simulator_url: str, key: str) -> int:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{simulator_url}/_simulator/calls", params={"key": key})
    return int(response.json()["calls"])


async def complete_with_retries(simulator_url: str, model: str, faults: dict[str, str],
                                sleeps: Sleeps, **options: Any) -> tuple[CompletionResult, str]:
    """A simulator-kind call through the real adapter, retried; returns its call-counter key."""
    key = f"retry-{uuid.uuid4().hex}"
    config = ProviderConfig("simulator", simulator_url,
                            options={"headers": {"x-simulator-key": key, **faults}, **options})
    adapter = adapter_for("simulator", model)
    async with httpx.AsyncClient() as client:
        result = await call_with_retries(
            lambda: adapter.complete(CompletionRequest.from_text(model, "Hello"), config=config,
                                     client=client), sleep=sleeps)
    return result, key


@pytest.mark.parametrize("model", ["sim-gpt-mini", "sim-claude-haiku", "sim-gemini-flash"])
async def test_two_rate_limits_then_success_waits_what_retry_after_said(
        simulator_url: str, model: str) -> None:
    sleeps = Sleeps()
    faults = {"x-simulator-fault": "429", "x-simulator-fail-times": "2",
              "x-simulator-retry-after": "2"}
    result, key = await complete_with_retries(simulator_url, model, faults, sleeps)
    assert result.output.startswith("Simulated answer to: Hello")
    assert sleeps == [2.0, 2.0]
    assert await simulator_calls(simulator_url, key) == 3


@pytest.mark.parametrize("fault", ["500", "503", "529"])
async def test_server_errors_without_retry_after_back_off(simulator_url: str,
                                                          fault: str) -> None:
    sleeps = Sleeps()
    faults = {"x-simulator-fault": fault, "x-simulator-fail-times": "3"}
    _, key = await complete_with_retries(simulator_url, "sim-claude-haiku", faults, sleeps)
    assert len(sleeps) == 3
    for wait, low in zip(sleeps, [0.5, 1.0, 2.0], strict=True):
        assert low <= wait <= low + 0.5
    assert await simulator_calls(simulator_url, key) == 4


async def test_a_provider_that_keeps_failing_is_given_up_on(simulator_url: str) -> None:
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as info:
        await complete_with_retries(simulator_url, "sim-gemini-flash",
                                    {"x-simulator-fault": "503"}, sleeps)
    assert info.value.status == 503
    assert info.value.message.startswith("Gemini answered HTTP 503: ")
    assert len(sleeps) == 3


@pytest.mark.parametrize(("faults", "error"), [
    ({"x-simulator-fault": "timeout", "x-simulator-delay-ms": "5000"}, ProviderTimeout),
    ({"x-simulator-fault": "malformed"}, ProviderError),
])
async def test_timeouts_and_unreadable_answers_are_not_retried(
        simulator_url: str, faults: dict[str, str], error: type[ProviderError]) -> None:
    sleeps, key = Sleeps(), f"once-{uuid.uuid4().hex}"
    with pytest.raises(error):
        await complete_with_retries(simulator_url, "sim-gpt-mini",
                                    {**faults, "x-simulator-key": key}, sleeps, timeout_s=0.2)
    assert sleeps == []
    assert await simulator_calls(simulator_url, key) == 1
