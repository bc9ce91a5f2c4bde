"""``PromptEditor``: edit a prompt with live highlighting, then save it or diff it.

The class holds synced state only. Everything shown is computed here, in Python,
by pure functions (``_highlight``, ``_forms``, ``_compare``), and
``static/prompt_editor.js`` paints it: segments as coloured spans under a
transparent textarea, variables as chips, the error under the editor, a form
generated from the variables and the preview rendered from it. The preview is
rendered locally by the SDK's template engine, which gives the server's results,
so typing costs no request. Saving and diffing talk to Scope on a worker thread.

Messages from the browser (``model.send``): ``{"action": "save", "message": str}``,
``{"action": "diff", "version": int}`` and ``{"action": "load", "version": int}``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import anywidget
import traitlets

from scope_lab._sync.client import Scope
from scope_lab._template import TemplateError, render_content
from scope_lab.errors import NotFound, ScopeError
from scope_lab.models import Content, Version
from scope_lab.widgets._background import Jobs
from scope_lab.widgets._compare import draft_diff
from scope_lab.widgets._forms import Field, content_fields, parse_values
from scope_lab.widgets._highlight import content_variables, first_error, highlight_content
from scope_lab.widgets._messages import error_message

_STATIC = Path(__file__).parent / "static"
log = logging.getLogger("scope_lab.widgets")


class PromptEditor(anywidget.AnyWidget):
    """Edit a text or chat prompt with highlighting, variables, errors and preview.

    ``PromptEditor(scope, "greeting")`` opens the latest version (``version=`` picks
    another); ``create=True`` creates the prompt if it does not exist, and ``chat=True``
    starts a prompt without versions as chat messages.
    """

    _esm = _STATIC / "prompt_editor.js"
    _css = _STATIC / "prompt_editor.css"

    prompt = traitlets.Unicode("").tag(sync=True)
    mode = traitlets.Enum(("text", "chat"), "text").tag(sync=True)
    source = traitlets.Unicode("").tag(sync=True)
    messages = traitlets.List(traitlets.Dict()).tag(sync=True)
    # Computed from the content (see _highlight): what the browser paints.
    segments = traitlets.List(traitlets.Dict()).tag(sync=True)
    variables = traitlets.List(traitlets.Unicode()).tag(sync=True)
    fields = traitlets.List(traitlets.Dict()).tag(sync=True)
    error = traitlets.Dict(allow_none=True, default_value=None).tag(sync=True)
    # The preview form: what was typed per variable, and the rendering or why not.
    preview_values = traitlets.Dict(value_trait=traitlets.Unicode()).tag(sync=True)
    preview = traitlets.Union([traitlets.Unicode(), traitlets.List(traitlets.Dict())],
                              allow_none=True, default_value=None).tag(sync=True)
    preview_error = traitlets.Unicode("").tag(sync=True)
    # The saved version the content started from, and every version number (newest first).
    base_version = traitlets.Int(None, allow_none=True).tag(sync=True)
    versions = traitlets.List(traitlets.Int()).tag(sync=True)
    dirty = traitlets.Bool(False).tag(sync=True)
    diff = traitlets.Unicode("").tag(sync=True)
    diff_version = traitlets.Int(None, allow_none=True).tag(sync=True)
    busy = traitlets.Bool(False).tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)
    status_kind = traitlets.Enum(("info", "error"), "info").tag(sync=True)

    def __init__(self, scope: Scope, prompt: str, version: int | None = None, *,
                 create: bool = False, chat: bool = False) -> None:
        super().__init__(prompt=prompt, mode="chat" if chat else "text")
        self._scope = scope
        self._saved: Content = [] if chat else ""
        self._replacing = False
        # Worker threads and the kernel's thread both change state: one at a time, so
        # ipywidgets' batching of changes (hold_sync) never interleaves.
        self._state = threading.RLock()
        self._jobs = Jobs(1, on_busy=self._set_busy)
        self.on_msg(self._on_message)
        self.observe(self._switch_mode, names=["mode"])
        self.observe(self._recompute, names=["source", "messages"])
        self.observe(self._render_preview, names=["preview_values"])
        self._recompute(None)
        try:
            self._open(version, create=create)
        except ScopeError as exc:
            self._say(error_message(exc, "open the prompt"), error=True)

    @property
    def content(self) -> Content:
        """The content being edited: the text, or the chat messages."""
        if self.mode == "text":
            return self.source
        return [dict(m) for m in self.messages]

    @content.setter
    def content(self, value: Content) -> None:
        self._replacing = True  # a new content, not a switch to convert (_switch_mode)
        try:
            with self.hold_trait_notifications():
                if isinstance(value, str):
                    self.mode, self.source, self.messages = "text", value, []
                else:
                    self.mode, self.source = "chat", ""
                    self.messages = [dict(m) for m in value]
        finally:
            self._replacing = False

    def save(self, message: str = "") -> Future[Version]:
        """Save the content as a new version on a worker thread; the future gives it."""
        return self._jobs.submit(self._save, self.content, message)

    def compare(self, version: int) -> Future[str]:
        """Diff ``version`` against the content (into ``diff``) on a worker thread."""
        return self._jobs.submit(self._compare, int(version), self.content, self._clean())

    def load(self, version: int) -> Future[Version]:
        """Load ``version`` into the editor on a worker thread (unsaved edits are dropped)."""
        return self._jobs.submit(self._load, int(version))

    def wait(self, timeout: float | None = None) -> None:
        """Block until the editor's background work is done (TimeoutError if it is not)."""
        self._jobs.wait(timeout)

    def close(self) -> None:
        """Close the widget and stop its worker thread."""
        jobs = getattr(self, "_jobs", None)  # ipywidgets closes half-built widgets too
        if jobs is not None:
            jobs.close()
        super().close()

    # -- browser messages -------------------------------------------------------------

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        action = content.get("action")
        try:
            if action == "save":
                self.save(str(content.get("message", "")))
            elif action in ("diff", "load"):
                number = int(content["version"])
                (self.compare if action == "diff" else self.load)(number)
            else:
                self._say(f"Unknown action from the browser: {action!r}", error=True)
        except (KeyError, TypeError, ValueError):
            self._say(f"The browser sent an unreadable {action!r} request.", error=True)

    # -- work done on the worker thread -----------------------------------------------

    def _save(self, content: Content, message: str) -> Version:
        self._say("Saving…")
        try:
            version = self._scope.versions.create(self.prompt, content, message=message)
        except Exception as exc:
            self._fail("save", exc)
            raise
        with self._synced():
            self._saved = version.content
            self.base_version = version.number
            self.versions = list(range(version.number, 0, -1))
            self.dirty = self.content != self._saved  # the user may have typed meanwhile
            self._say(f"Saved as version {version.number}.")
        return version

    def _compare(self, number: int, content: Content, clean: bool) -> str:
        self._say(f"Comparing with version {number}…")
        try:
            if clean and self.base_version is not None:
                text = str(self._scope.versions.diff(self.prompt, number, self.base_version))
            else:
                text = draft_diff(self._scope.versions.retrieve(self.prompt, number), content)
        except Exception as exc:
            self._fail(f"compare with version {number}", exc)
            raise
        with self._synced():
            self.diff_version, self.diff = number, text
            self._say(f"Compared with version {number}.")
        return text

    def _load(self, number: int) -> Version:
        try:
            version = self._scope.versions.retrieve(self.prompt, number)
        except Exception as exc:
            self._fail(f"open version {number}", exc)
            raise
        self._show(version)
        self._say(f"Opened version {number}.")
        return version

    # -- state ------------------------------------------------------------------------

    def _open(self, number: int | None, *, create: bool) -> None:
        try:
            info = self._scope.prompts.retrieve(self.prompt)
        except NotFound:
            if not create:
                raise
            info = self._scope.prompts.create(self.prompt)
        self.versions = list(range(info.latest_version or 0, 0, -1))
        number = number or info.latest_version
        if number is None:
            self._say(f"New prompt {self.prompt!r}: save to create version 1.")
            return
        self._show(self._scope.versions.retrieve(self.prompt, number))

    def _show(self, version: Version) -> None:
        with self._synced():
            self._saved = version.content
            self.base_version = version.number
            self.content = version.content
            self.dirty = False
            self.diff, self.diff_version = "", None

    def _clean(self) -> bool:
        return self.content == self._saved

    def _switch_mode(self, change: Any) -> None:
        if not self._replacing:
            # Switching keeps the words: text becomes one user message, and messages
            # are joined into text.
            with self.hold_trait_notifications():
                if change["new"] == "chat":
                    self.messages = ([{"role": "user", "content": self.source}]
                                     if self.source else [])
                    self.source = ""
                else:
                    self.source = "\n\n".join(str(m.get("content", "")) for m in self.messages)
                    self.messages = []
        self._recompute(None)

    def _recompute(self, _change: Any) -> None:
        content = self.content
        boxes = highlight_content(content)
        variables = content_variables(boxes)
        with self._synced():
            self.segments = [dict(s) for box in boxes for s in box.segments]
            error = first_error(boxes)
            # traitlets' types do not carry allow_none=True for Dict
            self.error = dict(error) if error else None  # type: ignore[assignment]
            # While the template is broken the form keeps its last good fields, so
            # that what was typed in it survives a half-typed tag.
            if variables is not None:
                self.variables = variables
                self.fields = [dict(f) for f in content_fields(content)]
            self.dirty = content != self._saved
            self._preview()

    def _render_preview(self, _change: Any) -> None:
        with self._synced():
            self._preview()

    def _preview(self) -> None:
        if self.error is not None:
            self.preview, self.preview_error = None, "Fix the template error to see a preview."
            return
        values, problems = parse_values(cast("list[Field]", self.fields), self.preview_values)
        if problems:
            self.preview, self.preview_error = None, "; ".join(problems.values())
            return
        try:
            rendered = render_content(self.content, values)
        except TemplateError as exc:
            self.preview, self.preview_error = None, exc.message
            return
        self.preview, self.preview_error = rendered, ""

    @contextmanager
    def _synced(self) -> Iterator[None]:
        with self._state, self.hold_sync():
            yield

    def _set_busy(self, jobs: int) -> None:
        with self._synced():
            self.busy = jobs > 0

    def _say(self, text: str, *, error: bool = False) -> None:
        with self._synced():
            self.status, self.status_kind = text, "error" if error else "info"

    def _fail(self, doing: str, exc: BaseException) -> None:
        if not isinstance(exc, ScopeError):
            log.error("PromptEditor could not %s", doing, exc_info=exc)
        self._say(error_message(exc, doing), error=True)
