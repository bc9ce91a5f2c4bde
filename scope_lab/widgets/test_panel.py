"""``TestPanel``: run prompt versions on several models and compare the answers.

Built from stock ipywidgets (no custom JavaScript is needed: nothing here is
highlighted as you type). Executions run on worker threads, a few at a time, so
the kernel stays free and cells fill in as answers arrive; each cell shows the
output with its tokens, latency and cost, or the error. The grid is HTML built by
``_outputs.grid_html``, which escapes everything a model or server said.

Stable hooks for browser tests: the CSS classes ``scope-test-panel``,
``scope-versions``, ``scope-targets``, ``scope-var-<name>``, ``scope-run``,
``scope-rerun``, ``scope-busy`` and ``scope-status``, and ``data-testid``
attributes inside the grid (``scope-output``, ``scope-output-error``).
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import ipywidgets  # type: ignore[import-untyped]

from scope_lab._sync.client import Scope
from scope_lab._template import TemplateError, render_content
from scope_lab.errors import APIError, ScopeError
from scope_lab.models import Content, Execution
from scope_lab.widgets._background import Jobs
from scope_lab.widgets._forms import Field, content_fields, merge_fields, parse_values
from scope_lab.widgets._messages import error_message
from scope_lab.widgets._outputs import (
    Cell,
    CellKey,
    Target,
    error_cell,
    execution_cell,
    grid_html,
    pending_cell,
)
from scope_lab.widgets._ui import BoxWidget, classed

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("scope_lab.widgets")


class TestPanel(BoxWidget):
    """Choose versions and targets, fill in variables, run, and compare side by side.

    ``TestPanel(scope, "greeting", versions=[1, 2], targets=[("sim", "sim-gpt-mini")])``
    preselects versions and (provider, model) targets; display it as the last
    expression of a cell. ``run()`` and ``rerun(provider, model)`` return at once;
    ``wait()`` blocks until the answers are in; ``results`` and ``dataframe`` hold them.
    """

    __test__ = False  # not a pytest test class, despite its name

    def __init__(self, scope: Scope, prompt: str, *, versions: Sequence[int] = (),
                 targets: Sequence[Target] = (), workers: int = 4) -> None:
        self._scope = scope
        self.prompt = prompt
        self._lock = threading.Lock()
        self._contents: dict[int, Content] = {}
        self._fields: list[Field] = []
        self._typed: dict[str, str] = {}
        self._cells: dict[CellKey, Cell] = {}
        self._executions: dict[CellKey, Execution] = {}
        self._generation: dict[CellKey, int] = {}  # the latest request per cell wins
        self._layout: tuple[list[int], list[Target]] = ([], [])
        self._jobs = Jobs(workers, on_busy=self._show_busy)
        self.message = ""  # the status line's text, as plain text
        self.message_is_error = False

        self.versions = classed(ipywidgets.SelectMultiple(description="Versions", rows=4),
                                 "scope-versions")
        self.targets = classed(ipywidgets.SelectMultiple(description="Targets", rows=4),
                                "scope-targets")
        self.variables = classed(ipywidgets.VBox(), "scope-variables")
        self.run_button = classed(ipywidgets.Button(description="Run", icon="play",
                                                     button_style="primary"), "scope-run")
        self.reload_button = classed(ipywidgets.Button(description="Reload", icon="refresh"),
                                      "scope-reload")
        self.busy = classed(ipywidgets.HTML(), "scope-busy")
        self.status = classed(ipywidgets.HTML(), "scope-status")
        self.reruns = classed(ipywidgets.HBox(), "scope-reruns")
        self.grid = classed(ipywidgets.HTML(), "scope-grid-box")
        self.widget = classed(ipywidgets.VBox([
            ipywidgets.HTML(f"<b>{html.escape(prompt)}</b>"),
            ipywidgets.HBox([self.versions, self.targets]),
            self.variables,
            ipywidgets.HBox([self.run_button, self.reload_button, self.busy]),
            self.status, self.reruns, self.grid,
        ]), "scope-test-panel")

        self.versions.observe(lambda _: self._build_form(), names="value")
        self.run_button.on_click(lambda _: self.run())
        self.reload_button.on_click(lambda _: self.reload())
        self.reload()
        if versions:
            self._select(self.versions, list(versions))
        if targets:
            self._select(self.targets, [tuple(t) for t in targets])

    # -- what a user does -------------------------------------------------------------

    def reload(self) -> None:
        """Fetch the prompt's versions and the model catalog again (keeps the selection)."""
        try:
            versions = list(self._scope.versions.list(self.prompt))
            models = list(self._scope.models.list())
        except ScopeError as exc:
            self._say(error_message(exc, f"load prompt {self.prompt!r}"), error=True)
            return
        self._contents = {v.number: v.content for v in versions}
        chosen_versions, chosen_targets = self.versions.value, self.targets.value
        self.versions.options = [(f"v{v.number} · {v.status}", v.number) for v in versions]
        self.targets.options = [(f"{m.provider} / {m.model}", (m.provider, m.model))
                                for m in models]
        self._select(self.versions, list(chosen_versions))
        self._select(self.targets, list(chosen_targets))
        if not versions:
            self._say(f"Prompt {self.prompt!r} has no versions yet.", error=True)
        elif not models:
            self._say("No models: configure a provider first.", error=True)
        else:
            self._say("")
        self._build_form()

    def set_variables(self, **typed: str) -> None:
        """Fill in the variable fields as if typed (lists as JSON, e.g. ``'["a", "b"]'``)."""
        self._typed.update(typed)
        for box in self.variables.children:
            name = box.description
            if name in typed:
                box.value = typed[name]

    def run(self) -> list[Future[Cell]]:
        """Run every chosen version on every chosen target; returns without waiting."""
        versions, targets = list(self.versions.value), list(self.targets.value)
        if not versions or not targets:
            self._say("Choose at least one version and one target.", error=True)
            return []
        values = self._values(versions)
        if values is None:
            return []
        self._layout = (versions, targets)
        self._build_reruns(targets)
        return [self._submit((v, p, m), values) for v in versions for p, m in targets]

    def rerun(self, provider: str, model: str) -> list[Future[Cell]]:
        """Run the grid's versions on one target again, with the variables as now filled in."""
        versions, targets = self._layout
        if (provider, model) not in targets:
            self._say(f"{provider}/{model} is not in the grid: run it first.", error=True)
            return []
        values = self._values(versions)
        if values is None:
            return []
        return [self._submit((v, provider, model), values) for v in versions]

    def wait(self, timeout: float | None = None) -> list[Execution]:
        """Block until every run and rerun has answered; return :attr:`results`."""
        self._jobs.wait(timeout)
        return self.results

    @property
    def cells(self) -> list[Cell]:
        """What the grid shows, version by version, target by target."""
        with self._lock:
            return [self._cells[key].copy() for key in self._keys() if key in self._cells]

    @property
    def results(self) -> list[Execution]:
        """The grid's recorded executions (failed ones included), in grid order."""
        with self._lock:
            return [self._executions[k] for k in self._keys() if k in self._executions]

    @property
    def dataframe(self) -> pd.DataFrame:
        """:attr:`results` as a DataFrame (columns of ``scope_lab.frames.executions_frame``)."""
        from scope_lab.frames import executions_frame

        return executions_frame([e.model_dump(mode="json") for e in self.results])

    # -- running ------------------------------------------------------------------------

    def _values(self, versions: list[int]) -> dict[str, Any] | None:
        """Typed values, or None after saying what is wrong (nothing is sent then)."""
        values, problems = parse_values(self._fields, self._typed)
        # Rendering locally gives the server's answer to "is anything missing?" without
        # sending one request per cell to hear it.
        for number in versions:
            try:
                render_content(self._contents[number], values)
            except TemplateError as exc:
                problems.setdefault(f"v{number}", f"v{number}: {exc.message}")
        if problems:
            self._say("Cannot run: " + "; ".join(problems.values()), error=True)
            return None
        return values

    def _submit(self, key: CellKey, values: dict[str, Any]) -> Future[Cell]:
        with self._lock:
            generation = self._generation.get(key, 0) + 1
            self._generation[key] = generation
            self._cells[key] = pending_cell(*key)
        self._redraw()
        return self._jobs.submit(self._execute, key, values, generation)

    def _execute(self, key: CellKey, values: dict[str, Any], generation: int) -> Cell:
        version, provider, model = key
        execution: Execution | None = None
        try:
            execution = self._scope.executions.create(
                self.prompt, provider=provider, model=model, variables=values, version=version)
            cell = execution_cell(execution)
        except Exception as exc:
            execution = self._recorded(exc)
            cell = execution_cell(execution) if execution else error_cell(
                version, provider, model, error_message(exc))
            if not isinstance(exc, ScopeError):
                log.error("TestPanel could not run %s on %s/%s", version, provider, model,
                          exc_info=exc)
        with self._lock:
            if self._generation.get(key) == generation:
                self._cells[key] = cell
                if execution is not None:
                    self._executions[key] = execution
                else:
                    self._executions.pop(key, None)
        self._redraw()
        return cell

    def _recorded(self, exc: BaseException) -> Execution | None:
        """The failed execution the server recorded for a provider error, if it did."""
        if not isinstance(exc, APIError) or "execution_id" not in exc.details:
            return None
        try:
            return self._scope.executions.retrieve(str(exc.details["execution_id"]))
        except ScopeError:
            return None  # the error itself is still shown

    # -- display ------------------------------------------------------------------------

    def _keys(self) -> list[CellKey]:
        versions, targets = self._layout
        return [(v, p, m) for v in versions for p, m in targets]

    def _redraw(self) -> None:
        # Under the lock, so that a worker never overwrites a newer grid with an older one.
        with self._lock:
            versions, targets = self._layout
            shown = [self._cells[k] for k in self._keys() if k in self._cells]
            self.grid.value = grid_html(self._cells, versions, targets)
            done = [c for c in shown if c["status"] != "pending"]
            if shown and len(done) == len(shown):
                bad = sum(c["status"] in ("failed", "error") for c in shown)
                self._say(f"{len(done)} of {len(shown)} done"
                          + (f", {bad} failed." if bad else "."), error=bool(bad))
            elif shown:
                self._say(f"{len(done)} of {len(shown)} done…")

    def _show_busy(self, count: int) -> None:
        self.busy.value = (f'<span class="scope-busy-on">running {count}…</span>'
                           if count else "")

    def _build_form(self) -> None:
        groups = []
        for number in self.versions.value:
            try:
                groups.append(content_fields(self._contents[number]))
            except (TemplateError, KeyError):
                continue  # the server only stores valid templates; nothing to ask for
        self._fields = merge_fields(groups)
        boxes = [self._input(field) for field in self._fields]
        self.variables.children = boxes

    def _input(self, field: Field) -> Any:
        name = field["name"]
        if field["kind"] == "json":
            box = ipywidgets.Textarea(placeholder='["a", "b"]', rows=2)
        else:
            box = ipywidgets.Text(placeholder=field["default"] or "")
        box.description = name
        box.value = self._typed.get(name, "")
        box.add_class("scope-var")
        box.add_class(f"scope-var-{name}")

        def typed(change: dict[str, Any]) -> None:
            self._typed[name] = change["new"]

        box.observe(typed, names="value")
        return box

    def _build_reruns(self, targets: list[Target]) -> None:
        buttons = []
        for provider, model in targets:
            button = classed(ipywidgets.Button(description=f"rerun {provider}/{model}",
                                                icon="redo",
                                                layout=ipywidgets.Layout(width="auto")),
                              "scope-rerun")
            button.on_click(lambda _, p=provider, m=model: self.rerun(p, m))
            buttons.append(button)
        self.reruns.children = buttons

    def _select(self, select: Any, wanted: list[Any]) -> None:
        available = {value for _, value in select.options}
        select.value = tuple(value for value in wanted if value in available)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message, self.message_is_error = text, error
        kind = "scope-status-error" if error else "scope-status-info"
        self.status.value = f'<span class="{kind}">{html.escape(text)}</span>' if text else ""

