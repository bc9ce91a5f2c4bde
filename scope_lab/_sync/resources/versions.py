# Generated from scope_lab/_async by scripts/gen_sync.py: do not edit.
"""Versions of a prompt: create, browse, promote, archive, history and diff."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from scope_lab._diff import VersionDiff, diff_versions
from scope_lab._sync.resources._base import Resource, segment
from scope_lab.models import Content, Promotion, Version


class Versions(Resource):
    """``scope.versions``: the immutable, numbered versions of each prompt."""

    def create(self, prompt: str, content: Content, *, message: str = "",
                     metadata: Mapping[str, Any] | None = None) -> Version:
        """Add a draft version; the server numbers it and lists its variables."""
        body = {"content": content, "message": message, "metadata": dict(metadata or {})}
        return Version.model_validate(
            self._api.json("POST", f"/prompts/{segment(prompt)}/versions", json=body))

    def list(self, prompt: str, *, status: str | None = None,
                   limit: int | None = None) -> Iterator[Version]:
        """A prompt's versions, newest first; ``status`` keeps only draft/published/archived."""
        for version in self._api.items(f"/prompts/{segment(prompt)}/versions",
                                             Version.model_validate, {"status": status},
                                             limit=limit):
            yield version

    def retrieve(self, prompt: str, number: int) -> Version:
        """One version by number."""
        return Version.model_validate(self._api.json(
            "GET", f"/prompts/{segment(prompt)}/versions/{int(number)}"))

    def production(self, prompt: str) -> Version:
        """The published version (uncached; apps should use ``prompts.get``)."""
        return Version.model_validate(
            self._api.json("GET", f"/prompts/{segment(prompt)}/production"))

    def promote(self, prompt: str, number: int, *, reason: str | None = None) -> Version:
        """Publish a version; the previously published one is archived, in one transaction."""
        return self._transition(prompt, number, "promote", {"reason": reason})

    def archive(self, prompt: str, number: int) -> Version:
        """Archive a draft or published version."""
        return self._transition(prompt, number, "archive", None)

    def unarchive(self, prompt: str, number: int) -> Version:
        """Bring an archived version back as a draft."""
        return self._transition(prompt, number, "unarchive", None)

    def history(self, prompt: str, *, limit: int | None = None) -> Iterator[Promotion]:
        """Promotion records, newest first."""
        for promotion in self._api.items(f"/prompts/{segment(prompt)}/promotions",
                                               Promotion.model_validate, limit=limit):
            yield promotion

    def diff(self, prompt: str, old: int, new: int) -> VersionDiff:
        """A unified diff of two versions' content, with added and removed variables."""
        return diff_versions(self.retrieve(prompt, old), self.retrieve(prompt, new))

    def _transition(self, prompt: str, number: int, action: str,
                          body: dict[str, Any] | None) -> Version:
        path = f"/prompts/{segment(prompt)}/versions/{int(number)}/{action}"
        return Version.model_validate(self._api.json("POST", path, json=body))
