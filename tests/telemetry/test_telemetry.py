"""Execution spans as a collector receives them: decoded from real OTLP/HTTP requests."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace

from scope_api.config import Settings
from scope_api.providers.types import (
    CompletionRequest,
    CompletionResult,
    Message,
    Parameters,
    ProviderError,
    ProviderTimeout,
    Usage,
)
from scope_api.telemetry import (
    ExecutionInfo,
    SpanRecord,
    Telemetry,
    provider_name,
    span_attributes,
    traces_url,
)
from tests.telemetry.receiver import OtlpReceiver, ReceivedSpan

CONTENT_KEYS = {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions"}
REQUEST = CompletionRequest(
    model="gpt-4o-mini",
    messages=(Message("system", "You greet people."), Message("user", "Say hi to Ada")),
    parameters=Parameters(temperature=0.2, max_tokens=256, top_p=0.9, stop=("END", "\n\n")))
RESULT = CompletionResult(output="Hi Ada!", usage=Usage(input_tokens=21, output_tokens=4),
                          response_model="gpt-4o-mini-2024-07-18", finish_reason="stop",
                          request={"model": "gpt-4o-mini"})


def execution(**overrides: Any) -> ExecutionInfo:
    values: dict[str, Any] = {
        "execution_id": "exe_0001", "tenant": "acme", "prompt_name": "greeting",
        "prompt_version": 3, "provider_name": "openai-main", "provider_kind": "openai",
        "request": REQUEST, "base_url": "https://api.openai.com/v1"}
    return ExecutionInfo(**(values | overrides))


def settings(endpoint: str | None, **overrides: Any) -> Settings:
    return Settings(otlp_endpoint=endpoint, otel_service_name="scope-test", **overrides)


@pytest.fixture
def telemetry(otlp_receiver: OtlpReceiver) -> Iterator[Telemetry]:
    telemetry = Telemetry(settings(otlp_receiver.url))
    yield telemetry
    telemetry.shutdown(timeout_s=2)


def exported(telemetry: Telemetry, receiver: OtlpReceiver, count: int = 1) -> list[ReceivedSpan]:
    assert telemetry.flush(timeout_s=10)
    return receiver.wait_for_spans(count)


def test_a_span_carries_the_genai_conventions_and_scopes_attributes(
        telemetry: Telemetry, otlp_receiver: OtlpReceiver) -> None:
    with telemetry.execution_span(execution()) as run:
        run.succeed(RESULT, cost_usd=0.0000055)

    [span] = exported(telemetry, otlp_receiver)
    assert span.name == "chat gpt-4o-mini"
    assert span.kind == "client"
    assert span.status == "unset"  # success: status left unset, per the conventions
    assert span.resource["service.name"] == "scope-test"
    assert span.scope == "scope_api"
    assert span.parent_span_id == ""  # an execution is a trace of its own
    assert span.attributes == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.stop_sequences": ["END", "\n\n"],
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 21,
        "gen_ai.usage.output_tokens": 4,
        "server.address": "api.openai.com",
        "server.port": 443,
        "scope.execution.id": "exe_0001",
        "scope.tenant": "acme",
        "scope.prompt.name": "greeting",
        "scope.prompt.version": 3,
        "scope.provider.name": "openai-main",
        "scope.cost_usd": 0.0000055,
    }
    # The wire types, not just the values: ints are ints, doubles are doubles.
    assert type(span.attributes["gen_ai.usage.input_tokens"]) is int
    assert type(span.attributes["gen_ai.request.max_tokens"]) is int
    assert type(span.attributes["scope.prompt.version"]) is int
    assert type(span.attributes["gen_ai.request.temperature"]) is float
    assert type(span.attributes["scope.cost_usd"]) is float

    record = run.record
    assert (record.trace_id, record.span_id) == (span.trace_id, span.span_id)
    assert len(record.trace_id) == 32
    assert len(record.span_id) == 16
    assert record.trace_id == record.trace_id.lower()
    assert int(record.trace_id, 16) != 0
    assert record.attributes == span.attributes  # Scope's own copy says what was exported
    assert (record.name, record.status) == (span.name, "ok")
    assert record.start.timestamp() == pytest.approx(span.start_ns / 1e9, abs=1e-6)
    assert record.duration_ms == pytest.approx((span.end_ns - span.start_ns) / 1e6)
    assert json.loads(json.dumps(record.attributes)) == record.attributes  # JSON-ready


def test_record_execution_takes_the_times_the_engine_measured(
        telemetry: Telemetry, otlp_receiver: OtlpReceiver) -> None:
    start = time.time_ns() - 1_500_000_000
    record = telemetry.record_execution(execution(), start_ns=start, end_ns=start + 1_234_000_000,
                                        result=RESULT, cost_usd=None)
    [span] = exported(telemetry, otlp_receiver)
    assert (span.start_ns, span.end_ns) == (start, start + 1_234_000_000)
    assert record.duration_ms == pytest.approx(1234.0)
    assert "scope.cost_usd" not in span.attributes  # unknown model: no price, no cost


@pytest.mark.parametrize(("error", "error_type", "message"), [
    (ProviderError("Rate limit reached for gpt-4o-mini", status=429), "429",
     "provider_error: Rate limit reached for gpt-4o-mini"),
    (ProviderError("the provider answered garbage"), "provider_error",
     "provider_error: the provider answered garbage"),
    (ProviderTimeout("no answer within 30 s"), "timeout",
     "provider_timeout: no answer within 30 s"),
])
def test_a_failed_execution_is_an_error_span(
        telemetry: Telemetry, otlp_receiver: OtlpReceiver, error: ProviderError,
        error_type: str, message: str) -> None:
    with telemetry.execution_span(execution()) as run:
        run.fail(error)

    [span] = exported(telemetry, otlp_receiver)
    assert span.status == "error"
    assert span.status_message == message
    assert span.attributes["error.type"] == error_type
    assert not any(key.startswith(("gen_ai.usage.", "gen_ai.response.")) for key in span.attributes)
    assert run.record.status == "error"
    assert run.record.attributes["error.type"] == error_type


def test_an_exception_escaping_the_block_is_recorded_without_its_text(
        telemetry: Telemetry, otlp_receiver: OtlpReceiver) -> None:
    with pytest.raises(RuntimeError), telemetry.execution_span(execution()) as run:
        raise RuntimeError("connection string postgres://admin:hunter2@db")

    [span] = exported(telemetry, otlp_receiver)
    assert (span.status, span.status_message) == ("error", "RuntimeError")
    assert span.attributes["error.type"] == "RuntimeError"
    assert "hunter2" not in repr(span)
    assert run.record.trace_id == span.trace_id


def test_content_is_not_captured_by_default(
        telemetry: Telemetry, otlp_receiver: OtlpReceiver) -> None:
    with telemetry.execution_span(execution()) as run:
        run.succeed(RESULT, cost_usd=0.0)

    [span] = exported(telemetry, otlp_receiver)
    assert CONTENT_KEYS.isdisjoint(span.attributes)
    assert CONTENT_KEYS.isdisjoint(run.record.attributes)
    assert "Ada" not in repr(span)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_content_is_captured_when_switched_on(otlp_receiver: OtlpReceiver, kind: str) -> None:
    telemetry = Telemetry(settings(otlp_receiver.url, otel_capture_content=True))
    try:
        with telemetry.execution_span(execution(provider_kind=kind)) as run:
            run.succeed(RESULT, cost_usd=0.0)
        [span] = exported(telemetry, otlp_receiver)
    finally:
        telemetry.shutdown(timeout_s=2)

    system = {"type": "text", "content": "You greet people."}
    user = {"role": "user", "parts": [{"type": "text", "content": "Say hi to Ada"}]}
    if kind == "anthropic":  # its API takes the system prompt apart from the messages
        assert json.loads(span.attributes["gen_ai.system_instructions"]) == [system]
        assert json.loads(span.attributes["gen_ai.input.messages"]) == [user]
    else:
        assert "gen_ai.system_instructions" not in span.attributes
        assert json.loads(span.attributes["gen_ai.input.messages"]) == [
            {"role": "system", "parts": [system]}, user]
    assert json.loads(span.attributes["gen_ai.output.messages"]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hi Ada!"}],
         "finish_reason": "stop"}]
    assert run.record.attributes == span.attributes


def test_the_otel_attribute_limits_apply_to_exported_spans(
        otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK's standard variables: a collector limiting value sizes sets them.
    monkeypatch.setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "12")
    telemetry = Telemetry(settings(otlp_receiver.url, otel_capture_content=True))
    try:
        with telemetry.execution_span(execution()) as run:
            run.succeed(RESULT, cost_usd=0.0)
        [span] = exported(telemetry, otlp_receiver)
    finally:
        telemetry.shutdown(timeout_s=2)

    assert span.attributes["gen_ai.input.messages"] == '[{"role": "s'
    assert span.attributes["scope.prompt.name"] == "greeting"
    assert span.attributes["gen_ai.usage.input_tokens"] == 21
    # Scope's own record keeps the whole text, as the execution record does.
    assert json.loads(run.record.attributes["gen_ai.input.messages"])[1]["role"] == "user"


def test_opentelemetry_exporter_variables_reach_the_collector(
        otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # A hosted backend takes its key in a header; OpenTelemetry's own variables say so.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-backend-key=backend-secret-123")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip")
    telemetry = Telemetry(settings(otlp_receiver.url))
    try:
        with telemetry.execution_span(execution()) as run:
            run.succeed(RESULT, cost_usd=0.0)
        [span] = exported(telemetry, otlp_receiver)
        assert span.attributes["scope.prompt.name"] == "greeting"  # decoded after gunzip
        assert otlp_receiver.last_headers["x-backend-key"] == "backend-secret-123"
        assert otlp_receiver.last_headers["content-encoding"] == "gzip"

        otlp_receiver.status = 401  # the key was revoked
        with caplog.at_level(logging.DEBUG):
            telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
            assert telemetry.flush(timeout_s=10)
    finally:
        telemetry.shutdown(timeout_s=2)
    assert telemetry.stats()["failed"] == 1
    assert "spans lost" in caplog.text
    assert "backend-secret-123" not in caplog.text


def test_spans_are_sent_on_their_own_in_small_batches(otlp_receiver: OtlpReceiver) -> None:
    # No flush: the schedule sends them, in batches of at most 128 (Scope's defaults).
    assert (Settings().otel_bsp_schedule_delay, Settings().otel_bsp_max_export_batch_size) \
        == (100, 128)
    telemetry = Telemetry(settings(otlp_receiver.url))
    try:
        for _ in range(300):
            telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
        assert len(otlp_receiver.wait_for_spans(300)) == 300
        assert otlp_receiver.requests >= 3  # 300 spans cannot fit in two batches of 128
    finally:
        telemetry.shutdown(timeout_s=2)


def test_opentelemetry_batch_variables_set_the_batches(
        otlp_receiver: OtlpReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "3")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "600000")  # only full batches go out
    monkeypatch.setenv("OTEL_BSP_MAX_QUEUE_SIZE", "50")
    env = Settings(otlp_endpoint=otlp_receiver.url)
    assert (env.otel_bsp_max_export_batch_size, env.otel_bsp_schedule_delay,
            env.otel_bsp_max_queue_size) == (3, 600_000, 50)
    telemetry = Telemetry(env)
    try:
        for _ in range(7):
            telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
        otlp_receiver.wait_for_spans(6)
        time.sleep(0.3)  # the seventh waits for a full batch or the schedule
        assert (otlp_receiver.requests, otlp_receiver.received) == (2, 6)
        assert telemetry.flush(timeout_s=10)
        assert len(otlp_receiver.wait_for_spans(7)) == 7
        assert otlp_receiver.requests == 3
    finally:
        telemetry.shutdown(timeout_s=2)


def test_a_batch_larger_than_the_queue_is_cut_to_the_queue(
        otlp_receiver: OtlpReceiver) -> None:
    telemetry = Telemetry(settings(otlp_receiver.url, otel_bsp_max_queue_size=2,
                                   otel_bsp_schedule_delay=600_000))
    try:
        for _ in range(2):  # the batch is the queue's size, so this one goes out
            telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
        assert len(otlp_receiver.wait_for_spans(2)) == 2
    finally:
        telemetry.shutdown(timeout_s=2)


def test_credentials_in_a_base_url_never_reach_a_span(
        telemetry: Telemetry, otlp_receiver: OtlpReceiver) -> None:
    url = "https://proxy-user:s3cret-pass@llm.internal.example:8443/v1?api_key=sk-leak-123"
    with telemetry.execution_span(execution(provider_kind="openai_compatible",
                                            base_url=url)) as run:
        run.succeed(RESULT, cost_usd=0.0)

    [span] = exported(telemetry, otlp_receiver)
    assert span.attributes["server.address"] == "llm.internal.example"
    assert span.attributes["server.port"] == 8443
    assert span.attributes["gen_ai.provider.name"] == "openai"
    for secret in ("proxy-user", "s3cret-pass", "sk-leak-123"):
        assert secret not in repr(span)
        assert secret not in repr(run.record)


def test_what_is_not_known_is_left_out_and_json_output_is_named() -> None:
    request = CompletionRequest.from_text("gemini-2.5-flash", "Hi",
                                          Parameters(response_format="json"))
    result = CompletionResult(output="{}", usage=Usage(None, None), response_model=None,
                              finish_reason=None, request={})
    attrs = span_attributes(execution(request=request, provider_kind="gemini", base_url=None),
                            result=result, cost_usd=None)
    assert attrs == {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.request.model": "gemini-2.5-flash", "gen_ai.output.type": "json",
        "scope.execution.id": "exe_0001", "scope.tenant": "acme",
        "scope.prompt.name": "greeting", "scope.prompt.version": 3,
        "scope.provider.name": "openai-main"}


@pytest.mark.parametrize(("kind", "base_url", "expected"), [
    ("openai", None, "openai"),
    ("anthropic", None, "anthropic"),
    ("gemini", None, "gcp.gemini"),
    ("azure_openai", "https://myres.openai.azure.com", "azure.ai.openai"),
    ("openai_compatible", "https://api.groq.com/openai/v1", "groq"),
    ("openai_compatible", "https://api.deepseek.com", "deepseek"),
    ("openai_compatible", "http://localhost:11434/v1", "openai"),  # Ollama: OpenAI's API
    ("simulator", "http://127.0.0.1:40123", "scope.simulator"),
])
def test_provider_names_follow_the_conventions(kind: str, base_url: str | None,
                                               expected: str) -> None:
    assert provider_name(kind, base_url) == expected


@pytest.mark.parametrize(("endpoint", "expected"), [
    ("http://collector:4318", "http://collector:4318/v1/traces"),
    ("http://collector:4318/", "http://collector:4318/v1/traces"),
    ("https://otel.example/prefix", "https://otel.example/prefix/v1/traces"),
    ("http://collector:4318/v1/traces", "http://collector:4318/v1/traces"),
])
def test_the_endpoint_is_an_otlp_base_url(endpoint: str, expected: str) -> None:
    assert traces_url(endpoint) == expected


@pytest.mark.parametrize("blank", ["", "  "])
def test_a_blank_endpoint_means_no_export(blank: str) -> None:
    assert Settings(otlp_endpoint=blank).otlp_endpoint is None
    assert Telemetry(Settings(otlp_endpoint=blank)).endpoint is None


def test_without_an_endpoint_spans_still_have_ids() -> None:
    telemetry = Telemetry(settings(None))
    first = telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
    second = telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
    assert first.trace_id != second.trace_id
    assert int(first.span_id, 16) != 0
    assert telemetry.flush()
    assert telemetry.stats() == {"exported": 0, "failed": 0, "dropped": 0}


def test_no_global_tracer_provider_is_set(telemetry: Telemetry) -> None:
    telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_unreachable_collector_adds_no_latency_and_failures_are_counted(
        unreachable_url: str, caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    telemetry = Telemetry(settings(unreachable_url), export_timeout_s=0.5, clock=clock)
    caplog.set_level(logging.WARNING, logger="scope_api.telemetry")
    try:
        started = time.perf_counter()
        records = [telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
                   for _ in range(200)]
        elapsed = time.perf_counter() - started
        assert elapsed < 0.5  # the exporter's timeout alone is 0.5 s per attempt
        assert len({r.span_id for r in records}) == 200  # every execution has its record

        assert telemetry.flush(timeout_s=10)
        assert telemetry.stats() == {"exported": 0, "failed": 200, "dropped": 0}
        warnings = [r for r in caplog.records if r.name == "scope_api.telemetry"]
        assert len(warnings) == 1
        assert "failed to export" in warnings[0].getMessage()

        # More failures within the minute: counted, not logged again; after it, logged.
        telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
        assert telemetry.flush(timeout_s=10)
        assert telemetry.stats()["failed"] == 201
        assert len([r for r in caplog.records if r.name == "scope_api.telemetry"]) == 1
        clock.now += 61
        telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
        assert telemetry.flush(timeout_s=10)
        warnings = [r for r in caplog.records if r.name == "scope_api.telemetry"]
        assert len(warnings) == 2
        assert "202 failed" in warnings[1].getMessage()
    finally:
        telemetry.shutdown(timeout_s=2)


def test_a_collector_refusing_batches_counts_as_failed(
        telemetry: Telemetry, otlp_receiver: OtlpReceiver) -> None:
    otlp_receiver.status = 400  # not retryable: the batch is lost at once
    for _ in range(3):
        telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
    assert telemetry.flush(timeout_s=10)
    assert telemetry.stats() == {"exported": 0, "failed": 3, "dropped": 0}


def test_spans_dropped_from_a_full_queue_are_counted(
        otlp_receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture) -> None:
    telemetry = Telemetry(settings(otlp_receiver.url, otel_bsp_max_queue_size=4,
                                   otel_bsp_max_export_batch_size=4,
                                   otel_bsp_schedule_delay=60_000))
    caplog.set_level(logging.WARNING, logger="scope_api.telemetry")

    def record() -> SpanRecord:
        return telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)

    try:
        with otlp_receiver.hold():  # a stalled collector
            for _ in range(4):  # a full batch: the exporter sends it and waits
                record()
            assert otlp_receiver.request_arrived.wait(timeout=10)
            for _ in range(14):  # 4 fill the queue again, 10 find it full
                record()
            assert telemetry.stats()["dropped"] == 10
        assert telemetry.flush(timeout_s=10)
        otlp_receiver.wait_for_spans(8)
        assert telemetry.stats() == {"exported": 8, "failed": 0, "dropped": 10}
    finally:
        telemetry.shutdown(timeout_s=2)
    messages = [r.getMessage() for r in caplog.records if r.name == "scope_api.telemetry"]
    assert "since start: 1 dropped" in messages[0]  # at once, then at most once a minute...
    assert "since start: 10 dropped" in messages[-1]
    assert len(messages) == 2


def test_shutdown_is_bounded_when_the_collector_stalls(otlp_receiver: OtlpReceiver) -> None:
    telemetry = Telemetry(settings(otlp_receiver.url, otel_bsp_max_export_batch_size=1),
                          export_timeout_s=5)
    with otlp_receiver.hold():
        for _ in range(5):
            telemetry.record_execution(execution(), start_ns=1, end_ns=2, result=RESULT)
        assert otlp_receiver.request_arrived.wait(timeout=10)
        started = time.perf_counter()
        telemetry.shutdown(timeout_s=0.5)
        assert time.perf_counter() - started < 2
