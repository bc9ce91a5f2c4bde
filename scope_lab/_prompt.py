"""A prompt as an app uses it: content fetched from Scope (or a fallback) and ``render``."""

from __future__ import annotations

from typing import Any

from scope_lab._template import Content, content_variables, render_content


class Prompt:
    """A prompt version ready to render: ``name``, ``version``, ``content``, ``variables``.

    ``is_fallback`` is true when Scope could not be reached and the caller's fallback
    template was used instead; ``version`` is then ``None``.
    """

    __slots__ = ("content", "etag", "is_fallback", "name", "variables", "version")

    def __init__(self, name: str, version: int | None, content: Content,
                 variables: list[str], *, is_fallback: bool = False,
                 etag: str | None = None) -> None:
        self.name = name
        self.version = version
        self.content = content
        self.variables = variables
        self.is_fallback = is_fallback
        self.etag = etag

    @classmethod
    def from_version(cls, data: dict[str, Any], etag: str | None = None) -> Prompt:
        """Build from a version as the API returns it."""
        return cls(data["prompt"], data["number"], data["content"], list(data["variables"]),
                   etag=etag)

    @classmethod
    def fallback(cls, name: str, content: Content) -> Prompt:
        """The caller's fallback template standing in for an unreachable Scope."""
        return cls(name, None, content, content_variables(content), is_fallback=True)

    def render(self, **variables: Any) -> Content:
        """Fill in the variables: text for a text prompt, messages for a chat prompt.

        Raises :class:`scope_lab.MissingVariablesError` naming every missing variable.
        """
        return render_content(self.content, variables)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (what the disk snapshot stores)."""
        return {"prompt": self.name, "number": self.version, "content": self.content,
                "variables": self.variables, "etag": self.etag}

    def __repr__(self) -> str:
        kind = "fallback" if self.is_fallback else f"version={self.version}"
        return f"<Prompt {self.name!r} {kind} variables={self.variables}>"
