"""Notebook widgets on top of the SDK: one widget per task.

``PromptEditor`` edits a prompt with live highlighting, a variable form and a
preview, and saves or diffs versions; ``TestPanel`` runs versions on several
models side by side; ``VersionManager`` promotes, archives and diffs versions;
``TracesBrowser`` filters execution spans and opens one; ``Settings`` manages
providers, API keys and users as the caller's role allows; ``GoldenSetComparison``
runs a golden set across versions × targets and fills a grid as results arrive.
All need the ``lab`` extra (ipywidgets, anywidget). Names
load on first use (PEP 562), so ``import scope_lab`` never imports a widget
library and opening one widget does not load the other.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scope_lab.widgets.golden_set_comparison import GoldenSetComparison
    from scope_lab.widgets.prompt_editor import PromptEditor
    from scope_lab.widgets.settings import Settings
    from scope_lab.widgets.test_panel import TestPanel
    from scope_lab.widgets.traces_browser import TracesBrowser
    from scope_lab.widgets.version_manager import VersionManager

_WHERE = {
    "GoldenSetComparison": "scope_lab.widgets.golden_set_comparison",
    "PromptEditor": "scope_lab.widgets.prompt_editor",
    "Settings": "scope_lab.widgets.settings",
    "TestPanel": "scope_lab.widgets.test_panel",
    "TracesBrowser": "scope_lab.widgets.traces_browser",
    "VersionManager": "scope_lab.widgets.version_manager",
}

__all__ = ["GoldenSetComparison", "PromptEditor", "Settings", "TestPanel", "TracesBrowser",
           "VersionManager"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'scope_lab.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
