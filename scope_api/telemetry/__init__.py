"""One OpenTelemetry span per execution, exported over OTLP/HTTP off the request path.

The span follows the GenAI semantic conventions (an inference span: name
``chat {model}``, kind ``CLIENT``, ``gen_ai.*`` attributes) plus Scope's own
``scope.*`` attributes. :class:`Telemetry` keeps its spans to itself; it sets no
global tracer provider, which would make FastAPI trace every request too.

An execution's span is recorded once the execution has ended, with the times the
engine measured, so it is built finished: the SDK's ``ReadableSpan`` (what its
exporters consume), with ids from its ``RandomIdGenerator``, handed straight to the
``BatchSpanProcessor``. Going through a tracer would open a live span only to end
it, and its locking and per-attribute checks were four fifths of a span's cost on
the request path; the attributes here are already of OTLP's types, and the
``OTEL_*`` attribute limits are still applied when set.

An execution never waits for the collector: recording a span only appends it to
the processor's in-memory queue, and a background thread sends batches (short
timeout, bounded retries) with the SDK's OTLP/HTTP exporter. The thread encodes a
batch holding the interpreter lock, so the encoding is Scope's own, a third of the
SDK's cost (``_encoding``), and batches are small and frequent (``OTEL_BSP_*``
settings; 128 spans or 100 ms): a large one stalls the event loop. If the collector is
slow or down, spans queue up and, once the queue is full, are dropped; the
execution and Scope's own record of its span (:class:`SpanRecord`, stored by the
engine) are unaffected. Drops and failed exports are counted
(:meth:`Telemetry.stats`) and logged at most once a minute.

What a span may carry: model names, parameters, token counts, cost, ids, the
provider's host and port. Never a credential: nothing here receives a provider
config, and the base URL contributes its host and port only. Prompt and
completion text only with ``SCOPE_OTEL_CAPTURE_CONTENT=true``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.util.types import Attributes

from scope_api.config import Settings
from scope_api.providers.types import CompletionResult
from scope_api.telemetry._batching import BatchProcessor, Counters, CountingExporter
from scope_api.telemetry._exporter import ExecutionSpanExporter
from scope_api.telemetry.attributes import (
    ExecutionInfo,
    error_type,
    provider_name,
    span_attributes,
    status_message,
)

__all__ = ["ExecutionInfo", "ExecutionRun", "SpanRecord", "Telemetry", "error_type",
           "provider_name", "span_attributes", "traces_url"]


@dataclass(frozen=True, slots=True)
class SpanRecord:
    """Scope's own copy of an exported span, for the execution record and ``/traces``."""

    trace_id: str  #: 32 lowercase hex digits
    span_id: str  #: 16 lowercase hex digits
    name: str
    start: datetime  #: UTC
    duration_ms: float
    attributes: dict[str, Any]  #: JSON-ready: str, int, float, bool, list[str]
    status: str  #: ``ok`` or ``error``


_SCOPE = InstrumentationScope("scope_api")
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_UNSET = Status(StatusCode.UNSET)


def traces_url(endpoint: str) -> str:
    """``SCOPE_OTLP_ENDPOINT`` is the OTLP/HTTP base URL; spans go to ``/v1/traces`` under it."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces"


class Telemetry:
    """Records execution spans and, with an endpoint, exports them in batches."""

    def __init__(self, settings: Settings, *, export_timeout_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.capture_content = settings.otel_capture_content
        self.endpoint = traces_url(settings.otlp_endpoint) if settings.otlp_endpoint else None
        self._counters = Counters(clock)
        self._resource = Resource.create({"service.name": settings.otel_service_name})
        self._ids = RandomIdGenerator()
        limits = SpanLimits()  # from the OTEL_* environment variables, as the SDK's
        self._max_attributes = limits.max_span_attributes
        self._max_length = limits.max_span_attribute_length
        self._processor: BatchProcessor | None = None
        if self.endpoint is not None:
            exporter = ExecutionSpanExporter(endpoint=self.endpoint, timeout=export_timeout_s)
            queue = settings.otel_bsp_max_queue_size
            self._processor = BatchProcessor(
                CountingExporter(exporter, self._counters), self._counters,
                max_queue_size=queue, schedule_delay_millis=settings.otel_bsp_schedule_delay,
                max_export_batch_size=min(settings.otel_bsp_max_export_batch_size, queue))

    def record_execution(self, execution: ExecutionInfo, *, start_ns: int, end_ns: int,
                         result: CompletionResult | None = None, cost_usd: float | None = None,
                         error: BaseException | str | None = None) -> SpanRecord:
        """Create and end the span of a finished execution (times: ``time.time_ns()``)."""
        attrs = span_attributes(execution, result=result, cost_usd=cost_usd, error=error,
                                capture_content=self.capture_content)
        name = f"chat {execution.request.model}"
        ctx = SpanContext(self._ids.generate_trace_id(), self._ids.generate_span_id(),
                          is_remote=False, trace_flags=_SAMPLED)
        if self._processor is not None:
            status = _UNSET if error is None else Status(StatusCode.ERROR,
                                                         status_message(error))
            self._processor.on_end(ReadableSpan(
                name, ctx, resource=self._resource, attributes=self._limited(attrs),
                kind=SpanKind.CLIENT, status=status, start_time=start_ns, end_time=end_ns,
                instrumentation_scope=_SCOPE))
        return SpanRecord(
            trace_id=format(ctx.trace_id, "032x"), span_id=format(ctx.span_id, "016x"),
            name=name, start=datetime.fromtimestamp(start_ns / 1e9, UTC),
            duration_ms=(end_ns - start_ns) / 1e6, attributes=attrs,
            status="error" if error is not None else "ok")

    def _limited(self, attrs: dict[str, Any]) -> Attributes:
        """The attributes within the configured limits (by default there are none to apply)."""
        count, length = self._max_attributes, self._max_length
        if length is None and (count is None or len(attrs) <= count):
            return attrs
        return BoundedAttributes(count, attrs, immutable=True, max_value_len=length)

    @contextmanager
    def execution_span(self, execution: ExecutionInfo) -> Iterator[ExecutionRun]:
        """Time the block and record its span; an exception escaping it is the error."""
        run = ExecutionRun()
        start_ns, started = time.time_ns(), time.perf_counter_ns()
        try:
            yield run
        except BaseException as exc:
            run.error = run.error or exc
            raise
        finally:
            end_ns = start_ns + time.perf_counter_ns() - started
            run._record = self.record_execution(
                execution, start_ns=start_ns, end_ns=end_ns, result=run.result,
                cost_usd=run.cost_usd, error=run.error)

    def stats(self) -> dict[str, int]:
        """Span counts: ``exported``, ``failed`` (refused or unreachable), ``dropped``."""
        return self._counters.snapshot()

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Export what is queued now; ``False`` if that took longer than ``timeout_s``."""
        if self._processor is None:
            return True
        worker = threading.Thread(target=self._processor.force_flush, daemon=True,
                                  name="scope-telemetry-flush")
        worker.start()
        worker.join(timeout_s)
        return not worker.is_alive()

    def shutdown(self, timeout_s: float = 5.0) -> None:
        """Export what is queued (for at most about ``timeout_s``), then stop."""
        if self._processor is not None:
            self._processor.shutdown(int(timeout_s * 1000))
        self._counters.warn(force=True)


class ExecutionRun:
    """Filled in by the engine inside :meth:`Telemetry.execution_span`."""

    def __init__(self) -> None:
        self.result: CompletionResult | None = None
        self.cost_usd: float | None = None
        self.error: BaseException | str | None = None
        self._record: SpanRecord | None = None

    def succeed(self, result: CompletionResult, *, cost_usd: float | None) -> None:
        self.result, self.cost_usd = result, cost_usd

    def fail(self, error: BaseException | str) -> None:
        self.error = error

    @property
    def record(self) -> SpanRecord:
        """The span's record, once the ``with`` block has ended."""
        if self._record is None:
            raise RuntimeError("the span is recorded when the with block ends")
        return self._record
