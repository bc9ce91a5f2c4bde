"""Scope's error tree and the one handler that renders every error body.

Every error a client sees has the body fixed in ``shared/design/API.md``::

    {"error": {"code": "...", "message": "...", "details": {...}, "request_id": "..."}}

The tree::

    ScopeError (500 internal)
    ├── BadRequest (400 bad_request)
    ├── Unauthenticated (401 unauthenticated)
    ├── Forbidden (403 forbidden)
    ├── NotFound (404 not_found)
    ├── Conflict (409 conflict)
    ├── PayloadTooLarge (413 payload_too_large)
    ├── UnsupportedMediaType (415 unsupported_media_type)
    ├── ValidationFailed (422 validation_error)
    ├── RateLimited (429 rate_limited)
    └── ProviderFailed (502 provider_error)
        └── ProviderTimedOut (504 provider_timeout)

Database errors that a client can act on are mapped too: an integrity or
serialization failure is ``409 conflict`` (a concurrent change won: retry), an
unreachable or locked database is ``503 unavailable`` with ``Retry-After``.

Services raise these; routes never raise ``HTTPException``. Anything else that
escapes a request becomes ``500 internal`` with the request id and nothing more:
no stack trace and no exception text, since either may carry a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("scope_api")


class ScopeError(Exception):
    """Base of every error Scope reports to a client."""

    status_code = 500
    code = "internal"

    def __init__(self, message: str = "internal error", *, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers


class BadRequest(ScopeError):
    status_code = 400
    code = "bad_request"


class Unauthenticated(ScopeError):
    status_code = 401
    code = "unauthenticated"

    def __init__(self, message: str = "authentication required", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(ScopeError):
    status_code = 403
    code = "forbidden"


class NotFound(ScopeError):
    status_code = 404
    code = "not_found"


class Conflict(ScopeError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ScopeError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(ScopeError):
    status_code = 415
    code = "unsupported_media_type"


class ValidationFailed(ScopeError):
    """422 with ``details.errors``: a list of ``{"loc": [...], "msg": "..."}``."""

    status_code = 422
    code = "validation_error"

    def __init__(self, message: str, *, errors: Sequence[dict[str, Any]] | None = None,
                 loc: Sequence[str | int] | None = None) -> None:
        if errors is None:
            errors = [{"loc": list(loc or []), "msg": message}]
        super().__init__(message, details={"errors": list(errors)})


class RateLimited(ScopeError):
    status_code = 429
    code = "rate_limited"


class ProviderFailed(ScopeError):
    """The LLM provider failed; the failed execution is recorded (``details.execution_id``)."""

    status_code = 502
    code = "provider_error"


class ProviderTimedOut(ProviderFailed):
    status_code = 504
    code = "provider_timeout"


_STATUS_CODES = {
    400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
}


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def error_response(request: Request, status: int, code: str, message: str,
                   details: dict[str, Any] | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {},
                      "request_id": request_id_of(request)}}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"loc": [str(part) if not isinstance(part, int) else part for part in err["loc"]],
             "msg": err["msg"]} for err in exc.errors()]


async def _scope_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ScopeError)
    return error_response(request, exc.status_code, exc.code, exc.message, exc.details,
                          exc.headers)


async def _request_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return error_response(request, 400, "bad_request", "request body is not valid JSON")
    errors = _validation_errors(exc)
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    where = ".".join(str(p) for p in first["loc"])
    return error_response(request, 422, "validation_error", f"{where}: {first['msg']}",
                          {"errors": errors})


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "internal" if exc.status_code >= 500 else "error")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if exc.status_code == 404:
        message = f"no route {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} not allowed on {request.url.path}"
    return error_response(request, exc.status_code, code, message, headers=exc.headers)


def _is_concurrency_failure(exc: DBAPIError) -> bool:
    # PostgreSQL deadlock / serialization failure (SQLSTATE class 40): a concurrent
    # change won; the client may retry.
    return str(getattr(exc.orig, "sqlstate", "") or "").startswith("40")


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if isinstance(exc, IntegrityError) or _is_concurrency_failure(exc):
        return error_response(request, 409, "conflict",
                              "the request conflicted with a concurrent change; retry it")
    if exc.connection_invalidated or isinstance(exc, OperationalError):
        log.warning("database unavailable in %s %s (request_id=%s): %s", request.method,
                    request.url.path, request_id_of(request), exc.__class__.__name__)
        return error_response(request, 503, "unavailable",
                              "the database is unavailable; retry shortly",
                              headers={"Retry-After": "1"})
    return await _unexpected_error(request, exc)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the server log only; the client gets the request id
    # to quote when reporting the problem.
    log.exception("unhandled error in %s %s (request_id=%s)", request.method,
                  request.url.path, request_id_of(request), exc_info=exc)
    # This handler runs in Starlette's outermost ServerErrorMiddleware, outside
    # RequestIdMiddleware, so the X-Request-ID header must be set here.
    return error_response(request, 500, "internal", "internal error",
                          headers={"X-Request-ID": request_id_of(request)})


def install_error_handlers(app: FastAPI) -> None:
    """Route every exception a request can raise to the one error body."""
    app.add_exception_handler(ScopeError, _scope_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)
