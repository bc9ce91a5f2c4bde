"""Pure ASGI middleware: request ids, and the checks every request passes before routing.

Pure ASGI rather than ``BaseHTTPMiddleware``: it adds microseconds, not a task
and a queue, to the production fetch every app makes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scope_api import nul
from scope_api.nul import REPLACEMENT

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Give each request an id (the client's ``X-Request-ID`` if sane) and echo it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                request_id = candidate if _CLIENT_ID.match(candidate) else ""
                break
        request_id = request_id or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        await self.app(scope, receive, send_with_id)


class RequestGuardMiddleware:
    """Refuse what no route may take, before routing: a body over ``max_bytes`` (``413
    payload_too_large``) and the NUL character in the path, the query or a JSON body
    (``422 validation_error`` locating it; see :mod:`scope_api.nul`).

    A declared ``Content-Length`` is checked before reading anything; a chunked body is
    read up to the limit. The body is then replayed to the app. ``overrides`` are
    ``(path regex, max_bytes)`` pairs for the few routes that take large bodies by
    design (bulk uploads); the first full match wins.
    """

    def __init__(self, app: ASGIApp, max_bytes: int,
                 overrides: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = [(re.compile(pattern), limit) for pattern, limit in overrides]
        # No path's limit is lower: a body this small needs no path matched (the regex
        # cost more than the rest of this middleware on every POST /executions).
        self.floor = min([max_bytes, *(limit for _, limit in self.overrides)])

    def limit_for(self, path: str) -> int:
        """The body limit of ``path``."""
        for pattern, limit in self.overrides:
            if pattern.fullmatch(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope["query_string"]:
            await _refuse_nul(scope, send, _nul_in_url(scope))
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        max_bytes: int | None = None  # the path's limit, found once a body may exceed it
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.floor:
                    max_bytes = self.limit_for(scope["path"])
                    if int(value) > max_bytes:
                        await _too_large(scope, send, max_bytes)
                        return
                break
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.floor:
                max_bytes = max_bytes or self.limit_for(scope["path"])
                if size > max_bytes:
                    await _too_large(scope, send, max_bytes)
                    return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if nul.in_json(body) and (loc := _nul_in_json(body)) is not None:
            await _refuse_nul(scope, send, loc)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _nul_in_url(scope: Scope) -> list[str | int]:
    if "\x00" in scope["path"]:
        return ["path"]
    query = scope["query_string"].decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return ["query", name.replace("\x00", REPLACEMENT)]
    return ["query"]


def _nul_in_json(body: bytes) -> list[str | int] | None:
    """Where a NUL is in JSON ``body``; ``None`` if there is none, or if the body is not
    JSON (the route reports that, or takes another format: a CSV's text "\\u0000")."""
    try:
        return nul.locate(json.loads(body), ["body"])
    except (ValueError, RecursionError):
        return None


async def _too_large(scope: Scope, send: Send, max_bytes: int) -> None:
    await _reject(scope, send, 413, "payload_too_large",
                  f"request body is larger than {max_bytes} bytes", {"max_bytes": max_bytes})


async def _refuse_nul(scope: Scope, send: Send, loc: list[str | int]) -> None:
    shown = [part.replace("\x00", REPLACEMENT) if isinstance(part, str) else part
             for part in loc]
    where = ".".join(str(part) for part in shown)
    await _reject(scope, send, 422, "validation_error", f"{where}: {nul.MESSAGE}",
                  {"errors": [{"loc": shown, "msg": nul.MESSAGE}]})


async def _reject(scope: Scope, send: Send, status: int, code: str, message: str,
                  details: dict[str, object]) -> None:
    request_id = scope.get("state", {}).get("request_id", "")
    body = json.dumps({"error": {"code": code, "message": message, "details": details,
                                 "request_id": request_id}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
