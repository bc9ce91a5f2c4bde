"""Small pieces every stock-ipywidgets widget here shares: CSS hooks, status, busy, and
the display and shutdown of a widget whose requests run on worker threads."""

from __future__ import annotations

import html
from typing import Any, TypeVar

from scope_lab.widgets._background import Jobs

W = TypeVar("W")


class BoxWidget:
    """A widget built of stock ipywidgets (``widget``) that works on ``_jobs``' threads."""

    widget: Any
    _jobs: Jobs

    def close(self) -> None:
        """Stop the worker threads (requests in flight finish on their own) and close
        the widgets."""
        self._jobs.close()
        self.widget.close()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


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


