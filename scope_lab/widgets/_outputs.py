"""Execution results as display cells, and the side-by-side grid the test panel shows.

A cell is one (version, target) pair: waiting, or the execution's output with its
tokens, latency and cost, or an error message. Model outputs and error messages are
untrusted text: everything that reaches HTML goes through :func:`html.escape`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Literal, TypedDict

from scope_lab.models import Execution

CellStatus = Literal["pending", "succeeded", "failed", "error"]
Target = tuple[str, str]  # (provider, model)
CellKey = tuple[int, str, str]  # (version, provider, model)


class Cell(TypedDict):
    """What the grid shows for one version on one target."""

    version: int
    provider: str
    model: str
    # "failed": the provider failed and the execution was recorded; "error": nothing ran
    # (the request was refused, or Scope could not be reached).
    status: CellStatus
    output: str | None
    error: str | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float | None
    cost_usd: float | None
    execution_id: str | None


def pending_cell(version: int, provider: str, model: str) -> Cell:
    """A cell whose execution has not answered yet."""
    return Cell(version=version, provider=provider, model=model, status="pending",
                output=None, error=None, input_tokens=None, output_tokens=None,
                latency_ms=None, cost_usd=None, execution_id=None)


def execution_cell(execution: Execution) -> Cell:
    """The cell of a recorded execution, succeeded or failed."""
    return Cell(version=execution.version, provider=execution.provider,
                model=execution.model, status=execution.status, output=execution.output,
                error=execution.error.message if execution.error else None,
                input_tokens=execution.input_tokens, output_tokens=execution.output_tokens,
                latency_ms=execution.latency_ms, cost_usd=execution.cost_usd,
                execution_id=execution.id)


def error_cell(version: int, provider: str, model: str, message: str) -> Cell:
    """A cell for a request that ran nothing, with the reason."""
    return {**pending_cell(version, provider, model), "status": "error", "error": message}


def format_tokens(cell: Cell) -> str:
    """``"12 in · 30 out"``, or ``"tokens unknown"``."""
    if cell["input_tokens"] is None and cell["output_tokens"] is None:
        return "tokens unknown"
    return f"{_count(cell['input_tokens'])} in · {_count(cell['output_tokens'])} out"


def format_latency(ms: float | None) -> str:
    """``"840 ms"`` below a second, ``"2.4 s"`` above; ``"—"`` when unknown."""
    if ms is None:
        return "—"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def format_cost(usd: float | None) -> str:
    """Dollars with enough digits for a single call (``"$0.000042"``); ``"cost unknown"``."""
    if usd is None:
        return "cost unknown"
    return f"${usd:.6f}" if usd < 0.01 else f"${usd:.4f}"


def grid_html(cells: Mapping[CellKey, Cell], versions: Sequence[int],
              targets: Sequence[Target]) -> str:
    """A table with one row per version and one column per target."""
    if not versions or not targets:
        return ""
    head = "".join(f'<th data-testid="scope-target">{html.escape(f"{p}/{m}")}</th>'
                   for p, m in targets)
    rows = []
    for version in versions:
        tds = "".join(_cell_html(cells.get((version, p, m)), version, p, m) for p, m in targets)
        rows.append(f"<tr><th>v{version}</th>{tds}</tr>")
    return (f'{_STYLE}<table class="scope-grid" data-testid="scope-grid">'
            f"<thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _cell_html(cell: Cell | None, version: int, provider: str, model: str) -> str:
    attrs = (f'data-testid="scope-output" data-version="{version}" '
             f'data-target="{html.escape(f"{provider}/{model}", quote=True)}"')
    if cell is None:
        return f'<td class="scope-output scope-empty" {attrs} data-status="none"></td>'
    status = cell["status"]
    parts = []
    if status == "pending":
        parts.append('<div class="scope-running">running…</div>')
    if cell["output"] is not None:
        parts.append(f'<pre class="scope-text">{html.escape(cell["output"])}</pre>')
    if cell["error"] is not None:
        parts.append('<div class="scope-output-error" data-testid="scope-output-error">'
                     f'{html.escape(cell["error"])}</div>')
    if status in ("succeeded", "failed"):
        meta = " · ".join((format_tokens(cell), format_latency(cell["latency_ms"]),
                           format_cost(cell["cost_usd"])))
        parts.append(f'<div class="scope-meta">{html.escape(meta)}</div>')
    return f'<td class="scope-output scope-{status}" {attrs} data-status="{status}">' + (
        "".join(parts) + "</td>")


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


_STYLE = """<style>
.scope-grid { border-collapse: collapse; width: 100%; }
.scope-grid th, .scope-grid td { border: 1px solid #ddd; padding: 6px; vertical-align: top;
  text-align: left; }
.scope-grid .scope-text { white-space: pre-wrap; word-break: normal; overflow-wrap: anywhere;
  margin: 0; font-size: 0.9em; }
.scope-grid .scope-meta { color: #666; font-size: 0.8em; margin-top: 4px; }
.scope-grid .scope-output-error { color: #b00020; white-space: pre-wrap; }
.scope-grid .scope-running { color: #666; font-style: italic; }
</style>"""
