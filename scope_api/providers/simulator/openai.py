"""OpenAI Chat Completions (``POST /v1/chat/completions``) and its Azure variant.

Azure OpenAI serves the same body at
``POST /openai/deployments/{deployment}/chat/completions?api-version=…`` with an
``api-key`` header; the model defaults to the deployment name, and its gateway
errors (401, 404, 429) have Azure's ``{"error": {"code", "message"}}`` shape.
"""

from __future__ import annotations

import time
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
    json_type,
)

_ROLES = ("system", "developer", "user", "assistant", "tool", "function")
_RESPONSE_FORMATS = ("text", "json_object", "json_schema")
_MAX_STOP = 4

_MESSAGES: dict[Failure, tuple[int, str, str | None, str]] = {
    # failure: (status, type, code, message)
    Failure.INVALID_REQUEST: (400, "invalid_request_error", None, "Invalid request."),
    Failure.UNAUTHENTICATED: (
        401, "invalid_request_error", None,
        "You didn't provide an API key. You need to provide your API key in an "
        "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."),
    Failure.NOT_FOUND: (404, "invalid_request_error", "unknown_url", "Unknown request URL."),
    Failure.RATE_LIMITED: (
        429, "requests", "rate_limit_exceeded",
        "Rate limit reached for requests per min (RPM) in the simulator. "
        "Please try again later."),
    Failure.SERVER_ERROR: (
        500, "server_error", None,
        "The server had an error while processing your request. Sorry about that!"),
    Failure.UNAVAILABLE: (
        503, "service_unavailable_error", "server_is_overloaded",
        "The server is overloaded or not ready yet."),
    Failure.OVERLOADED: (
        503, "service_unavailable_error", "server_is_overloaded",
        "The server is overloaded or not ready yet."),
}


def _type_error(param: str, expected: str, value: object) -> InvalidRequest:
    return InvalidRequest(f"Invalid type for '{param}': expected {expected}, but got "
                          f"{json_type(value)} instead.", param=param, code="invalid_type")


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if not is_number(value):
        raise _type_error(name, "a decimal", value)
    if value < low:
        raise InvalidRequest(f"Invalid '{name}': decimal below minimum value. Expected a "
                             f"value >= {low:g}, but got {value} instead.", param=name,
                             code="decimal_below_min_value")
    if value > high:
        raise InvalidRequest(f"Invalid '{name}': decimal above maximum value. Expected a "
                             f"value <= {high:g}, but got {value} instead.", param=name,
                             code="decimal_above_max_value")
    return float(value)


def _max_tokens(body: dict[str, Any]) -> int | None:
    name = "max_completion_tokens" if body.get("max_completion_tokens") is not None \
        else "max_tokens"
    value = body.get(name)
    if value is None:
        return None
    if not is_integer(value):
        raise _type_error(name, "an integer", value)
    if value < 1:
        raise InvalidRequest(f"Invalid '{name}': integer below minimum value. Expected a "
                             f"value >= 1, but got {value} instead.", param=name,
                             code="integer_below_min_value")
    return int(value)


def _stop(body: dict[str, Any]) -> tuple[str, ...]:
    value = body.get("stop")
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _type_error("stop", "a string or an array of strings", value)
    if len(value) > _MAX_STOP:
        raise InvalidRequest(f"Invalid 'stop': array too long. Expected an array with "
                             f"maximum length {_MAX_STOP}, but got an array with length "
                             f"{len(value)} instead.", param="stop", code="array_above_max_length")
    return tuple(value)


def _json_mode(body: dict[str, Any]) -> bool:
    value = body.get("response_format")
    if value is None:
        return False
    if not isinstance(value, dict):
        raise _type_error("response_format", "an object", value)
    kind = value.get("type")
    if kind not in _RESPONSE_FORMATS:
        raise InvalidRequest(f"Invalid value: {kind!r}. Supported values are: 'text', "
                             "'json_object', and 'json_schema'.",
                             param="response_format.type", code="invalid_value")
    return bool(kind != "text")


def _content(value: object, where: str, role: str) -> tuple[str, int]:
    """(text, number of non-text parts) of one message's content."""
    if value is None:
        if role == "assistant":  # an assistant turn that only called tools
            return "", 0
        raise InvalidRequest(f"Missing required parameter: '{where}.content'.",
                             param=f"{where}.content", code="missing_required_parameter")
    if isinstance(value, str):
        return value, 0
    if not isinstance(value, list):
        raise _type_error(f"{where}.content", "a string or an array of content parts", value)
    texts: list[str] = []
    non_text = 0
    for index, part in enumerate(value):
        here = f"{where}.content[{index}]"
        if not isinstance(part, dict):
            raise _type_error(here, "an object", part)
        if part.get("type") in ("text", "refusal"):
            text = part.get(part["type"])
            if not isinstance(text, str):
                raise _type_error(f"{here}.{part['type']}", "a string", text)
            texts.append(text)
        elif isinstance(part.get("type"), str):
            non_text += 1
        else:
            raise InvalidRequest(f"Missing required parameter: '{here}.type'.",
                                 param=f"{here}.type", code="missing_required_parameter")
    return "\n".join(texts), non_text


class OpenAIChat:
    """``POST /v1/chat/completions``."""

    name: ClassVar[str] = "openai"
    bad_json_message: ClassVar[str] = (
        "We could not parse the JSON body of your request. (HINT: This likely means you "
        "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
        "but what was sent was not valid JSON.)")

    def check_access(self, request: Request) -> Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return self.error(Failure.UNAUTHENTICATED)
        return None

    def model(self, body: dict[str, Any], request: Request) -> str:
        model = body.get("model")
        if model is None:
            raise InvalidRequest("you must provide a model parameter")
        if not isinstance(model, str):
            raise _type_error("model", "a string", model)
        return model

    def parse(self, body: dict[str, Any], request: Request) -> Prompt:
        model = self.model(body, request)
        if body.get("stream"):
            raise InvalidRequest("The simulator does not stream: omit 'stream' or send false.",
                                 param="stream", code="unsupported_value")
        messages = body.get("messages")
        if messages is None:
            raise InvalidRequest("Missing required parameter: 'messages'.", param="messages",
                                 code="missing_required_parameter")
        if not isinstance(messages, list):
            raise _type_error("messages", "an array", messages)
        if not messages:
            raise InvalidRequest("Invalid 'messages': empty array. Expected an array with "
                                 "minimum length 1, but got an empty array instead.",
                                 param="messages", code="empty_array")
        system: list[str] = []
        turns: list[tuple[str, str]] = []
        non_text = 0
        for index, message in enumerate(messages):
            where = f"messages[{index}]"
            if not isinstance(message, dict):
                raise _type_error(where, "an object", message)
            role = message.get("role")
            if role not in _ROLES:
                raise InvalidRequest(
                    f"Invalid value: {role!r}. Supported values are: 'system', 'assistant', "
                    "'user', 'function', 'tool', and 'developer'.",
                    param=f"{where}.role", code="invalid_value")
            text, parts = _content(message.get("content"), where, role)
            non_text += parts
            if role in ("system", "developer"):
                system.append(text)
            else:
                turns.append(("assistant" if role == "assistant" else "user", text))
        json_mode = _json_mode(body)
        if (body.get("response_format") or {}).get("type") == "json_object" and not any(
                "json" in text.lower() for text in [*system, *(t for _, t in turns)]):
            raise InvalidRequest("'messages' must contain the word 'json' in some form, to use "
                                 "'response_format' of type 'json_object'.",
                                 param="messages", code=None)
        return Prompt(model=model, system=tuple(system), turns=tuple(turns),
                      non_text_parts=non_text,
                      temperature=_number(body, "temperature", 0, 2),
                      top_p=_number(body, "top_p", 0, 1), max_tokens=_max_tokens(body),
                      stop=_stop(body), json_mode=json_mode)

    def render(self, prompt: Prompt, answer: Answer, *, usage: bool,
               request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": prompt.model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": answer.text, "refusal": None,
                            "annotations": []},
                "logprobs": None,
                "finish_reason": "length" if answer.finish == "length" else "stop",
            }],
            "service_tier": "default",
            "system_fingerprint": "fp_simulator",
        }
        if usage:
            body["usage"] = {
                "prompt_tokens": answer.input_tokens,
                "completion_tokens": answer.output_tokens,
                "total_tokens": answer.input_tokens + answer.output_tokens,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0,
                                              "rejected_prediction_tokens": 0},
            }
        return body

    def error(self, failure: Failure, message: str | None = None, *,
              param: str | None = None, code: str | None = None,
              retry_after_s: int | None = None) -> Response:
        status, kind, default_code, default_message = _MESSAGES[failure]
        return json_response({"error": {"message": message or default_message, "type": kind,
                                        "param": param, "code": code or default_code}},
                             status)


class AzureOpenAIChat(OpenAIChat):
    """``POST /openai/deployments/{deployment}/chat/completions?api-version=…``."""

    name: ClassVar[str] = "azure_openai"

    def check_access(self, request: Request) -> Response | None:
        bearer = request.headers.get("authorization", "").partition(" ")[2].strip()
        if not request.headers.get("api-key", "").strip() and not bearer:
            return self.error(Failure.UNAUTHENTICATED)
        if not request.query_params.get("api-version"):
            return self.error(Failure.NOT_FOUND)
        return None

    def model(self, body: dict[str, Any], request: Request) -> str:
        if body.get("model") is None:  # the deployment decides the model
            return str(request.path_params["deployment"])
        return super().model(body, request)

    def render(self, prompt: Prompt, answer: Answer, *, usage: bool,
               request: Request) -> dict[str, Any]:
        body = super().render(prompt, answer, usage=usage, request=request)
        del body["service_tier"]
        safe = {category: {"filtered": False, "severity": "safe"}
                for category in ("hate", "self_harm", "sexual", "violence")}
        body["prompt_filter_results"] = [{"prompt_index": 0, "content_filter_results": safe}]
        body["choices"][0]["content_filter_results"] = safe
        return body

    def error(self, failure: Failure, message: str | None = None, *,
              param: str | None = None, code: str | None = None,
              retry_after_s: int | None = None) -> Response:
        gateway = {
            Failure.UNAUTHENTICATED: (
                401, "Access denied due to invalid subscription key or wrong API endpoint. "
                "Make sure to provide a valid key for an active subscription and use a "
                "correct regional API endpoint for your resource."),
            Failure.NOT_FOUND: (404, "Resource not found"),
            Failure.RATE_LIMITED: (
                429, "Requests to the ChatCompletions_Create Operation under Azure OpenAI "
                "API have exceeded the rate limit of your current pricing tier in the "
                "simulator. Please retry after the time in the Retry-After header."),
        }
        if failure in gateway:
            status, default_message = gateway[failure]
            return json_response({"error": {"code": str(status),
                                            "message": message or default_message}}, status)
        return super().error(failure, message, param=param, code=code,
                             retry_after_s=retry_after_s)
