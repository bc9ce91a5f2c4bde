"""A run's live grid and its summary table, as HTML (pure functions; escaped)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from scope_lab.models import GoldenItem, RunResult, RunTarget, SummaryEntry

# Columns of the summary where more is better; for the others less is better.
_HIGHER_IS_BETTER = ("score",)


def grid_html(items: Sequence[GoldenItem], versions: Sequence[int],
              targets: Sequence[RunTarget], results: Sequence[RunResult],
              score: str | None) -> str:
    """Items down, (version, target) across; each cell a score, an error, or waiting."""
    by_cell = {(r.item_id, r.version, r.provider, r.model): r for r in results}
    head = "".join(f"<th>v{v}<br>{html.escape(t.provider)}/{html.escape(t.model)}</th>"
                   for v in versions for t in targets)
    rows = []
    for item in items:
        label = ", ".join(f"{k}={v}" for k, v in item.variables.items())
        cells = "".join(_cell(by_cell.get((item.id, v, t.provider, t.model)), score)
                        for v in versions for t in targets)
        rows.append(f"<tr><td>{html.escape(_short(label))}</td>{cells}</tr>")
    return (f'<table class="scope-run-grid"><thead><tr><th>item</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


def _cell(result: RunResult | None, score: str | None) -> str:
    if result is None:
        return '<td data-testid="scope-run-cell" data-status="waiting">…</td>'
    if result.status == "failed":
        message = (result.error or {}).get("message", "failed")
        return ('<td data-testid="scope-run-cell" data-status="failed" '
                f'style="color:#cf222e" title="{html.escape(str(message))}">failed</td>')
    value = result.scores.get(score) if score else None
    shown = "done" if value is None else f"{value:.2f}"
    shade = "" if value is None else f"background:rgba(26,127,55,{0.15 + 0.6 * value:.2f});"
    title = html.escape((result.output or "")[:300])
    return (f'<td data-testid="scope-run-cell" data-status="succeeded" style="{shade}" '
            f'title="{title}">{shown}</td>')


def summary_html(summary: Sequence[SummaryEntry]) -> str:
    """One row per (version, target); the best value of each column in bold."""
    if not summary:
        return "<p><em>No results yet.</em></p>"
    names = sorted({name for entry in summary for name in entry.scores})
    columns: list[tuple[str, list[float | None]]] = [
        *((f"score:{name}", [e.scores.get(name) for e in summary]) for name in names),
        ("failed", [float(e.failed) for e in summary]),
        ("latency p50 ms", [e.latency_ms_p50 for e in summary]),
        ("latency p95 ms", [e.latency_ms_p95 for e in summary]),
        ("cost USD", [e.cost_usd for e in summary]),
    ]
    best = {title: _best(title, values) for title, values in columns}
    head = "".join(f"<th>{html.escape(title)}</th>" for title, _ in columns)
    rows = []
    for index, entry in enumerate(summary):
        cells = "".join(_summary_cell(values[index], values[index] == best[title]
                                      and best[title] is not None, title)
                        for title, values in columns)
        rows.append(f'<tr data-testid="scope-summary-row"><td>v{entry.version}</td>'
                    f"<td>{html.escape(entry.provider)}/{html.escape(entry.model)}</td>"
                    f"<td>{entry.count}</td>{cells}</tr>")
    return ('<table class="scope-run-summary"><thead><tr><th>version</th><th>target</th>'
            f"<th>cells</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _best(title: str, values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    if not present:
        return None
    return max(present) if title.startswith(_HIGHER_IS_BETTER) else min(present)


def _summary_cell(value: float | None, best: bool, title: str) -> str:
    if value is None:
        return "<td>–</td>"
    text = f"{value:.6f}" if title.startswith("cost") else (
        f"{value:.3f}" if title.startswith("score") else f"{value:g}")
    mark = ' data-testid="scope-best" style="font-weight:bold;color:#1a7f37"' if best else ""
    return f"<td{mark}>{text}</td>"


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
