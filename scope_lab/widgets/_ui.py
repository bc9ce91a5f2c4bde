"""Small pieces every stock-ipywidgets widget here shares: CSS hooks, status, busy."""

from __future__ import annotations

import html
from typing import TypeVar

W = TypeVar("W")


def classed(widget: W, name: str) -> W:
    """``widget`` with the CSS class ``name`` (the hooks browser tests find it by)."""
    widget.add_class(name)  # type: ignore[attr-defined]
    return widget


def status_html(text: str, *, error: bool) -> str:
    """The status line: plain text, red for an error."""
    colour = "#cf222e" if error else "inherit"
    return (f'<span data-testid="scope-status" style="color:{colour}">'
            f"{html.escape(text)}</span>")


def busy_html(in_flight: int, label: str = "working…") -> str:
    """The busy indicator while requests are in flight."""
    return f"<i>{html.escape(label)}</i>" if in_flight else ""


