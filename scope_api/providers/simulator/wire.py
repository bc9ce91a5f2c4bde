"""What every simulated wire format provides, and the failures they can answer."""

from __future__ import annotations

import enum
from typing import Any, ClassVar, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from scope_api.providers.simulator.behaviour import Answer, Prompt


class Failure(enum.Enum):
    """A failure the simulator answers; each format renders it in its own shape."""

    INVALID_REQUEST = "invalid_request"
    UNAUTHENTICATED = "unauthenticated"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    OVERLOADED = "overloaded"


class InvalidRequest(Exception):
    """The request body is not what the provider accepts (its ``400``)."""

    def __init__(self, message: str, *, param: str | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


class WireFormat(Protocol):
    """One provider's request parsing, response rendering and error bodies."""

    name: ClassVar[str]
    #: The provider's message for a body that is not JSON.
    bad_json_message: ClassVar[str]

    def check_access(self, request: Request) -> Response | None:
        """The provider's refusal when credentials or required headers are missing."""
        ...

    def parse(self, body: dict[str, Any], request: Request) -> Prompt:
        """The prompt in a JSON body; raises :class:`InvalidRequest`."""
        ...

    def render(self, prompt: Prompt, answer: Answer, *, usage: bool,
               request: Request) -> dict[str, Any]:
        """The provider's success body (``usage=False``: without usage fields)."""
        ...

    def error(self, failure: Failure, message: str | None = None, *,
              param: str | None = None, code: str | None = None,
              retry_after_s: int | None = None) -> Response:
        """The provider's error response for ``failure``."""
        ...


def json_response(body: dict[str, Any], status: int) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_integer(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def json_type(value: object) -> str:
    """The JSON type name of a decoded value, as providers name it in errors."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
