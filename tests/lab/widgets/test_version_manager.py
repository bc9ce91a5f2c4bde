"""VersionManager against a live server: badges, confirmation, refusals, history, diff."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import scope_lab
from scope_lab import Scope
from scope_lab.models import Promotion, Version
from scope_lab.widgets import VersionManager
from scope_lab.widgets._version_rows import history_html, versions_html
from tests.lab.widgets.conftest import WAIT_S, Lab
from tests.live import LiveServer


def manager(lab: Lab, prompt: str) -> VersionManager:
    widget = VersionManager(lab.scope, prompt)
    lab._widgets.append(widget)
    widget.wait(WAIT_S)
    return widget


def statuses(widget: VersionManager) -> dict[int, str]:
    return {v.number: v.status for v in widget.versions}


def test_promotion_asks_for_confirmation_then_moves_the_badge(lab: Lab) -> None:
    prompt = lab.prompt("one {{ x }}", "two {{ x }}")
    widget = manager(lab, prompt)
    assert statuses(widget) == {1: "draft", 2: "draft"}
    assert widget.table.value.count('data-testid="scope-badge"') == 2

    widget.pick.value = 1
    widget.promote_button.click()
    assert widget.confirm_box.layout.display == "flex"  # nothing sent yet
    assert lab.posts("/promote") == 0
    widget.reason.value = "first launch"
    widget.confirm_button.click()
    widget.wait(WAIT_S)
    assert statuses(widget) == {1: "published", 2: "draft"}
    assert widget.confirm_box.layout.display == "none"

    widget.promote(2, reason="better").result(WAIT_S)
    widget.wait(WAIT_S)
    assert statuses(widget) == {1: "archived", 2: "published"}
    assert [(p.version, p.previous_version, p.reason) for p in widget.history] == [
        (2, 1, "better"), (1, None, "first launch")]
    assert "first launch" in widget.history_table.value
    assert widget.message == "v2 is now published"


def test_cancel_sends_nothing(lab: Lab) -> None:
    prompt = lab.prompt("only")
    widget = manager(lab, prompt)
    widget.pick.value = 1
    widget.promote_button.click()
    widget.cancel_button.click()
    assert widget.confirm_box.layout.display == "none"
    assert lab.posts("/promote") == 0


def test_illegal_transitions_are_messages_not_tracebacks(lab: Lab) -> None:
    prompt = lab.prompt("only")
    widget = manager(lab, prompt)
    with pytest.raises(scope_lab.Conflict):  # the future carries the API error
        widget.unarchive(1).result(WAIT_S)
    widget.wait(WAIT_S)
    assert widget.message_is_error
    assert widget.message.startswith("Could not unarchive v1:")
    assert "409 conflict" in widget.message
    widget.archive(1).result(WAIT_S)
    widget.wait(WAIT_S)
    assert statuses(widget) == {1: "archived"}
    widget.unarchive(1).result(WAIT_S)
    widget.wait(WAIT_S)
    assert statuses(widget) == {1: "draft"}


def test_a_viewer_sees_versions_and_is_told_it_cannot_promote(lab: Lab,
                                                               live: LiveServer) -> None:
    prompt = lab.prompt("only")
    key = lab.scope.api_keys.create("viewer-widget", role="viewer")
    with Scope(live.base_url, key.secret) as viewer:
        widget = VersionManager(viewer, prompt)
        try:
            widget.wait(WAIT_S)
            assert statuses(widget) == {1: "draft"}
            with pytest.raises(scope_lab.Forbidden):
                widget.promote(1).result(WAIT_S)
            widget.wait(WAIT_S)
            assert "403 forbidden" in widget.message
            assert statuses(widget) == {1: "draft"}
        finally:
            widget.close()


def test_diff_shows_the_change(lab: Lab) -> None:
    prompt = lab.prompt("Hello {{ name }}", "Hi {{ name }}, from {{ team }}")
    widget = manager(lab, prompt)
    assert (widget.diff_old.value, widget.diff_new.value) == (1, 2)
    widget.diff_button.click()
    widget.wait(WAIT_S)
    assert widget.last_diff is not None
    assert widget.last_diff.added_variables == ["team"]
    assert "-Hello {{ name }}" in widget.diff_output.value
    assert "+Hi {{ name }}, from {{ team }}" in widget.diff_output.value


def test_tables_escape_what_users_wrote() -> None:
    now = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    version = Version(prompt="p", number=3, status="draft", content="<script>x</script>",
                      variables=["a"], metadata={}, message="<b>bold</b>",
                      created_by="me", created_at=now)
    table = versions_html([version])
    assert "<script>" not in table
    assert "&lt;script&gt;" in table
    assert "&lt;b&gt;bold&lt;/b&gt;" in table
    assert 'data-testid="scope-version-3"' in table
    history = history_html([Promotion(version=3, previous_version=None, promoted_by="me",
                                      promoted_at=now, reason="<i>why</i>")])
    assert "&lt;i&gt;why&lt;/i&gt;" in history
    assert "—" in history
    assert versions_html([]) == "<p><em>No versions yet.</em></p>"
