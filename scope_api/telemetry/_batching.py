"""Batch export with counts: spans exported, failed and dropped, and a rate-limited warning."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

log = logging.getLogger("scope_api.telemetry")

LOG_INTERVAL_S = 60.0


class Counters:
    """Exported/failed/dropped spans, and the once-a-minute warning about losses."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.exported = self.failed = self.dropped = 0
        self._lock = threading.Lock()
        self._clock = clock
        self._logged_at: float | None = None
        self._logged_losses = 0

    def add(self, *, exported: int = 0, failed: int = 0, dropped: int = 0) -> None:
        with self._lock:
            self.exported += exported
            self.failed += failed
            self.dropped += dropped
        if failed or dropped:
            self.warn()

    def warn(self, *, force: bool = False) -> None:
        with self._lock:
            now = self._clock()
            losses = self.failed + self.dropped
            if losses == self._logged_losses:
                return
            recent = self._logged_at is not None and now - self._logged_at < LOG_INTERVAL_S
            if recent and not force:
                return
            self._logged_at, self._logged_losses = now, losses
            stats = self.snapshot()
        log.warning("telemetry: spans lost since start: %d dropped (queue full), %d failed "
                    "to export (%d exported)", stats["dropped"], stats["failed"],
                    stats["exported"])

    def snapshot(self) -> dict[str, int]:
        return {"exported": self.exported, "failed": self.failed, "dropped": self.dropped}


class CountingExporter(SpanExporter):
    """Counts what the wrapped exporter sent and what it failed to send."""

    def __init__(self, inner: SpanExporter, counters: Counters) -> None:
        self._inner = inner
        self._counters = counters

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
        except Exception:
            self._counters.add(failed=len(spans))
            raise
        if result is SpanExportResult.SUCCESS:
            self._counters.add(exported=len(spans))
        else:
            self._counters.add(failed=len(spans))
        return result

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


class DropHook:
    """Stands in for the batch processor's internal metrics, which it tells of every drop.

    The SDK's ``BatchProcessor`` calls ``drop_items`` when its queue is full (or it
    is shut down) and otherwise only logs, at most once per 20 s; this hook is the
    only exact count it offers. The SDK's own metrics object still gets every call.
    """

    def __init__(self, inner: Any, counters: Counters) -> None:
        self._inner = inner
        self._counters = counters

    def register_queue_size(self, get_queue_size: Callable[[], int]) -> None:
        self._inner.register_queue_size(get_queue_size)

    def drop_items(self, count: int, error_type: str = "queue_full") -> None:
        self._counters.add(dropped=count)
        self._inner.drop_items(count, error_type)

    def finish_items(self, count: int) -> None:
        self._inner.finish_items(count)


class BatchProcessor(BatchSpanProcessor):
    """A ``BatchSpanProcessor`` whose drops are counted and whose shutdown is bounded."""

    def __init__(self, exporter: SpanExporter, counters: Counters, *, max_queue_size: int,
                 schedule_delay_millis: float, max_export_batch_size: int) -> None:
        super().__init__(exporter, max_queue_size=max_queue_size,
                         schedule_delay_millis=schedule_delay_millis,
                         max_export_batch_size=max_export_batch_size)
        batch = self._batch_processor
        self.counts_drops = hasattr(batch, "_metrics")
        if self.counts_drops:
            batch._metrics = DropHook(batch._metrics, counters)
        else:  # pragma: no cover - an SDK that moved its internals
            log.warning("telemetry: this OpenTelemetry SDK hides dropped spans from Scope")

    def shutdown(self, timeout_millis: int = 5000) -> None:
        self._batch_processor.shutdown(timeout_millis)
