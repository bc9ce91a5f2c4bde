"""Widgets against the live server of tests/lab/conftest.py, as a notebook drives them.

``Lab`` gives each test a client whose traffic it can see (``recorder``) and hold
(``gate``), plus factories for prompts, simulator providers and widgets that are
closed when the test ends.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from httpx_retries import RetryTransport

from scope_lab import Scope
from scope_lab._config import default_retry
from scope_lab.models import Content
from scope_lab.widgets import PromptEditor, TestPanel
from tests.lab.conftest import Recorder
from tests.live import LiveServer

WAIT_S = 30.0  # a bound for waits on conditions, never a sleep


def unique(prefix: str = "w") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Gate:
    """Holds requests to one path on the thread that sends them, until released.

    It stands in for a slow server: a test can look at a widget while its work is
    in flight, then let it finish, without timing anything.
    """

    def __init__(self) -> None:
        self._match: tuple[str, str] | None = None
        self._released = threading.Event()
        self.arrived = threading.Event()

    def hold(self, method: str, path_suffix: str) -> None:
        self._match = (method, path_suffix)
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def on_request(self, request: httpx.Request) -> None:
        if self._match is None:
            return
        method, suffix = self._match
        if request.method == method and request.url.path.endswith(suffix):
            self.arrived.set()
            if not self._released.wait(WAIT_S):
                raise RuntimeError("the test never released the gate")


@dataclass
class Lab:
    scope: Scope
    recorder: Recorder
    gate: Gate
    _widgets: list[Any] = field(default_factory=list)

    def prompt(self, *contents: Content) -> str:
        """A new prompt with one version per content (numbered from 1)."""
        name = unique("p")
        self.scope.prompts.create(name)
        for content in contents:
            self.scope.versions.create(name, content)
        return name

    def simulator(self, headers: dict[str, str] | None = None) -> str:
        """A new simulator provider; ``headers`` inject faults (``x-simulator-*``)."""
        name = unique("sim")
        options = {"headers": headers} if headers else {}
        self.scope.providers.create(name, "simulator", options=options)
        return name

    def editor(self, prompt: str, **kwargs: Any) -> PromptEditor:
        editor = PromptEditor(self.scope, prompt, **kwargs)
        self._widgets.append(editor)
        return editor

    def panel(self, prompt: str, **kwargs: Any) -> TestPanel:
        panel = TestPanel(self.scope, prompt, **kwargs)
        self._widgets.append(panel)
        return panel

    def posts(self, suffix: str) -> int:
        return sum(1 for method, path in self.recorder.sent
                   if method == "POST" and path.endswith(suffix))


@pytest.fixture
def lab(live: LiveServer, recorder: Recorder) -> Iterator[Lab]:
    gate = Gate()
    http = httpx.Client(
        transport=RetryTransport(transport=httpx.HTTPTransport(), retry=default_retry()),
        event_hooks={"request": [recorder.on_request, gate.on_request],
                     "response": [recorder.on_response]}, timeout=60)
    scope = Scope(live.base_url, live.api_key, http_client=http)
    lab = Lab(scope, recorder, gate)
    try:
        yield lab
    finally:
        gate.release()  # a failed test must not leave a worker thread waiting
        for widget in lab._widgets:
            widget.close()
        scope.close()
        http.close()


def from_browser(widget: Any, **state: Any) -> None:
    """Apply a state update as the front end sends it over the widget's comm."""
    # _handle_msg is the entry point the comm calls with the browser's messages.
    widget._handle_msg({"content": {"data": {"method": "update", "state": state,
                                             "buffer_paths": []}}, "buffers": []})


def send_from_browser(widget: Any, content: dict[str, Any]) -> None:
    """Deliver a custom message as the front end's ``model.send(content)`` does."""
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}},
                        "buffers": []})
