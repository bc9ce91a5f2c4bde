"""OTLP encoding of a batch of execution spans, at a third of the SDK's cost.

The export thread holds the interpreter lock while it encodes, so the event loop
waits for the encoder: with the SDK's ``encode_spans`` that was ~45 µs per span, most
of the CPU a span costs. The SDK builds every ``KeyValue`` of every span afresh,
although most of an execution span's attributes (model, provider, prompt, parameters,
host) are the same from one span to the next, and it hashes the resource (a JSON dump
of its attributes) once per span to group spans by resource.

:func:`encode` builds the same ``ExportTraceServiceRequest`` from opentelemetry-proto's
classes (tests compare the two for every kind of span Scope records), making one
``KeyValue`` per distinct attribute (key, type and value) in a batch, and hashing each
resource and scope object once. Execution spans have no parent, events, links or
trace state; a batch holding any span that has one is left to the SDK's encoder.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.trace.v1.trace_pb2 import (
    Span,
    SpanFlags,
    Status,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

_KINDS = {
    SpanKind.INTERNAL: Span.SpanKind.SPAN_KIND_INTERNAL,
    SpanKind.SERVER: Span.SpanKind.SPAN_KIND_SERVER,
    SpanKind.CLIENT: Span.SpanKind.SPAN_KIND_CLIENT,
    SpanKind.PRODUCER: Span.SpanKind.SPAN_KIND_PRODUCER,
    SpanKind.CONSUMER: Span.SpanKind.SPAN_KIND_CONSUMER,
}
_STATUS_CODES = {
    StatusCode.UNSET: Status.StatusCode.STATUS_CODE_UNSET,
    StatusCode.OK: Status.StatusCode.STATUS_CODE_OK,
    StatusCode.ERROR: Status.StatusCode.STATUS_CODE_ERROR,
}
#: A span without a parent: "is the parent remote" is known (no), and it is not.
_FLAGS = SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK

log = logging.getLogger("scope_api.telemetry")

_SCALARS = frozenset({str, bool, int, float})
_SEQUENCES = frozenset({list, tuple})

_Memo = dict[tuple[Any, ...], KeyValue]


def encode(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    """The OTLP request carrying ``spans``, as the SDK's ``encode_spans`` builds it."""
    if not all(_plain(span) for span in spans):
        return encode_spans(spans)
    # Grouped by resource, then scope, as the SDK groups them (by equality, in order of
    # first appearance); then built from the top with add(): a message passed to a
    # constructor or appended to a list is copied with all it holds, so each span is
    # copied once, into its scope, and nothing above it is.
    resources, scopes = _FirstEqual(), _FirstEqual()
    groups: dict[int, tuple[Any, dict[int, tuple[Any, list[ReadableSpan]]]]] = {}
    for span in spans:
        resource, scope = resources(span.resource), scopes(span.instrumentation_scope)
        _, in_resource = groups.setdefault(id(resource), (resource, {}))
        in_resource.setdefault(id(scope), (scope, []))[1].append(span)
    memo: _Memo = {}
    request = ExportTraceServiceRequest()
    for resource, in_resource in groups.values():
        resource_spans = request.resource_spans.add(schema_url=resource.schema_url)
        resource_spans.resource.attributes.extend(_attributes(resource.attributes, memo))
        for scope, members in in_resource.values():
            scope_spans = resource_spans.scope_spans.add(
                schema_url=scope.schema_url if scope else None)
            if scope is not None:
                scope_spans.scope.name = scope.name
                scope_spans.scope.version = scope.version or ""
                scope_spans.scope.attributes.extend(_attributes(scope.attributes, memo))
            else:
                scope_spans.scope.SetInParent()
            scope_spans.spans.extend([_span(span, memo) for span in members])
    return request


class _FirstEqual:
    """Each object as the first equal one seen. An object is hashed once, however many
    spans share it: a resource's hash is a JSON dump of its attributes."""

    def __init__(self) -> None:
        self._by_id: dict[int, Any] = {}
        self._by_value: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        first = self._by_id.get(id(value))
        if first is None:
            first = self._by_id[id(value)] = self._by_value.setdefault(value, value)
        return first


def _plain(span: ReadableSpan) -> bool:
    """A span as Telemetry records them: no parent, events, links or trace state."""
    return (span.parent is None and not span.events and not span.links
            and not span.context.trace_state)


def _span(span: ReadableSpan, memo: _Memo) -> Span:
    context = span.context
    status = span.status
    return Span(
        trace_id=context.trace_id.to_bytes(16, "big"),
        span_id=context.span_id.to_bytes(8, "big"),
        name=span.name, kind=_KINDS[span.kind],
        start_time_unix_nano=span.start_time or 0, end_time_unix_nano=span.end_time or 0,
        attributes=_attributes(span.attributes, memo),
        dropped_attributes_count=span.dropped_attributes,
        status=Status(code=_STATUS_CODES[status.status_code], message=status.description or ""),
        flags=_FLAGS)


def _attributes(attributes: Mapping[str, Any] | None, memo: _Memo) -> list[KeyValue]:
    if not attributes:
        return []
    encoded = []
    for key, value in attributes.items():
        kind = type(value)
        try:
            # The types are part of the key: True == 1 == 1.0, but they are three values.
            if kind in _SCALARS:
                memo_key: tuple[Any, ...] | None = (key, kind, value)
            elif kind in _SEQUENCES and all(type(item) in _SCALARS for item in value):
                memo_key = (key, tuple(value), tuple(map(type, value)))
            else:
                memo_key = None
            pair = None if memo_key is None else memo.get(memo_key)
            if pair is None:
                pair = KeyValue(key=key, value=_value(value))
                if memo_key is not None:
                    memo[memo_key] = pair
        except TypeError as error:  # as the SDK's encoder does: the attribute is left out
            log.error("telemetry: span attribute %s left out: %s", key, error)
            continue
        encoded.append(pair)
    return encoded


def _value(value: Any) -> AnyValue:
    """An attribute value: a scalar or a sequence of them (and, as the SDK's encoder
    takes them, ``None`` and mappings, which the API does not allow)."""
    if value is None:
        return AnyValue()
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Sequence):
        return AnyValue(array_value=ArrayValue(values=[_value(v) for v in value]))
    if isinstance(value, Mapping):
        return AnyValue(kvlist_value=KeyValueList(
            values=[KeyValue(key=str(k), value=_value(v)) for k, v in value.items()]))
    raise TypeError(f"a span attribute cannot be a {type(value).__name__}")
