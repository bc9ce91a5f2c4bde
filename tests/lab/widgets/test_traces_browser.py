"""TracesBrowser against a live server: spans of real executions, filters, one opened."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import scope_lab
from scope_lab.models import Span
from scope_lab.widgets import TracesBrowser
from scope_lab.widgets._trace_rows import attributes_html, spans_html
from tests.lab.widgets.conftest import WAIT_S, Lab


def browser(lab: Lab, **filters: str) -> TracesBrowser:
    widget = TracesBrowser(lab.scope, **filters)
    lab._widgets.append(widget)
    widget.wait(WAIT_S)
    return widget


def test_spans_of_executions_are_listed_filtered_and_opened(lab: Lab) -> None:
    prompt = lab.prompt("Trace {{ x }}")
    good = lab.simulator()
    bad = lab.simulator({"x-simulator-fault": "500", "x-simulator-retry-after": "0"})
    ok = lab.scope.executions.create(prompt, provider=good, model="sim-gpt-mini",
                                     version=1, variables={"x": "one"})
    with pytest.raises(scope_lab.ProviderError):
        lab.scope.executions.create(prompt, provider=bad, model="sim-claude-haiku",
                                    version=1, variables={"x": "two"})

    widget = browser(lab, prompt=prompt)
    assert {s.status for s in widget.spans} == {"ok", "error"}
    assert widget.table.value.count('data-testid="scope-span"') == 2
    assert widget.message == "2 spans"

    widget.status.value = "error"
    widget.load_button.click()
    widget.wait(WAIT_S)
    assert [s.attributes["gen_ai.request.model"] for s in widget.spans] == ["sim-claude-haiku"]

    widget.status.value = ""
    widget.model.value = "sim-gpt-mini"
    widget.load().result(WAIT_S)
    widget.wait(WAIT_S)
    assert [s.span_id for s in widget.spans] == [ok.span_id]
    widget.pick.value = ok.span_id  # choosing a span opens it
    assert "gen_ai.request.model" in widget.details.value
    assert ok.trace_id in widget.details.value


def test_no_match_and_errors_are_messages(lab: Lab) -> None:
    widget = browser(lab, prompt="no-such-prompt-anywhere")
    assert widget.spans == []
    assert "No spans match" in widget.table.value
    widget.show("0123")
    assert widget.message_is_error


def test_tables_escape_attributes() -> None:
    span = Span(trace_id="t" * 32, span_id="s" * 16, name="chat <b>", start=datetime.now(UTC),
                duration_ms=1.5, status="ok",
                attributes={"gen_ai.request.model": "<m>", "scope.note": ["<x>"]})
    assert "<b>" not in spans_html([span])
    assert "&lt;m&gt;" in spans_html([span])
    details = attributes_html(span)
    assert "&lt;x&gt;" in details
    assert "<x>" not in details
