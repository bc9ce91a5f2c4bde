"""Spans as an HTML table and one span's attributes as a definition list (escaped)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

from scope_lab.models import Span


def spans_html(spans: Sequence[Span]) -> str:
    """Newest first: start, name, status, duration, and the model and tokens it used."""
    if not spans:
        return "<p><em>No spans match.</em></p>"
    rows = "".join(
        f'<tr data-testid="scope-span" data-span="{html.escape(s.span_id)}">'
        f"<td>{s.start:%Y-%m-%d %H:%M:%S}</td><td>{html.escape(s.name)}</td>"
        f'<td style="color:{"#cf222e" if s.status == "error" else "inherit"}">'
        f"{html.escape(s.status)}</td><td>{s.duration_ms:.1f} ms</td>"
        f"<td>{html.escape(str(s.attributes.get('gen_ai.request.model', '')))}</td>"
        f"<td>{_tokens(s)}</td></tr>"
        for s in spans)
    return ('<table class="scope-traces-table"><thead><tr><th>start</th><th>span</th>'
            "<th>status</th><th>duration</th><th>model</th><th>tokens in/out</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>")


def attributes_html(span: Span) -> str:
    """Every attribute of one span, sorted by name."""
    items = "".join(
        f"<dt><code>{html.escape(name)}</code></dt>"
        f"<dd>{html.escape(value if isinstance(value, str) else json.dumps(value))}</dd>"
        for name, value in sorted(span.attributes.items()))
    return (f'<div data-testid="scope-span-attributes"><b>{html.escape(span.name)}</b> '
            f"trace <code>{html.escape(span.trace_id)}</code> span "
            f"<code>{html.escape(span.span_id)}</code><dl>{items}</dl></div>")


def span_label(span: Span) -> str:
    """How a span is named in the chooser."""
    model = span.attributes.get("gen_ai.request.model", "")
    return f"{span.start:%H:%M:%S} · {span.name} · {span.status} · {model}"


def _tokens(span: Span) -> str:
    used = [span.attributes.get("gen_ai.usage.input_tokens"),
            span.attributes.get("gen_ai.usage.output_tokens")]
    return "/".join("–" if t is None else html.escape(str(t)) for t in used)
