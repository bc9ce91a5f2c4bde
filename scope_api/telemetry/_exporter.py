"""The SDK's OTLP/HTTP span exporter, with Scope's encoder (``_encoding``) in front.

Only the encoding changes: the bytes go out through the exporter's own HTTP client,
with its retries, backoff, compression, headers and TLS settings (``OTEL_EXPORTER_OTLP_*``).
That client is private to the SDK (``_client``, whose ``export(bytes)`` reports
``success``); without it, an SDK that reorganised its exporter, the SDK's own
``export`` encodes and sends, and a warning says so. On Scope's path the exporter's
request size limit (``max_request_size``, 64 MiB by default) applies as in the SDK,
but its self-metrics (``OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED``) are not recorded.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from scope_api.telemetry._encoding import encode

log = logging.getLogger("scope_api.telemetry")


class ExecutionSpanExporter(OTLPSpanExporter):
    """``OTLPSpanExporter`` encoding with :func:`scope_api.telemetry._encoding.encode`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client = getattr(self, "_client", None)
        self.encodes_itself = callable(getattr(client, "export", None)) \
            and isinstance(getattr(self, "_max_request_size", None), int)
        if not self.encodes_itself:  # pragma: no cover - an SDK that moved its internals
            log.warning("telemetry: this OpenTelemetry SDK's exporter cannot take Scope's "
                        "span encoding; spans are encoded by the SDK, at about three "
                        "times the CPU")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not self.encodes_itself or self._shutdown:
            return super().export(spans)
        try:
            data = encode(spans).SerializePartialToString()
        except Exception as error:  # the SDK's exporter also fails the batch, not the thread
            log.error("telemetry: could not encode %d spans: %s", len(spans), error)
            return SpanExportResult.FAILURE
        limit = self._max_request_size
        if limit > 0 and len(data) > limit:
            log.warning("telemetry: %d spans dropped: %d bytes encoded, over the exporter's "
                        "limit of %d", len(spans), len(data), limit)
            return SpanExportResult.FAILURE
        sent = self._client.export(data)
        return SpanExportResult.SUCCESS if sent.success else SpanExportResult.FAILURE
