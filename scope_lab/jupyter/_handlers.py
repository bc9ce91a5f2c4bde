"""The proxy's HTTP handlers: settings (URL and key) and the forwarded API calls.

Errors keep Scope's error body shape (``{"error": {"code", "message"}}``) so the panel
shows one kind of message: Scope unreachable → 502 ``scope_unreachable``; the key
refused → 401 ``unauthenticated`` saying so; not configured → 503 ``not_configured``;
any other Scope error passes through with its status and body.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import tornado.web
from jupyter_server.base.handlers import APIHandler

from scope_lab.errors import APIError, ConfigurationError
from scope_lab.jupyter._connection import Connection

_FORWARDED_HEADERS = ("content-type", "etag", "retry-after")


class _ScopeHandler(APIHandler):
    connection: Connection

    def initialize(self, connection: Connection) -> None:
        self.connection = connection

    def _error(self, status: int, code: str, message: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": {"code": code, "message": message}}))


class SettingsHandler(_ScopeHandler):
    """GET: ``{base_url, has_api_key}``; POST ``{base_url?, api_key?}`` sets them."""

    @tornado.web.authenticated
    def get(self) -> None:
        self.finish(json.dumps(self.connection.public()))

    @tornado.web.authenticated
    async def post(self) -> None:
        try:
            body = json.loads(self.request.body or b"{}")
            base_url, api_key = body.get("base_url"), body.get("api_key")
        except (ValueError, AttributeError):
            return self._error(400, "bad_request", "expected a JSON object")
        if not isinstance(base_url, str | None) or not isinstance(api_key, str | None):
            return self._error(400, "bad_request", "base_url and api_key must be strings")
        try:
            previous = self.connection.configure(base_url or None, api_key or None)
        except ConfigurationError as exc:
            return self._error(400, "bad_request", str(exc))
        if previous is not None:
            await previous.aclose()
        self.finish(json.dumps(self.connection.public()))


class ProxyHandler(_ScopeHandler):
    """Forward ``/scope/api/<path>`` to Scope's ``/api/v1/<path>`` with the API key's token."""

    async def _forward(self, path: str) -> None:
        if not self.connection.configured:
            return self._error(503, "not_configured",
                               "Scope is not configured: set SCOPE_BASE_URL and SCOPE_API_KEY "
                               "for Jupyter, or use the panel's settings form.")
        url = f"{self.connection.base_url}/api/v1/{path}"
        if self.request.query:
            url += "?" + self.request.query
        method = self.request.method or "GET"
        body = self.request.body if method in ("POST", "PATCH", "PUT") else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            response = await self.connection.client().request(method, url, content=body,
                                                              headers=headers)
        except httpx.TransportError as exc:
            return self._error(502, "scope_unreachable",
                               f"Scope is unreachable at {self.connection.base_url} "
                               f"({type(exc).__name__}). Is `scope serve` running?")
        except APIError as exc:
            # Raised by the token exchange: the key itself was refused (or Scope failed).
            return self._refused(exc.status, exc.code, exc.message)
        if response.status_code == 401:
            return self._refused(401, "unauthenticated", _message(response))
        self._relay(response)

    def _refused(self, status: int, code: str, message: str) -> None:
        if status == 401:
            return self._error(401, "unauthenticated",
                               "Scope refused the API key (is SCOPE_API_KEY right, and not "
                               f"revoked?): {message}")
        self._error(status, code, message)

    def _relay(self, response: httpx.Response) -> None:
        self.set_status(response.status_code)
        for name in _FORWARDED_HEADERS:
            if name in response.headers:
                self.set_header(name, response.headers[name])
        # A 204 must have no body at all (tornado refuses one).
        self.finish(response.content if response.status_code != 204 else None)

    @tornado.web.authenticated
    async def get(self, path: str) -> None:
        await self._forward(path)

    @tornado.web.authenticated
    async def post(self, path: str) -> None:
        await self._forward(path)

    @tornado.web.authenticated
    async def patch(self, path: str) -> None:
        await self._forward(path)

    @tornado.web.authenticated
    async def delete(self, path: str) -> None:
        await self._forward(path)


def _message(response: httpx.Response) -> str:
    try:
        error: dict[str, Any] = response.json()["error"]
        return str(error["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
