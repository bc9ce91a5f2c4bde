"""Execution spans as a real OTLP/HTTP receiver decodes them."""

from __future__ import annotations

import asyncio
import time

import pytest

from scope_api.config import Settings
from tests.engine.conftest import Lab
from tests.factories import V1
from tests.telemetry.receiver import OtlpReceiver, ReceivedSpan


@pytest.fixture
def capture_content(request: pytest.FixtureRequest) -> bool:
    """``SCOPE_OTEL_CAPTURE_CONTENT``: off unless a test parametrizes it."""
    return bool(getattr(request, "param", False))


@pytest.fixture
def settings(settings: Settings, otlp_receiver: OtlpReceiver, capture_content: bool) -> Settings:
    return settings.model_copy(update={"otlp_endpoint": otlp_receiver.url,
                                       "otel_capture_content": capture_content})


async def _exported(lab: Lab, receiver: OtlpReceiver, count: int) -> list[ReceivedSpan]:
    assert await asyncio.to_thread(lab.api.context.telemetry.flush)
    return await asyncio.to_thread(receiver.wait_for_spans, count)


async def test_exported_spans_carry_the_executions_figures(
        lab: Lab, otlp_receiver: OtlpReceiver) -> None:
    prompt = await lab.prompt("Summarise {{ topic }}", "Summarise {{ topic }} briefly")
    provider = await lab.provider()
    broken = await lab.provider(headers={"x-simulator-fault": "timeout",
                                         "x-simulator-delay-ms": "5000"}, timeout_s=0.1)
    ok = (await lab.execute(prompt=prompt, version=2, provider=provider,
                            model="sim-gemini-flash", variables={"topic": "tides"},
                            parameters={"top_p": 0.9, "stop": ["\n\n"]})).json()
    timeout = await lab.execute(prompt=prompt, provider=broken, model="sim-gpt-mini",
                                variables={"topic": "tides"})
    assert timeout.status_code == 504
    spans = {s.span_id: s for s in await _exported(lab, otlp_receiver, 2)}
    assert len(spans) == 2

    span = spans[ok["span_id"]]
    attrs = span.attributes
    assert span.trace_id == ok["trace_id"]
    assert (span.name, span.kind, span.status) == ("chat sim-gemini-flash", "client", "unset")
    assert span.resource["service.name"] == "scope"
    assert attrs["gen_ai.operation.name"] == "chat"
    assert attrs["gen_ai.provider.name"] == "scope.simulator"
    assert attrs["gen_ai.request.model"] == attrs["gen_ai.response.model"] == ok["model"]
    assert attrs["gen_ai.request.top_p"] == 0.9
    assert attrs["gen_ai.request.stop_sequences"] == ["\n\n"]
    assert attrs["gen_ai.usage.input_tokens"] == ok["input_tokens"]
    assert attrs["gen_ai.usage.output_tokens"] == ok["output_tokens"]
    assert attrs["scope.cost_usd"] == ok["cost_usd"]
    assert (attrs["scope.prompt.name"], attrs["scope.prompt.version"]) == (prompt, 2)
    assert attrs["scope.provider.name"] == provider
    assert attrs["scope.execution.id"] == ok["id"]
    assert not any(key.startswith(("gen_ai.input", "gen_ai.output.messages",
                                   "gen_ai.system_instructions")) for key in attrs)
    assert "tides" not in str(attrs)

    failed_id = timeout.json()["error"]["details"]["execution_id"]
    failed = next(s for s in spans.values() if s.attributes["scope.execution.id"] == failed_id)
    assert failed.status == "error"
    assert failed.status_message.startswith("provider_timeout:")
    assert failed.attributes["error.type"] == "timeout"
    assert failed.trace_id == timeout.json()["error"]["details"]["trace_id"]

    # Scope's own record holds the same span.
    mine = (await lab.client.get(f"{V1}/traces/{ok['trace_id']}", headers=lab.headers)).json()
    assert [(s["span_id"], s["attributes"]) for s in mine] == [(span.span_id, attrs)]


async def test_health_counts_the_spans_this_process_exported_and_lost(
        lab: Lab, otlp_receiver: OtlpReceiver) -> None:
    prompt = await lab.prompt("Summarise {{ topic }}")
    provider = await lab.provider()

    async def spans_after_one_execution() -> dict[str, object]:
        response = await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini",
                                     variables={"topic": "tides"})
        assert response.status_code == 201, response.text
        assert await asyncio.to_thread(lab.api.context.telemetry.flush)
        health = await lab.client.get(f"{V1}/health")
        assert health.status_code == 200
        spans: dict[str, object] = health.json()["spans"]
        return spans

    assert await spans_after_one_execution() == {
        "exporting": True, "exported": 1, "failed": 0, "dropped": 0}
    otlp_receiver.status = 400  # the collector refuses the next batch
    assert await spans_after_one_execution() == {
        "exporting": True, "exported": 1, "failed": 1, "dropped": 0}


@pytest.mark.parametrize("capture_content", [True], indirect=True)
async def test_content_is_exported_only_when_switched_on(
        lab: Lab, otlp_receiver: OtlpReceiver) -> None:
    prompt = await lab.prompt([{"role": "system", "content": "Be {{ tone }}."},
                               {"role": "user", "content": "Describe {{ topic }}."}])
    provider = await lab.provider()
    ok = (await lab.execute(prompt=prompt, provider=provider, model="sim-gpt-mini",
                            variables={"tone": "brief", "topic": "tides"})).json()
    [span] = await _exported(lab, otlp_receiver, 1)
    assert "Describe tides." in span.attributes["gen_ai.input.messages"]
    assert "Be brief." in span.attributes["gen_ai.input.messages"]
    assert ok["output"][:40] in span.attributes["gen_ai.output.messages"]


async def test_a_stalled_collector_neither_slows_nor_loses_executions(
        lab: Lab, otlp_receiver: OtlpReceiver) -> None:
    prompt = await lab.prompt("Hi {{ name }}")
    provider = await lab.provider()
    run = {"prompt": prompt, "provider": provider, "model": "sim-gpt-mini",
           "variables": {"name": "Ada"}}
    telemetry = lab.api.context.telemetry
    with otlp_receiver.hold():
        assert (await lab.execute(**run)).status_code == 201
        # An export is now stuck at the collector (it answers nothing until released).
        assert not await asyncio.to_thread(telemetry.flush, 0.3)
        assert otlp_receiver.request_arrived.is_set()
        started = time.monotonic()
        for _ in range(5):
            assert (await lab.execute(**run)).status_code == 201
        elapsed = time.monotonic() - started
    assert elapsed < 2.5  # a blocked export would cost its 5 s timeout per execution
    assert len(await lab.executions()) == 6
    traces = await lab.client.get(f"{V1}/traces", headers=lab.headers)
    assert len(traces.json()["data"]) == 6
    assert len(await _exported(lab, otlp_receiver, 6)) == 6
