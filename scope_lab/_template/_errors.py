"""Errors raised when compiling or rendering a template locally.

::

    TemplateError
    ├── TemplateSyntaxError    outside the subset (``line``, ``construct``)
    ├── MissingVariablesError  ``names``: every missing variable, in order of use
    └── TemplateValueError     ``name``: a value that cannot be used, e.g. a loop over a string

The classes mirror the server's (``scope_api.templating.errors``) attribute for
attribute, so code handling either reads the same.  ``TemplateError`` is a
:class:`~scope_lab.errors.ScopeError`; :mod:`scope_lab.errors` re-exports these classes.
"""

from __future__ import annotations

from collections.abc import Sequence

from scope_lab._scope_error import ScopeError


class TemplateError(ScopeError):
    """Base class of all template errors; ``message`` is a human-readable text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TemplateSyntaxError(TemplateError):
    """The template is invalid or uses a construct outside the subset.

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
    """A supplied value cannot be used as required, e.g. looping over a non-list."""

    def __init__(self, name: str, message: str | None = None) -> None:
        self.name = name
        super().__init__(message or f"invalid value for variable '{name}'")


def syntax_error(detail: str, line: int | None) -> TemplateSyntaxError:
    """A plain syntax error (``construct`` is None), worded like the server's."""
    detail = detail.strip().rstrip(".")
    if detail[:1].isupper() and detail[1:2].islower():
        detail = detail[0].lower() + detail[1:]
    where = f" (line {line})" if line is not None else ""
    return TemplateSyntaxError(f"template syntax error: {detail}{where}", line=line)


def unsupported(construct: str, line: int | None, hint: str | None = None) -> TemplateSyntaxError:
    """A refusal of a construct outside the subset, worded like the server's."""
    where = f" (line {line})" if line is not None else ""
    tail = f": {hint}" if hint else ""
    return TemplateSyntaxError(
        f"unsupported construct: {construct}{where}{tail}", line=line, construct=construct
    )
