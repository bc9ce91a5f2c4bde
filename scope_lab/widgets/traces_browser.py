"""``TracesBrowser``: the execution spans Scope recorded, filtered, one opened in full.

Stock ipywidgets. Filters (prompt, model, status, the last N hours) are sent to
``GET /traces``; loading runs on a worker thread. Choosing a span shows all its
attributes (OpenTelemetry GenAI ``gen_ai.*`` and Scope's ``scope.*``).

Stable hooks for browser tests: the CSS classes ``scope-traces-browser``,
``scope-trace-prompt``, ``scope-trace-model``, ``scope-trace-status``,
``scope-trace-load``, ``scope-trace-pick``, ``scope-busy``, ``scope-status``, and the
``data-testid`` attributes of ``_trace_rows``.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

import ipywidgets  # type: ignore[import-untyped]

from scope_lab._sync.client import Scope
from scope_lab.models import Span
from scope_lab.widgets._background import Jobs
from scope_lab.widgets._messages import error_message
from scope_lab.widgets._trace_rows import attributes_html, span_label, spans_html
from scope_lab.widgets._ui import BoxWidget, busy_html, classed, status_html

WINDOWS = (("last hour", 1), ("last 24 hours", 24), ("last 7 days", 24 * 7), ("all", 0))


class TracesBrowser(BoxWidget):
    """Filter execution spans and look at one.

    ``TracesBrowser(scope, prompt="greeting")``; display it as the last expression of
    a cell. ``load()`` returns a future; ``spans`` holds what was loaded and
    ``show(span_id)`` opens one.
    """

    def __init__(self, scope: Scope, *, prompt: str | None = None, model: str | None = None,
                 status: str | None = None, limit: int = 200) -> None:
        self._scope = scope
        self._limit = limit
        self._lock = threading.Lock()
        self.spans: list[Span] = []
        self.message = ""
        self.message_is_error = False
        self._jobs = Jobs(1, on_busy=self._show_busy)
        self.prompt = classed(ipywidgets.Text(value=prompt or "", description="Prompt",
                                               placeholder="any"), "scope-trace-prompt")
        self.model = classed(ipywidgets.Text(value=model or "", description="Model",
                                              placeholder="any"), "scope-trace-model")
        self.status = classed(ipywidgets.Dropdown(
            options=[("any", ""), ("ok", "ok"), ("error", "error")], value=status or "",
            description="Status"), "scope-trace-status")
        self.window = ipywidgets.Dropdown(options=WINDOWS, value=24, description="Since")
        self.load_button = classed(ipywidgets.Button(description="Load", icon="search"),
                                    "scope-trace-load")
        self.pick = classed(ipywidgets.Select(description="Span", rows=6,
                                               layout=ipywidgets.Layout(width="95%")),
                             "scope-trace-pick")
        self.busy = classed(ipywidgets.HTML(), "scope-busy")
        self.status_line = classed(ipywidgets.HTML(), "scope-status")
        self.table = ipywidgets.HTML()
        self.details = ipywidgets.HTML()
        self.widget = classed(ipywidgets.VBox([
            ipywidgets.HBox([self.prompt, self.model]),
            ipywidgets.HBox([self.status, self.window, self.load_button, self.busy]),
            self.status_line, self.table, self.pick, self.details]), "scope-traces-browser")
        self.load_button.on_click(lambda _: self.load())
        self.pick.observe(self._on_pick, names="value")
        self.load()

    def load(self) -> Future[list[Span]]:
        """Fetch the spans matching the filters (newest first, at most ``limit``)."""
        filters = {"prompt": self.prompt.value.strip() or None,
                   "model": self.model.value.strip() or None,
                   "status": self.status.value or None,
                   "since": (datetime.now(UTC) - timedelta(hours=self.window.value)
                             if self.window.value else None)}
        return self._jobs.submit(self._load, filters)

    def show(self, span_id: str) -> None:
        """Open one loaded span: all its attributes."""
        with self._lock:
            span = next((s for s in self.spans if s.span_id == span_id), None)
        if span is None:
            self._say(f"span {span_id} is not in the loaded list", error=True)
            return
        self.details.value = attributes_html(span)

    def wait(self, timeout: float | None = None) -> None:
        """Block until loading is done."""
        self._jobs.wait(timeout)

    def _load(self, filters: dict[str, Any]) -> list[Span]:
        try:
            spans = list(self._scope.traces.list(limit=self._limit, **filters))
        except Exception as exc:  # shown in the widget; the future keeps it too
            self._say(error_message(exc, "load the traces"), error=True)
            raise
        with self._lock:
            self.spans = spans
        self.table.value = spans_html(spans)
        self.pick.options = [(span_label(s), s.span_id) for s in spans]
        self.details.value = ""
        self._say(f"{len(spans)} span{'s' if len(spans) != 1 else ''}")
        return spans

    def _on_pick(self, change: dict[str, Any]) -> None:
        if change.get("new"):
            self.show(change["new"])

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message, self.message_is_error = text, error
        self.status_line.value = status_html(text, error=error)

    def _show_busy(self, in_flight: int) -> None:
        self.busy.value = busy_html(in_flight, 'loading…')

