"""Comparing two versions of a prompt, as a reviewer reads a change."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from scope_lab.models import Content, Version


@dataclass(frozen=True, slots=True)
class VersionDiff:
    """What changed from version ``old`` to ``new``: unified ``text`` and variable changes."""

    prompt: str
    old: int
    new: int
    text: str
    added_variables: list[str]
    removed_variables: list[str]

    @property
    def changed(self) -> bool:
        """True if the content differs."""
        return bool(self.text)

    def __str__(self) -> str:
        return self.text or f"versions {self.old} and {self.new} have the same content"

    def _repr_markdown_(self) -> str:
        return f"```diff\n{self}\n```"


def diff_versions(old: Version, new: Version) -> VersionDiff:
    """A unified diff of two versions' content (chat messages one per block)."""
    text = "".join(difflib.unified_diff(
        _lines(old.content), _lines(new.content),
        fromfile=f"{old.prompt} v{old.number}", tofile=f"{new.prompt} v{new.number}"))
    return VersionDiff(
        prompt=new.prompt, old=old.number, new=new.number, text=text,
        added_variables=[v for v in new.variables if v not in old.variables],
        removed_variables=[v for v in old.variables if v not in new.variables])


def _lines(content: Content) -> list[str]:
    if isinstance(content, str):
        text = content
    else:
        text = "\n".join(f"[{m.get('role', '?')}]\n{m.get('content', '')}" for m in content)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return lines

