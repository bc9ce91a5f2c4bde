"""Exceptions as the one-line messages a widget shows instead of a traceback."""

from __future__ import annotations

from scope_lab.errors import APIError, ScopeError, ServerError, ValidationError


def error_message(exc: BaseException, doing: str = "") -> str:
    """A readable message for ``exc``, prefixed with what was being done (``"save"``)."""
    prefix = f"Could not {doing}: " if doing else ""
    return prefix + _describe(exc)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        details = [f"{_where(e.get('loc'))}{e.get('msg', '')}" for e in exc.errors
                   if isinstance(e, dict) and str(e.get("msg", "")) not in exc.message]
        return "; ".join([exc.message, *details]) + f" ({exc.status} {exc.code})"
    if isinstance(exc, ServerError):
        # A request id is what an operator needs to find the server's log line.
        request = f", request {exc.request_id}" if exc.request_id else ""
        return f"{exc.message} ({exc.status} {exc.code}{request})"
    if isinstance(exc, APIError):
        return f"{exc.message} ({exc.status} {exc.code})"
    if isinstance(exc, ScopeError):
        return str(exc)
    return f"unexpected {type(exc).__name__}: {exc}"


def _where(loc: object) -> str:
    if isinstance(loc, list) and loc:
        return ".".join(str(part) for part in loc) + ": "
    return ""
