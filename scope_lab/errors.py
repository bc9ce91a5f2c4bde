"""The SDK's exceptions: one tree, so ``except scope_lab.NotFound`` reads naturally.

::

    ScopeError
    ├── ConfigurationError         no base URL or API key: the message says how to set them
    ├── ConnectionError            Scope could not be reached (after retries)
    ├── RunTimeout                 ``runs.wait`` gave up before the run ended (it goes on)
    ├── TemplateError              rendering a prompt locally
    │   ├── TemplateSyntaxError    outside the template subset (``construct``, ``line``)
    │   ├── MissingVariablesError  ``names``: every missing variable, in order of use
    │   └── TemplateValueError     ``name``: e.g. looping over a non-list
    └── APIError                   the server answered with an error body
        ├── BadRequest             400 bad_request
        ├── Unauthenticated        401 unauthenticated
        ├── Forbidden              403 forbidden
        ├── NotFound               404 not_found
        ├── Conflict               409 conflict
        ├── PayloadTooLarge        413 payload_too_large
        ├── ValidationError        422 validation_error (``errors``: ``[{loc, msg}]``)
        ├── RateLimited            429 rate_limited (``retry_after`` seconds, if sent)
        ├── ProviderError          502 provider_error (the LLM provider failed)
        ├── ProviderTimeout        504 provider_timeout
        └── ServerError            other 5xx (500 internal, 503 database unavailable)

``ConnectionError`` deliberately shadows the builtin inside this module only; import
it as ``scope_lab.ConnectionError``.
"""

from __future__ import annotations

from typing import Any

from scope_lab._scope_error import ScopeError
from scope_lab._template._errors import (
    MissingVariablesError,
    TemplateError,
    TemplateSyntaxError,
    TemplateValueError,
)

__all__ = [
    "APIError",
    "BadRequest",
    "ConfigurationError",
    "Conflict",
    "ConnectionError",
    "Forbidden",
    "MissingVariablesError",
    "NotFound",
    "PayloadTooLarge",
    "ProviderError",
    "ProviderTimeout",
    "RateLimited",
    "RunTimeout",
    "ScopeError",
    "ServerError",
    "TemplateError",
    "TemplateSyntaxError",
    "TemplateValueError",
    "Unauthenticated",
    "ValidationError",
]


class ConfigurationError(ScopeError):
    """The client is missing a setting; the message says how to provide it."""


class ConnectionError(ScopeError):
    """Scope could not be reached (connection refused, DNS, timeout) after retries."""


class RunTimeout(ScopeError):
    """``runs.wait`` gave up before the run ended; the run itself goes on."""


class APIError(ScopeError):
    """The server answered with an error body: ``status``, ``code``, ``message``, ``request_id``."""

    def __init__(self, status: int, code: str, message: str, *,
                 details: dict[str, Any] | None = None, request_id: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        suffix = f" (request {request_id})" if request_id else ""
        super().__init__(f"{status} {code}: {message}{suffix}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.request_id = request_id
        self.headers = headers or {}


class BadRequest(APIError):
    """400: malformed request or tampered cursor."""


class Unauthenticated(APIError):
    """401: missing, expired or revoked credentials."""


class Forbidden(APIError):
    """403: the API key's role lacks the permission."""


class NotFound(APIError):
    """404: no such resource in this tenant."""


class Conflict(APIError):
    """409: duplicate name, illegal status transition or concurrent change."""


class PayloadTooLarge(APIError):
    """413: the request body is over the server's limit."""


class ValidationError(APIError):
    """422: the request is well-formed but invalid; ``errors`` lists ``{loc, msg}``."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The server's per-field errors."""
        errors = self.details.get("errors", [])
        return errors if isinstance(errors, list) else []


class RateLimited(APIError):
    """429: too many requests; ``retry_after`` is the server's hint in seconds, if any."""

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait, if it said (numeric ``Retry-After`` only)."""
        value = self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class ProviderError(APIError):
    """502: the LLM provider answered with an error."""


class ProviderTimeout(APIError):
    """504: the LLM provider did not answer in time."""


class ServerError(APIError):
    """Any other 5xx: a server-side failure (the body never holds a stack trace)."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest, 401: Unauthenticated, 403: Forbidden, 404: NotFound, 409: Conflict,
    413: PayloadTooLarge, 422: ValidationError, 429: RateLimited, 502: ProviderError,
    504: ProviderTimeout,
}


def error_class(status: int) -> type[APIError]:
    """The exception class for an HTTP error status."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else APIError
