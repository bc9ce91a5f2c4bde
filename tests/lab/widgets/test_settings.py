"""Settings against a live server: providers with write-only keys, keys shown once, users,
and what a viewer is allowed to see and do."""

from __future__ import annotations

import pytest

import scope_lab
from scope_lab import Scope
from scope_lab.widgets import Settings
from tests.lab.widgets.conftest import WAIT_S, Lab, unique
from tests.live import LiveServer


def settings(lab: Lab, scope: Scope | None = None) -> Settings:
    widget = Settings(scope or lab.scope)
    lab._widgets.append(widget)
    widget.wait(WAIT_S)
    return widget


def test_a_provider_key_is_write_only(lab: Lab) -> None:
    widget = settings(lab)
    name = unique("openai")
    widget.provider_name.value = name
    widget.provider_kind.value = "openai"
    widget.provider_key.value = "sk-widget-secret-9876"
    widget.provider_save.click()
    assert widget.provider_key.value == ""  # cleared as soon as it was sent
    widget.wait(WAIT_S)
    saved = next(p for p in widget.providers if p.name == name)
    assert (saved.has_api_key, saved.api_key_hint) == (True, "…9876")
    assert "sk-widget-secret" not in widget.providers_table.value
    assert "…9876" in widget.providers_table.value
    # Saving again without a key keeps the stored one.
    widget.save_provider(name, "openai").result(WAIT_S)
    widget.wait(WAIT_S)
    assert next(p for p in widget.providers if p.name == name).api_key_hint == "…9876"
    widget.delete_provider(name).result(WAIT_S)
    widget.wait(WAIT_S)
    assert all(p.name != name for p in widget.providers)


def test_a_new_key_is_shown_once_and_can_be_revoked(lab: Lab, live: LiveServer) -> None:
    widget = settings(lab)
    created = widget.create_key(unique("app"), role="viewer").result(WAIT_S)
    widget.wait(WAIT_S)
    assert created.secret in widget.secret.value
    assert created.secret not in widget.keys_table.value
    widget.secret_hide.click()
    assert widget.secret.value == ""
    with Scope(live.base_url, created.secret) as app:
        assert app.me().role == "viewer"
    widget.key_pick.value = created.id
    widget.key_revoke.click()
    widget.wait(WAIT_S)
    assert next(k for k in widget.keys if k.id == created.id).revoked_at is not None
    with Scope(live.base_url, created.secret) as app, pytest.raises(
            scope_lab.Unauthenticated):
        app.me()


def test_users_and_roles(lab: Lab) -> None:
    widget = settings(lab)
    email = f"{unique('ada')}@example.com"
    user = widget.add_user(email, role="viewer").result(WAIT_S)
    widget.wait(WAIT_S)
    assert email in widget.users_table.value
    widget.set_role(user.id, "editor").result(WAIT_S)
    widget.wait(WAIT_S)
    assert next(u for u in widget.users if u.id == user.id).role == "editor"
    with pytest.raises(scope_lab.ValidationError):
        widget.add_user("not-an-email", role="viewer").result(WAIT_S)
    widget.wait(WAIT_S)
    assert widget.message_is_error
    assert widget.message.startswith("Could not add not-an-email")
    widget.remove_user(user.id).result(WAIT_S)
    widget.wait(WAIT_S)
    assert email not in widget.users_table.value


def test_a_viewer_sees_providers_and_is_told_what_it_cannot_do(lab: Lab,
                                                                live: LiveServer) -> None:
    lab.simulator()
    key = lab.scope.api_keys.create(unique("viewer"), role="viewer")
    with Scope(live.base_url, key.secret) as viewer:
        widget = settings(lab, viewer)
        assert widget.me is not None
        assert widget.me.role == "viewer"
        assert widget.providers  # readable
        assert widget.provider_save.disabled
        assert widget.key_create.disabled
        assert "lacks providers:write" in widget.provider_save.tooltip
        assert "cannot manage API keys" in widget.keys_table.value
        assert "cannot manage users" in widget.users_table.value
        with pytest.raises(scope_lab.Forbidden):  # from code, the server still refuses
            widget.save_provider(unique("sim"), "simulator").result(WAIT_S)
        widget.wait(WAIT_S)
        assert "403 forbidden" in widget.message


def test_tables_escape_and_never_hold_a_key() -> None:
    from datetime import UTC, datetime

    from scope_lab.models import Provider
    from scope_lab.widgets._settings_rows import providers_html

    now = datetime.now(UTC)
    provider = Provider(name="p<1>", kind="openai", base_url="https://x/<y>", has_api_key=True,
                        api_key_hint="…abcd", enabled_models=[], options={}, created_at=now,
                        updated_at=now)
    table = providers_html([provider])
    assert "p&lt;1&gt;" in table
    assert "&lt;y&gt;" in table
    assert "…abcd" in table
