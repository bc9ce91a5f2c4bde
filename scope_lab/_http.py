"""Turning HTTP responses into results or into the SDK's exceptions."""

from __future__ import annotations

from typing import Any

import httpx

from scope_lab.errors import APIError, error_class


def raise_for_error(response: httpx.Response) -> None:
    """Raise the :class:`~scope_lab.errors.APIError` subclass for an error response."""
    if response.status_code < 400:
        return
    raise api_error(response)


def api_error(response: httpx.Response) -> APIError:
    """The exception for an error response, from Scope's error body when there is one."""
    code, message, details, request_id = _error_body(response)
    return error_class(response.status_code)(
        response.status_code, code, message, details=details, request_id=request_id,
        headers={k.lower(): v for k, v in response.headers.items()})


def _error_body(response: httpx.Response) -> tuple[str, str, dict[str, Any], str | None]:
    try:
        error = response.json()["error"]
        return (str(error["code"]), str(error["message"]), dict(error.get("details") or {}),
                error.get("request_id"))
    except (ValueError, KeyError, TypeError):
        # Not Scope's body: a proxy or load balancer answered. Say so plainly.
        text = response.text.strip()[:200] or response.reason_phrase
        return ("http_error", f"unexpected response from {response.request.url.host}: {text}",
                {}, response.headers.get("x-request-id"))
