"""Errors raised by template validation and rendering."""

from __future__ import annotations

from collections.abc import Sequence


class TemplateError(Exception):
    """Base class of all template errors; ``message`` is a human-readable text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateSyntaxError(TemplateError):
    """The template is invalid Jinja or uses a construct outside the subset.

    ``line`` is the 1-based line of the problem (if known); ``construct`` names the
    refused construct (e.g. ``"filter 'upper'"``) and is ``None`` for plain syntax
    errors.
    """

    def __init__(
        self, message: str, *, line: int | None = None, construct: str | None = None
    ) -> None:
        super().__init__(message)
        self.line = line
        self.construct = construct


class MissingVariablesError(TemplateError):
    """Rendering needed variables that were not supplied; ``names`` lists them all."""

    def __init__(self, names: Sequence[str], message: str | None = None) -> None:
        self.names = list(names)
        super().__init__(message or "missing variables: " + ", ".join(self.names))


class TemplateValueError(TemplateError):
    """A supplied value cannot be used as required, e.g. looping over a non-list.

    ``name`` is the template variable holding the value.
    """

    def __init__(self, name: str, message: str | None = None) -> None:
        self.name = name
        super().__init__(message or f"invalid value for variable '{name}'")


class RenderLimitError(TemplateError):
    """Rendering would loop or print more than one render may (see ``render``): the
    template and these variables together ask for too much."""
