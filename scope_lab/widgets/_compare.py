"""Comparing a saved version with the editor's unsaved content."""

from __future__ import annotations

import difflib

from scope_lab._diff import _lines
from scope_lab.models import Content, Version


def draft_diff(old: Version, content: Content) -> str:
    """A unified diff from version ``old`` to ``content``, laid out like ``versions.diff``."""
    # The same line layout as scope_lab._diff (one block per chat message), so a diff
    # reads the same before and after the content is saved.
    text = "".join(difflib.unified_diff(
        _lines(old.content), _lines(content),
        fromfile=f"{old.prompt} v{old.number}", tofile=f"{old.prompt} (unsaved)"))
    return text or f"version {old.number} and the editor have the same content"
