"""``VersionManager``: a prompt's versions with status badges; promote, archive, diff.

Stock ipywidgets. Promoting asks for a confirmation (and an optional reason) before
anything is sent; every action runs on a worker thread and then reloads the list,
so the badges always show what the server says. A refused action (a 409 for an
illegal transition, a 403 for a viewer's key) is shown as a message.

Stable hooks for browser tests: the CSS classes ``scope-version-manager``,
``scope-version-pick``, ``scope-promote``, ``scope-confirm``, ``scope-archive``,
``scope-unarchive``, ``scope-diff``, ``scope-busy``, ``scope-status`` and the
``data-testid`` attributes of ``_version_rows``.
"""

from __future__ import annotations

import html
import threading
from concurrent.futures import Future
from typing import Any

import ipywidgets  # type: ignore[import-untyped]

from scope_lab._diff import VersionDiff
from scope_lab._sync.client import Scope
from scope_lab.models import Promotion, Version
from scope_lab.widgets._background import Jobs
from scope_lab.widgets._messages import error_message
from scope_lab.widgets._ui import BoxWidget, busy_html, classed, status_html
from scope_lab.widgets._version_rows import history_html, versions_html


class VersionManager(BoxWidget):
    """Browse and manage the versions of one prompt.

    ``VersionManager(scope, "greeting")``; display it as the last expression of a cell.
    ``promote(n, reason=...)``, ``archive(n)``, ``unarchive(n)``, ``diff(a, b)`` and
    ``refresh()`` return futures at once; ``wait()`` blocks until they are done.
    """

    def __init__(self, scope: Scope, prompt: str, *, workers: int = 2) -> None:
        self._scope = scope
        self.prompt = prompt
        self._lock = threading.Lock()
        self.versions: list[Version] = []
        self.history: list[Promotion] = []
        self.last_diff: VersionDiff | None = None
        self.message = ""
        self.message_is_error = False
        self._jobs = Jobs(workers, on_busy=self._show_busy)

        self.pick = classed(ipywidgets.Dropdown(description="Version"), "scope-version-pick")
        self.reason = ipywidgets.Text(placeholder="reason (optional)")
        self.promote_button = classed(ipywidgets.Button(description="Promote…",
                                                         icon="arrow-up"), "scope-promote")
        self.confirm_button = classed(ipywidgets.Button(description="Confirm promotion",
                                                         button_style="warning"),
                                       "scope-confirm")
        self.cancel_button = ipywidgets.Button(description="Cancel")
        self.confirm_box = ipywidgets.HBox([self.reason, self.confirm_button,
                                            self.cancel_button],
                                           layout=ipywidgets.Layout(display="none"))
        self.archive_button = classed(ipywidgets.Button(description="Archive",
                                                         icon="archive"), "scope-archive")
        self.unarchive_button = classed(ipywidgets.Button(description="Unarchive",
                                                           icon="undo"), "scope-unarchive")
        self.diff_old = ipywidgets.Dropdown(description="Diff")
        self.diff_new = ipywidgets.Dropdown(description="against")
        self.diff_button = classed(ipywidgets.Button(description="Diff", icon="columns"),
                                    "scope-diff")
        self.busy = classed(ipywidgets.HTML(), "scope-busy")
        self.status = classed(ipywidgets.HTML(), "scope-status")
        self.table = ipywidgets.HTML()
        self.history_table = ipywidgets.HTML()
        self.diff_output = ipywidgets.HTML()
        self.widget = classed(ipywidgets.VBox([
            ipywidgets.HTML(f"<b>{html.escape(prompt)}</b>"), self.table,
            ipywidgets.HBox([self.pick, self.promote_button, self.archive_button,
                             self.unarchive_button, self.busy]),
            self.confirm_box, self.status,
            ipywidgets.HBox([self.diff_old, self.diff_new, self.diff_button]),
            self.diff_output, ipywidgets.HTML("<b>Promotion history</b>"),
            self.history_table]), "scope-version-manager")

        self.promote_button.on_click(lambda _: self._ask_confirmation())
        self.cancel_button.on_click(lambda _: self._hide_confirmation())
        self.confirm_button.on_click(lambda _: self._confirmed())
        self.archive_button.on_click(lambda _: self._on_selected(self.archive))
        self.unarchive_button.on_click(lambda _: self._on_selected(self.unarchive))
        self.diff_button.on_click(lambda _: self._on_diff())
        self.refresh()

    # -- actions (also the API for code) ----------------------------------------------

    def refresh(self) -> Future[None]:
        """Reload versions and history from the server."""
        return self._jobs.submit(self._load)

    def promote(self, number: int, *, reason: str | None = None) -> Future[Version]:
        """Publish version ``number`` (the published one is archived), then reload."""
        return self._jobs.submit(self._act, "promote", number,
                                 lambda: self._scope.versions.promote(
                                     self.prompt, number, reason=reason or None))

    def archive(self, number: int) -> Future[Version]:
        """Archive a draft or published version."""
        return self._jobs.submit(self._act, "archive", number,
                                 lambda: self._scope.versions.archive(self.prompt, number))

    def unarchive(self, number: int) -> Future[Version]:
        """Bring an archived version back as a draft."""
        return self._jobs.submit(self._act, "unarchive", number,
                                 lambda: self._scope.versions.unarchive(self.prompt, number))

    def diff(self, old: int, new: int) -> Future[VersionDiff]:
        """Show the unified diff of two versions (and keep it as ``last_diff``)."""
        return self._jobs.submit(self._diff, old, new)

    def wait(self, timeout: float | None = None) -> None:
        """Block until every action started so far is done."""
        self._jobs.wait(timeout)

    # -- workers ------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            versions = list(self._scope.versions.list(self.prompt))
            history = list(self._scope.versions.history(self.prompt))
        except Exception as exc:  # shown in the widget; the future keeps it too
            self._say(error_message(exc, "load the versions"), error=True)
            raise
        with self._lock:
            self.versions, self.history = versions, history
        self.table.value = versions_html(versions)
        self.history_table.value = history_html(history)
        options = [(f"v{v.number} · {v.status}", v.number) for v in versions]
        current = self.pick.value
        self.pick.options = options
        numbers = [v.number for v in versions]  # newest first
        if numbers:
            self.pick.value = current if current in numbers else numbers[0]
        old, new = self.diff_old.value, self.diff_new.value
        self.diff_old.options = self.diff_new.options = [(f"v{n}", n) for n in numbers]
        if numbers:  # by default: the previous version against the newest
            self.diff_new.value = new if new in numbers else numbers[0]
            self.diff_old.value = old if old in numbers else numbers[min(1, len(numbers) - 1)]

    def _act(self, verb: str, number: int, call: Any) -> Version:
        try:
            version: Version = call()
        except Exception as exc:
            self._say(error_message(exc, f"{verb} v{number}"), error=True)
            raise
        self._say(f"v{number} is now {version.status}")
        self._load()
        return version

    def _diff(self, old: int, new: int) -> VersionDiff:
        try:
            result = self._scope.versions.diff(self.prompt, old, new)
        except Exception as exc:
            self._say(error_message(exc, f"diff v{old} and v{new}"), error=True)
            raise
        self.last_diff = result
        self.diff_output.value = (f'<pre data-testid="scope-diff-text">'
                                  f"{html.escape(str(result))}</pre>")
        return result

    # -- UI glue ------------------------------------------------------------------------

    def _ask_confirmation(self) -> None:
        if self.pick.value is None:
            self._say("choose a version first", error=True)
            return
        self.confirm_button.description = f"Confirm: promote v{self.pick.value}"
        self.confirm_box.layout.display = "flex"

    def _hide_confirmation(self) -> None:
        self.confirm_box.layout.display = "none"

    def _confirmed(self) -> None:
        self._hide_confirmation()
        if self.pick.value is not None:
            self.promote(self.pick.value, reason=self.reason.value.strip() or None)
            self.reason.value = ""

    def _on_selected(self, action: Any) -> None:
        if self.pick.value is None:
            self._say("choose a version first", error=True)
            return
        action(self.pick.value)

    def _on_diff(self) -> None:
        if self.diff_old.value is None or self.diff_new.value is None:
            self._say("choose two versions to compare", error=True)
            return
        self.diff(self.diff_old.value, self.diff_new.value)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message, self.message_is_error = text, error
        self.status.value = status_html(text, error=error)

    def _show_busy(self, in_flight: int) -> None:
        self.busy.value = busy_html(in_flight)

