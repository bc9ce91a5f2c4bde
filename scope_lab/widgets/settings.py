"""``Settings``: providers (keys write-only), API keys (secret shown once), users and roles.

Stock ipywidgets, three tabs. What the caller's role may not do is disabled and
says why (from ``GET /me``'s permissions); a viewer still sees providers. Provider
keys go in a password field that is cleared as soon as it is sent, and the server
only ever returns a hint. A new API key's secret is shown once, in this widget's
output only, with a button to hide it. Every action runs off the kernel's thread
and reloads the tab; a refused one is a message.

Stable hooks for browser tests: the CSS classes ``scope-settings``,
``scope-provider-save``, ``scope-key-create``, ``scope-key-secret``,
``scope-user-add``, ``scope-busy``, ``scope-status``, and the ``data-testid``
attributes of ``_settings_rows``.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import ipywidgets  # type: ignore[import-untyped]

from scope_lab._sync.client import Scope
from scope_lab.models import ApiKey, ApiKeyCreated, Me, Provider, User
from scope_lab.widgets._background import Jobs
from scope_lab.widgets._messages import error_message
from scope_lab.widgets._settings_rows import keys_html, providers_html, users_html
from scope_lab.widgets._ui import BoxWidget, busy_html, classed, status_html

T = TypeVar("T")
KINDS = ("simulator", "openai", "anthropic", "gemini", "azure_openai", "openai_compatible")
ROLES = ("viewer", "editor", "admin")


class Settings(BoxWidget):
    """Providers, API keys and users of the tenant, as the caller's role allows."""

    def __init__(self, scope: Scope) -> None:
        self._scope = scope
        self.me: Me | None = None
        self.providers: list[Provider] = []
        self.keys: list[ApiKey] = []
        self.users: list[User] = []
        self.message = ""
        self.message_is_error = False
        self._jobs = Jobs(2, on_busy=self._show_busy)

        self.provider_name = ipywidgets.Text(description="Name")
        self.provider_kind = ipywidgets.Dropdown(options=KINDS, description="Kind")
        self.provider_url = ipywidgets.Text(description="Base URL",
                                            placeholder="only for compatible/Azure")
        self.provider_key = ipywidgets.Password(description="API key",
                                                placeholder="write-only; blank keeps it")
        self.provider_save = classed(ipywidgets.Button(description="Save provider",
                                                        icon="save"), "scope-provider-save")
        self.provider_delete = ipywidgets.Button(description="Delete provider", icon="trash")
        self.providers_table = ipywidgets.HTML()
        self.key_name = ipywidgets.Text(description="Key name")
        self.key_role = ipywidgets.Dropdown(options=ROLES, value="viewer", description="Role")
        self.key_create = classed(ipywidgets.Button(description="Create key", icon="key"),
                                   "scope-key-create")
        self.key_pick = ipywidgets.Dropdown(description="Key")
        self.key_revoke = ipywidgets.Button(description="Revoke", icon="ban")
        self.secret = classed(ipywidgets.HTML(), "scope-key-secret")
        self.secret_hide = ipywidgets.Button(description="Hide secret",
                                             layout=ipywidgets.Layout(display="none"))
        self.keys_table = ipywidgets.HTML()
        self.user_email = ipywidgets.Text(description="Email")
        self.user_role = ipywidgets.Dropdown(options=ROLES, value="viewer", description="Role")
        self.user_add = classed(ipywidgets.Button(description="Add user", icon="user-plus"),
                                 "scope-user-add")
        self.users_table = ipywidgets.HTML()
        self.busy = classed(ipywidgets.HTML(), "scope-busy")
        self.status = classed(ipywidgets.HTML(), "scope-status")
        self.tabs = ipywidgets.Tab(children=[
            ipywidgets.VBox([self.providers_table,
                             ipywidgets.HBox([self.provider_name, self.provider_kind]),
                             ipywidgets.HBox([self.provider_url, self.provider_key]),
                             ipywidgets.HBox([self.provider_save, self.provider_delete])]),
            ipywidgets.VBox([self.keys_table,
                             ipywidgets.HBox([self.key_name, self.key_role,
                                              self.key_create]),
                             ipywidgets.HBox([self.secret, self.secret_hide]),
                             ipywidgets.HBox([self.key_pick, self.key_revoke])]),
            ipywidgets.VBox([self.users_table,
                             ipywidgets.HBox([self.user_email, self.user_role,
                                              self.user_add])])])
        for index, title in enumerate(("Providers", "API keys", "Users")):
            self.tabs.set_title(index, title)
        self.widget = classed(ipywidgets.VBox([
            ipywidgets.HBox([ipywidgets.HTML("<b>Scope settings</b>"), self.busy]),
            self.status, self.tabs]), "scope-settings")

        self.provider_save.on_click(lambda _: self.save_provider(
            self.provider_name.value.strip(), self.provider_kind.value,
            base_url=self.provider_url.value.strip() or None,
            api_key=self.provider_key.value or None))
        self.provider_delete.on_click(lambda _: self.delete_provider(
            self.provider_name.value.strip()))
        self.key_create.on_click(lambda _: self.create_key(self.key_name.value.strip(),
                                                           role=self.key_role.value))
        self.key_revoke.on_click(lambda _: self.key_pick.value and
                                 self.revoke_key(self.key_pick.value))
        self.secret_hide.on_click(lambda _: self._hide_secret())
        self.user_add.on_click(lambda _: self.add_user(self.user_email.value.strip(),
                                                       role=self.user_role.value))
        self.refresh()

    # -- actions (also the API for code) ----------------------------------------------

    def refresh(self) -> Future[None]:
        """Reload who the caller is and everything its role may read."""
        return self._jobs.submit(self._load)

    def save_provider(self, name: str, kind: str, *, base_url: str | None = None,
                      api_key: str | None = None) -> Future[Provider]:
        """Create the provider, or update it if it exists (a blank key keeps the old one)."""
        self.provider_key.value = ""  # write-only: the field never keeps a key
        return self._jobs.submit(self._act, f"save provider '{name}'",
                                 lambda: self._save_provider(name, kind, base_url, api_key))

    def delete_provider(self, name: str) -> Future[None]:
        """Remove a provider."""
        return self._jobs.submit(self._act, f"delete provider '{name}'",
                                 lambda: self._scope.providers.delete(name))

    def create_key(self, name: str, *, role: str) -> Future[ApiKeyCreated]:
        """Create an API key; its secret is shown once, here."""
        return self._jobs.submit(self._act, f"create key '{name}'",
                                 lambda: self._show_secret(
                                     self._scope.api_keys.create(name, role=role)))

    def revoke_key(self, key_id: str) -> Future[None]:
        """Revoke an API key: it stops working within the token lifetime."""
        return self._jobs.submit(self._act, "revoke the key",
                                 lambda: self._scope.api_keys.revoke(key_id))

    def add_user(self, email: str, *, role: str) -> Future[User]:
        """Add a user with a role."""
        return self._jobs.submit(self._act, f"add {email}",
                                 lambda: self._scope.users.create(email, role=role))

    def set_role(self, user_id: str, role: str) -> Future[User]:
        """Change a user's role."""
        return self._jobs.submit(self._act, "change the role",
                                 lambda: self._scope.users.update(user_id, role=role))

    def remove_user(self, user_id: str) -> Future[None]:
        """Remove a user."""
        return self._jobs.submit(self._act, "remove the user",
                                 lambda: self._scope.users.delete(user_id))

    def wait(self, timeout: float | None = None) -> None:
        """Block until every action started so far is done."""
        self._jobs.wait(timeout)

    # -- workers ------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            me = self._scope.me()
            self.me = me
            allowed = set(me.permissions)
            self.providers = list(self._scope.providers.list())
            self.providers_table.value = providers_html(self.providers)
            self.keys = (list(self._scope.api_keys.list())
                         if "api_keys:manage" in allowed else [])
            self.users = list(self._scope.users.list()) if "users:manage" in allowed else []
        except Exception as exc:  # shown in the widget; the future keeps it too
            self._say(error_message(exc, "load the settings"), error=True)
            raise
        self.keys_table.value = (keys_html(self.keys) if "api_keys:manage" in allowed
                                 else _not_allowed(me.role, "manage API keys"))
        self.users_table.value = (users_html(self.users) if "users:manage" in allowed
                                  else _not_allowed(me.role, "manage users"))
        self.key_pick.options = [(f"{k.name} ({k.role})", k.id) for k in self.keys
                                 if k.revoked_at is None]
        for button, permission in ((self.provider_save, "providers:write"),
                                   (self.provider_delete, "providers:write"),
                                   (self.key_create, "api_keys:manage"),
                                   (self.key_revoke, "api_keys:manage"),
                                   (self.user_add, "users:manage")):
            button.disabled = permission not in allowed
            button.tooltip = "" if permission in allowed else (
                f"your role ({me.role}) lacks {permission}")

    def _act(self, doing: str, call: Callable[[], T]) -> T:
        try:
            result = call()
        except Exception as exc:
            self._say(error_message(exc, doing), error=True)
            raise
        self._say(f"done: {doing}")
        self._load()
        return result

    def _save_provider(self, name: str, kind: str, base_url: str | None,
                       api_key: str | None) -> Provider:
        if any(p.name == name for p in self.providers):
            changes: dict[str, Any] = {"base_url": base_url}
            if api_key:
                changes["api_key"] = api_key
            return self._scope.providers.update(name, **changes)
        return self._scope.providers.create(name, kind, base_url=base_url,  # type: ignore[arg-type]
                                            api_key=api_key)

    def _show_secret(self, key: ApiKeyCreated) -> ApiKeyCreated:
        self.secret.value = (
            '<div data-testid="scope-key-secret">New key <b>'
            f"{html.escape(key.name)}</b>: <code>{html.escape(key.secret)}</code> "
            "(copy it now: it is not shown again)</div>")
        self.secret_hide.layout.display = "flex"
        return key

    def _hide_secret(self) -> None:
        self.secret.value = ""
        self.secret_hide.layout.display = "none"

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message, self.message_is_error = text, error
        self.status.value = status_html(text, error=error)

    def _show_busy(self, in_flight: int) -> None:
        self.busy.value = busy_html(in_flight)


def _not_allowed(role: str, what: str) -> str:
    return f"<p><em>Your role ({html.escape(role)}) cannot {html.escape(what)}.</em></p>"

