"""Versions and promotion history as HTML tables (pure functions; everything escaped)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from scope_lab.models import Promotion, Version

_BADGE = {"published": "#1a7f37", "draft": "#6e7781", "archived": "#9a6700"}


def _preview(version: Version, limit: int = 80) -> str:
    content = version.content
    text = content if isinstance(content, str) else " | ".join(
        f"{m.get('role', '?')}: {m.get('content', '')}" for m in content)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def badge(status: str) -> str:
    """A coloured status badge."""
    colour = _BADGE.get(status, "#6e7781")
    return (f'<span data-testid="scope-badge" class="scope-badge scope-badge-{html.escape(status)}"'
            f' style="background:{colour};color:#fff;border-radius:8px;padding:0 6px;'
            f'font-size:85%">{html.escape(status)}</span>')


def versions_html(versions: Sequence[Version]) -> str:
    """Newest first: number, status badge, message, variables, content preview, author."""
    if not versions:
        return "<p><em>No versions yet.</em></p>"
    rows = "".join(
        f'<tr data-testid="scope-version-{v.number}"><td>v{v.number}</td>'
        f"<td>{badge(v.status)}</td><td>{html.escape(v.message)}</td>"
        f"<td>{html.escape(', '.join(v.variables))}</td>"
        f"<td><code>{html.escape(_preview(v))}</code></td>"
        f"<td>{html.escape(v.created_by or '')}</td>"
        f"<td>{v.created_at:%Y-%m-%d %H:%M}</td></tr>"
        for v in versions)
    return ('<table class="scope-versions-table"><thead><tr><th>version</th><th>status</th>'
            "<th>message</th><th>variables</th><th>content</th><th>by</th><th>created</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def history_html(history: Sequence[Promotion]) -> str:
    """Promotion records, newest first."""
    if not history:
        return "<p><em>Never promoted.</em></p>"
    rows = "".join(
        f"<tr><td>v{p.version}</td>"
        f"<td>{'—' if p.previous_version is None else f'v{p.previous_version}'}</td>"
        f"<td>{html.escape(p.reason or '')}</td><td>{html.escape(p.promoted_by or '')}</td>"
        f"<td>{p.promoted_at:%Y-%m-%d %H:%M}</td></tr>"
        for p in history)
    return ('<table class="scope-history-table"><thead><tr><th>promoted</th>'
            "<th>replaced</th><th>reason</th><th>by</th><th>when</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")
