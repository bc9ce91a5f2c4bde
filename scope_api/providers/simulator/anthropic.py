"""Anthropic Messages (``POST /v1/messages``).

Requires ``x-api-key`` (any non-empty value, else ``401 authentication_error``)
and ``anthropic-version`` (else ``400``), and ``max_tokens`` in the body, as the
real API does. Error bodies are ``{"type": "error", "error": {"type",
"message"}, "request_id"}``.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from starlette.requests import Request
from starlette.responses import Response

from scope_api.providers.simulator.behaviour import Answer, Prompt
from scope_api.providers.simulator.wire import (
    Failure,
    InvalidRequest,
    is_integer,
    is_number,
    json_response,
)

_ERRORS: dict[Failure, tuple[int, str, str]] = {
    Failure.INVALID_REQUEST: (400, "invalid_request_error", "Invalid request."),
    Failure.UNAUTHENTICATED: (401, "authentication_error", "x-api-key header is required"),
    Failure.NOT_FOUND: (404, "not_found_error", "Not found"),
    Failure.RATE_LIMITED: (
        429, "rate_limit_error",
        "This request would exceed the simulator's rate limit for your organization. "
        "Please retry after the time in the retry-after header."),
    Failure.SERVER_ERROR: (500, "api_error", "Internal server error"),
    Failure.UNAVAILABLE: (503, "overloaded_error", "Service unavailable"),
    Failure.OVERLOADED: (529, "overloaded_error", "Overloaded"),
}
_STOP_REASONS = {"end": "end_turn", "stop": "stop_sequence", "length": "max_tokens"}


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if not is_number(value):
        raise InvalidRequest(f"{name}: Input should be a valid number")
    if not 0 <= value <= 1:
        raise InvalidRequest(f"{name}: Input should be between 0 and 1 (inclusive)")
    return float(value)


def _text_blocks(value: object, where: str) -> tuple[str, int]:
    """(text, number of non-text blocks) of a string or a list of content blocks."""
    if isinstance(value, str):
        return value, 0
    if not isinstance(value, list):
        raise InvalidRequest(f"{where}: Input should be a valid string or a list of "
                             "content blocks")
    texts: list[str] = []
    non_text = 0
    for index, block in enumerate(value):
        here = f"{where}.{index}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise InvalidRequest(f"{here}.type: Field required")
        if block["type"] == "text":
            if not isinstance(block.get("text"), str):
                raise InvalidRequest(f"{here}.text: Input should be a valid string")
            texts.append(block["text"])
        else:
            non_text += 1
    return "\n".join(texts), non_text


class AnthropicMessages:
    """``POST /v1/messages``."""

    name: ClassVar[str] = "anthropic"
    bad_json_message: ClassVar[str] = "There was an error parsing the body of your request: " \
        "it is not valid JSON."

    def check_access(self, request: Request) -> Response | None:
        if not request.headers.get("x-api-key", "").strip():
            return self.error(Failure.UNAUTHENTICATED)
        if not request.headers.get("anthropic-version", "").strip():
            return self.error(Failure.INVALID_REQUEST, "anthropic-version: header is required")
        return None

    def parse(self, body: dict[str, Any], request: Request) -> Prompt:
        for required in ("model", "messages", "max_tokens"):
            if body.get(required) is None:
                raise InvalidRequest(f"{required}: Field required")
        if not isinstance(body["model"], str):
            raise InvalidRequest("model: Input should be a valid string")
        max_tokens = body["max_tokens"]
        if not is_integer(max_tokens):
            raise InvalidRequest("max_tokens: Input should be a valid integer")
        if max_tokens < 1:
            raise InvalidRequest("max_tokens: Input should be greater than or equal to 1")
        if body.get("stream"):
            raise InvalidRequest("stream: the simulator does not stream; omit it or send false")
        messages = body["messages"]
        if not isinstance(messages, list):
            raise InvalidRequest("messages: Input should be a valid list")
        if not messages:
            raise InvalidRequest("messages: at least one message is required")
        turns: list[tuple[str, str]] = []
        non_text = 0
        for index, message in enumerate(messages):
            where = f"messages.{index}"
            if not isinstance(message, dict):
                raise InvalidRequest(f"{where}: Input should be a valid dictionary")
            role = message.get("role")
            if role not in ("user", "assistant"):
                hint = (" (use the top-level 'system' parameter for a system prompt)"
                        if role == "system" else "")
                raise InvalidRequest(f"{where}.role: Input should be 'user' or "
                                     f"'assistant'{hint}")
            if "content" not in message:
                raise InvalidRequest(f"{where}.content: Field required")
            text, blocks = _text_blocks(message["content"], f"{where}.content")
            turns.append((role, text))
            non_text += blocks
        system: tuple[str, ...] = ()
        if body.get("system") is not None:
            text, blocks = _text_blocks(body["system"], "system")
            system, non_text = (text,), non_text + blocks
        stop = body.get("stop_sequences")
        if stop is None:
            stop = []
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise InvalidRequest("stop_sequences: Input should be a valid list of strings")
        return Prompt(model=body["model"], system=system, turns=tuple(turns),
                      non_text_parts=non_text, temperature=_number(body, "temperature"),
                      top_p=_number(body, "top_p"), max_tokens=int(max_tokens),
                      stop=tuple(stop))

    def render(self, prompt: Prompt, answer: Answer, *, usage: bool,
               request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": f"msg_sim{uuid.uuid4().hex[:21]}",
            "type": "message",
            "role": "assistant",
            "model": prompt.model,
            "content": [{"type": "text", "text": answer.text}] if answer.text else [],
            "stop_reason": _STOP_REASONS[answer.finish],
            "stop_sequence": answer.stop_sequence,
        }
        if usage:
            body["usage"] = {"input_tokens": answer.input_tokens,
                             "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0,
                             "output_tokens": answer.output_tokens, "service_tier": "standard"}
        return body

    def error(self, failure: Failure, message: str | None = None, *,
              param: str | None = None, code: str | None = None,
              retry_after_s: int | None = None) -> Response:
        status, kind, default_message = _ERRORS[failure]
        return json_response({"type": "error",
                              "error": {"type": kind, "message": message or default_message},
                              "request_id": f"req_sim{uuid.uuid4().hex[:21]}"}, status)
