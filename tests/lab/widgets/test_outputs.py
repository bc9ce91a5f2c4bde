"""Display cells of the test panel, error messages, and the editor's unsaved diff."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scope_lab.errors import ConnectionError, NotFound, ServerError, ValidationError
from scope_lab.models import Execution, Version
from scope_lab.widgets._compare import draft_diff
from scope_lab.widgets._messages import error_message
from scope_lab.widgets._outputs import (
    error_cell,
    execution_cell,
    format_cost,
    format_latency,
    grid_html,
    pending_cell,
)

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def execution(**overrides: Any) -> Execution:
    fields: dict[str, Any] = {
        "id": "exe_1", "prompt": "p", "version": 1, "provider": "sim", "model": "m",
        "status": "succeeded", "rendered": {}, "output": "hello", "error": None,
        "input_tokens": 1200, "output_tokens": 30, "latency_ms": 840.0,
        "cost_usd": 0.000042, "trace_id": "t", "span_id": "s", "created_at": NOW}
    return Execution.model_validate({**fields, **overrides})


def test_cells_carry_output_usage_or_the_error() -> None:
    ok = execution_cell(execution())
    assert (ok["status"], ok["output"], ok["input_tokens"], ok["cost_usd"],
            ok["execution_id"]) == ("succeeded", "hello", 1200, 0.000042, "exe_1")
    failed = execution_cell(execution(status="failed", output=None, cost_usd=None,
                                      error={"code": "provider_error", "message": "HTTP 500"}))
    assert (failed["status"], failed["error"]) == ("failed", "HTTP 500")
    refused = error_cell(2, "sim", "m", "missing variables: x")
    assert (refused["status"], refused["error"], refused["execution_id"]) == (
        "error", "missing variables: x", None)


def test_figures_read_naturally() -> None:
    assert format_latency(840.4) == "840 ms"
    assert format_latency(2430.0) == "2.4 s"
    assert format_latency(None) == "—"
    assert format_cost(0.000042) == "$0.000042"
    assert format_cost(1.5) == "$1.5000"
    assert format_cost(None) == "cost unknown"


def test_the_grid_lays_versions_by_targets_and_escapes_what_models_say() -> None:
    targets = [("sim", "m"), ("other", "<b>")]
    cells = {
        (1, "sim", "m"): execution_cell(execution(output="<script>alert(1)</script>")),
        (1, "other", "<b>"): pending_cell(1, "other", "<b>"),
        (2, "sim", "m"): error_cell(2, "sim", "m", "bad & <wrong>"),
    }
    page = grid_html(cells, [1, 2], targets)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "bad &amp; &lt;wrong&gt;" in page
    assert 'data-target="other/&lt;b&gt;"' in page
    assert page.count('data-testid="scope-output"') == 4  # 2 versions x 2 targets
    assert page.count('data-status="succeeded"') == 1
    assert page.count('data-status="pending"') == 1
    assert page.count('data-status="error"') == 1
    assert page.count('data-status="none"') == 1  # (2, other) never ran
    assert "1,200 in · 30 out · 840 ms · $0.000042" in page
    assert grid_html(cells, [], targets) == ""


def test_error_messages_are_one_readable_line() -> None:
    missing = NotFound(404, "not_found", "prompt 'x' not found", request_id="req_1")
    assert error_message(missing, "save") == (
        "Could not save: prompt 'x' not found (404 not_found)")
    invalid = ValidationError(422, "validation_error", "request is invalid",
                              details={"errors": [{"loc": ["body", "content"],
                                                   "msg": "unknown filter"}]})
    assert error_message(invalid) == (
        "request is invalid; body.content: unknown filter (422 validation_error)")
    down = ServerError(503, "database_unavailable", "database unavailable",
                       request_id="req_9")
    assert error_message(down) == "database unavailable (503 database_unavailable, request req_9)"
    unreachable = ConnectionError("could not reach Scope at http://x/api/v1: refused")
    assert error_message(unreachable, "load") == (
        "Could not load: could not reach Scope at http://x/api/v1: refused")
    assert error_message(KeyError("k")) == "unexpected KeyError: 'k'"


def test_an_unsaved_draft_is_diffed_like_a_version() -> None:
    old = Version.model_validate({
        "prompt": "p", "number": 3, "status": "draft", "content": "Hi {{ name }}\nBye\n",
        "variables": ["name"], "metadata": {}, "message": "", "created_by": None,
        "created_at": NOW})
    text = draft_diff(old, "Hello {{ name }}\nBye\n")
    assert text.splitlines()[:2] == ["--- p v3", "+++ p (unsaved)"]
    assert "-Hi {{ name }}" in text
    assert "+Hello {{ name }}" in text
    assert draft_diff(old, old.content) == "version 3 and the editor have the same content"
