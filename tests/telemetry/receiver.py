"""A small OTLP/HTTP trace receiver: a real HTTP server that decodes what exporters send.

It accepts ``POST /v1/traces`` with ``application/x-protobuf`` bodies (optionally
gzip- or deflate-compressed), decodes each ``ExportTraceServiceRequest`` with
``opentelemetry-proto`` and keeps the spans as :class:`ReceivedSpan`. It can
hold its answers (:meth:`OtlpReceiver.hold`) to play a slow collector, or answer
with an error status (``status``) to play a failing one.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

TRACES_PATH = "/v1/traces"
_STATUS = {Status.STATUS_CODE_UNSET: "unset", Status.STATUS_CODE_OK: "ok",
           Status.STATUS_CODE_ERROR: "error"}
_KIND = {Span.SPAN_KIND_INTERNAL: "internal", Span.SPAN_KIND_SERVER: "server",
         Span.SPAN_KIND_CLIENT: "client", Span.SPAN_KIND_PRODUCER: "producer",
         Span.SPAN_KIND_CONSUMER: "consumer", Span.SPAN_KIND_UNSPECIFIED: "unspecified"}


def any_value(value: AnyValue) -> Any:
    """An OTLP ``AnyValue`` as a Python value (arrays as lists, kvlists as dicts)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return attributes(value.kvlist_value.values)
    return getattr(value, kind)


def attributes(pairs: Any) -> dict[str, Any]:
    """OTLP ``KeyValue``s as a dict."""
    return {kv.key: any_value(kv.value) for kv in pairs}


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as the receiver decoded it."""

    name: str
    trace_id: str  # lowercase hex
    span_id: str
    parent_span_id: str
    kind: str  # "client", "internal", …
    start_ns: int
    end_ns: int
    status: str  # "unset", "ok", "error"
    status_message: str
    attributes: dict[str, Any]
    resource: dict[str, Any] = field(default_factory=dict)
    scope: str = ""


class OtlpReceiver:
    """An OTLP/HTTP receiver on ``127.0.0.1`` and a free port, served from a thread."""

    def __init__(self, *, keep_spans: bool = True) -> None:
        self.spans: list[ReceivedSpan] = []
        self.bodies: list[bytes] = []  # each request's protobuf, uncompressed (if spans are kept)
        self.keep_spans = keep_spans
        self.received = 0  # spans, including those not kept
        self.requests = 0
        self.status = 200  # what to answer; e.g. 400 to play a collector refusing batches
        self.last_headers: dict[str, str] = {}  # of the last export request, names lower-cased
        self.request_arrived = threading.Event()
        self._released = threading.Event()
        self._released.set()
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="otlp-receiver", daemon=True)

    @property
    def url(self) -> str:
        """The base URL, as ``SCOPE_OTLP_ENDPOINT`` takes it (no ``/v1/traces``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OtlpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Keep every request waiting (a stalled collector) until the block ends."""
        self._released.clear()
        try:
            yield
        finally:
            self._released.set()

    def wait_for_spans(self, count: int, timeout_s: float = 10.0) -> list[ReceivedSpan]:
        """The spans received once there are at least ``count``; ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while len(self.spans) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(self.spans)} spans received, {count} expected")
                self._changed.wait(remaining)
            return list(self.spans)

    def clear(self) -> None:
        with self._changed:
            self.spans.clear()
            self.bodies.clear()
            self.received = self.requests = 0

    def _receive(self, body: bytes) -> None:
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received: list[ReceivedSpan] = []
        if not self.keep_spans:
            with self._changed:
                self.requests += 1
                self.received += sum(len(scope_spans.spans) for resource_spans
                                     in request.resource_spans
                                     for scope_spans in resource_spans.scope_spans)
                self._changed.notify_all()
            return
        for resource_spans in request.resource_spans:
            resource = attributes(resource_spans.resource.attributes)
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received.append(ReceivedSpan(
                        name=span.name, trace_id=span.trace_id.hex(), span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(), kind=_KIND[span.kind],
                        start_ns=span.start_time_unix_nano, end_ns=span.end_time_unix_nano,
                        status=_STATUS[span.status.code], status_message=span.status.message,
                        attributes=attributes(span.attributes), resource=resource,
                        scope=scope_spans.scope.name))
        with self._changed:
            self.requests += 1
            self.received += len(received)
            self.spans.extend(received)
            self.bodies.append(body)
            self._changed.notify_all()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.last_headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.request_arrived.set()
                receiver._released.wait()
                if self.path != TRACES_PATH:
                    self._answer(404, b"")
                    return
                if self.headers.get("Content-Type") != "application/x-protobuf":
                    self._answer(415, b"")
                    return
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                if receiver.status != 200:
                    self._answer(receiver.status, b"")
                    return
                receiver._receive(body)
                self._answer(200, ExportTraceServiceResponse().SerializeToString())

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler



def main() -> None:
    """Serve until stdin closes: print the URL, then answer each ``count`` line.

    The answer is ``<spans received> <requests>``. Benchmarks run the receiver in
    its own process this way, so that decoding spans does not compete with the
    process being measured.
    """
    import sys

    with OtlpReceiver(keep_spans=False) as receiver:
        print(receiver.url, flush=True)
        for line in sys.stdin:
            if line.strip() == "count":
                print(f"{receiver.received} {receiver.requests}", flush=True)


if __name__ == "__main__":
    main()
