"""Scope's OTLP encoding of execution spans: the SDK's bytes, at a third of the cost.

A collector must not be able to tell the two encoders apart, so the spans ``Telemetry``
exports are compared, byte for byte, with what the SDK's ``encode_spans`` makes of the
same spans.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from scope_api.providers.types import ProviderError, ProviderTimeout
from scope_api.telemetry import Telemetry
from scope_api.telemetry._encoding import encode
from scope_api.telemetry._exporter import ExecutionSpanExporter
from tests.telemetry.receiver import OtlpReceiver
from tests.telemetry.test_telemetry import RESULT, execution, settings


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[list[ReadableSpan]]:
    """The batches the exporter is handed, in order; it still sends every one."""
    seen: list[list[ReadableSpan]] = []
    export = ExecutionSpanExporter.export

    def spy(self: ExecutionSpanExporter, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        seen.append(list(spans))
        return export(self, spans)

    monkeypatch.setattr(ExecutionSpanExporter, "export", spy)
    return seen


@pytest.mark.parametrize("limits", [{}, {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT": "6"},
                                    {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT": "9"}],
                         ids=["no limits", "attribute count", "value length"])
def test_the_collector_gets_the_bytes_the_sdk_would_send(
        otlp_receiver: OtlpReceiver, batches: list[list[ReadableSpan]],
        monkeypatch: pytest.MonkeyPatch, limits: dict[str, str]) -> None:
    for name, value in limits.items():
        monkeypatch.setenv(name, value)
    telemetry = Telemetry(settings(otlp_receiver.url, otel_capture_content=True))
    try:
        for number in range(3):  # the same attributes, and some that differ
            with telemetry.execution_span(execution(execution_id=f"exe_{number}")) as run:
                run.succeed(RESULT, cost_usd=0.00001 * number)
        with telemetry.execution_span(execution(provider_kind="anthropic")) as run:
            run.fail(ProviderError("Rate limit reached", status=429))
        with telemetry.execution_span(execution()) as run:
            run.fail(ProviderTimeout("no answer within 30 s"))
        with pytest.raises(RuntimeError), telemetry.execution_span(execution()):
            raise RuntimeError("boom")
        assert telemetry.flush(timeout_s=10)
        otlp_receiver.wait_for_spans(6)
    finally:
        telemetry.shutdown(timeout_s=2)

    assert sum(map(len, batches)) == 6
    assert otlp_receiver.bodies == [encode_spans(batch).SerializePartialToString()
                                    for batch in batches]
    statuses = [span.status for span in otlp_receiver.spans]
    assert statuses == ["unset"] * 3 + ["error"] * 3
    if "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT" in limits:
        assert {len(span.attributes) for span in otlp_receiver.spans} == {6}


def span(attributes: dict[str, Any], *, resource: Resource | None = None,
         **overrides: Any) -> ReadableSpan:
    values: dict[str, Any] = {
        "name": "chat gpt-4o-mini",
        "context": SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331,
                               is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED)),
        "resource": resource or Resource.create({"service.name": "scope"}),
        "attributes": attributes, "kind": SpanKind.CLIENT,
        "status": Status(StatusCode.UNSET), "start_time": 1_000, "end_time": 2_000,
        "instrumentation_scope": InstrumentationScope("scope_api")}
    return ReadableSpan(**(values | overrides))


def test_values_equal_in_python_keep_their_own_types() -> None:
    # True == 1 == 1.0, and a repeated attribute is encoded once per batch: the type
    # must decide, or a count would reach the collector as a boolean.
    resource = Resource.create({"service.name": "scope"})
    spans = [span({"x": value, "stop": stop}, resource=resource)
             for value, stop in [(True, ["1"]), (1, [1]), (1.0, [True]), (True, ["1"])]]
    assert encode(spans) == encode_spans(spans)
    encoded = encode(spans).resource_spans[0].scope_spans[0].spans
    assert [s.attributes[0].value.WhichOneof("value") for s in encoded] == [
        "bool_value", "int_value", "double_value", "bool_value"]


def test_spans_of_other_resources_and_scopes_are_grouped_as_the_sdk_groups_them() -> None:
    one, other = (Resource.create({"service.name": name}) for name in ("scope", "other"))
    one_again = Resource.create({"service.name": "scope"})  # equal, not the same object
    spans = [span({"n": 1}, resource=one), span({"n": 2}, resource=other),
             span({"n": 3}, resource=one_again), span({"n": 4}, resource=one),
             span({"n": 5}, resource=one, instrumentation_scope=InstrumentationScope("x", "2")),
             span({"n": 6}, resource=one, instrumentation_scope=None)]
    encoded = encode(spans)
    assert encoded == encode_spans(spans)
    assert [[[s.attributes[0].value.int_value for s in scope.spans]
             for scope in resource.scope_spans] for resource in encoded.resource_spans] \
        == [[[1, 3, 4], [5], [6]], [[2]]]


def test_spans_with_a_parent_or_events_go_to_the_sdks_encoder() -> None:
    parent = SpanContext(1, 2, is_remote=True)
    spans = [span({"n": 1}), span({"n": 2}, parent=parent),
             span({"n": 3}, events=[Event("retry", {"attempt": 2}, timestamp=1_500)])]
    assert encode(spans) == encode_spans(spans)
    assert encode(spans).resource_spans[0].scope_spans[0].spans[1].parent_span_id


def test_an_attribute_of_no_otlp_type_is_left_out_as_the_sdk_does(
        caplog: pytest.LogCaptureFixture) -> None:
    spans = [span({"ok": "yes", "bad": {1, 2}, "also_ok": [{"a": 1}, None]})]
    with caplog.at_level(logging.ERROR, logger="scope_api.telemetry"):
        encoded = encode(spans)
    assert encoded == encode_spans(spans)
    assert [pair.key for pair in encoded.resource_spans[0].scope_spans[0].spans[0].attributes] \
        == ["ok", "also_ok"]
    assert "bad" in caplog.text


def test_the_exporter_encodes_with_scopes_encoder_on_this_sdk(
        otlp_receiver: OtlpReceiver) -> None:
    exporter = ExecutionSpanExporter(endpoint=f"{otlp_receiver.url}/v1/traces", timeout=5)
    try:
        # If an SDK upgrade moves the exporter's client, the SDK's encoder takes over
        # silently but for a warning; this says that has happened.
        assert exporter.encodes_itself
        assert exporter.export([span({"n": 1})]) is SpanExportResult.SUCCESS
        assert [s.attributes for s in otlp_receiver.wait_for_spans(1)] == [{"n": 1}]
    finally:
        exporter.shutdown()


def test_a_batch_over_the_exporters_size_limit_is_dropped_with_a_warning(
        otlp_receiver: OtlpReceiver, caplog: pytest.LogCaptureFixture) -> None:
    exporter = ExecutionSpanExporter(endpoint=f"{otlp_receiver.url}/v1/traces", timeout=5,
                                     max_request_size=800)
    try:
        with caplog.at_level(logging.WARNING, logger="scope_api.telemetry"):
            result = exporter.export([span({"text": "x" * 1000})])
        assert result is SpanExportResult.FAILURE
        assert "over the exporter's limit of 800" in caplog.text
        assert exporter.export([span({"n": 1})]) is SpanExportResult.SUCCESS
        assert otlp_receiver.requests == 1
    finally:
        exporter.shutdown()
