"""Versions of a prompt: create, browse, promote, archive, history and diff."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from scope_lab._async.resources._base import AsyncResource, segment
from scope_lab._diff import VersionDiff, diff_versions
from scope_lab.models import Content, Promotion, Version


class AsyncVersions(AsyncResource):
    """``scope.versions``: the immutable, numbered versions of each prompt."""

    async def create(self, prompt: str, content: Content, *, message: str = "",
                     metadata: Mapping[str, Any] | None = None) -> Version:
        """Add a draft version; the server numbers it and lists its variables."""
        body = {"content": content, "message": message, "metadata": dict(metadata or {})}
        return Version.model_validate(
            await self._api.json("POST", f"/prompts/{segment(prompt)}/versions", json=body))

    async def list(self, prompt: str, *, status: str | None = None,
                   limit: int | None = None) -> AsyncIterator[Version]:
        """A prompt's versions, newest first; ``status`` keeps only draft/published/archived."""
        async for version in self._api.items(f"/prompts/{segment(prompt)}/versions",
                                             Version.model_validate, {"status": status},
                                             limit=limit):
            yield version

    async def retrieve(self, prompt: str, number: int) -> Version:
        """One version by number."""
        return Version.model_validate(await self._api.json(
            "GET", f"/prompts/{segment(prompt)}/versions/{int(number)}"))

    async def production(self, prompt: str) -> Version:
        """The published version (uncached; apps should use ``prompts.get``)."""
        return Version.model_validate(
            await self._api.json("GET", f"/prompts/{segment(prompt)}/production"))

    async def promote(self, prompt: str, number: int, *, reason: str | None = None) -> Version:
        """Publish a version; the previously published one is archived, in one transaction."""
        return await self._transition(prompt, number, "promote", {"reason": reason})

    async def archive(self, prompt: str, number: int) -> Version:
        """Archive a draft or published version."""
        return await self._transition(prompt, number, "archive", None)

    async def unarchive(self, prompt: str, number: int) -> Version:
        """Bring an archived version back as a draft."""
        return await self._transition(prompt, number, "unarchive", None)

    async def history(self, prompt: str, *, limit: int | None = None) -> AsyncIterator[Promotion]:
        """Promotion records, newest first."""
        async for promotion in self._api.items(f"/prompts/{segment(prompt)}/promotions",
                                               Promotion.model_validate, limit=limit):
            yield promotion

    async def diff(self, prompt: str, old: int, new: int) -> VersionDiff:
        """A unified diff of two versions' content, with added and removed variables."""
        return diff_versions(await self.retrieve(prompt, old), await self.retrieve(prompt, new))

    async def _transition(self, prompt: str, number: int, action: str,
                          body: dict[str, Any] | None) -> Version:
        path = f"/prompts/{segment(prompt)}/versions/{int(number)}/{action}"
        return Version.model_validate(await self._api.json("POST", path, json=body))
