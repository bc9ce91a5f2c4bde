"""Google Gemini ``POST /v1beta/models/{model}:generateContent`` (``/v1`` too).

The key comes in ``x-goog-api-key`` or ``?key=`` (any non-empty value; none is
``403 PERMISSION_DENIED``, as the real API answers unregistered callers). Like
the real API, unknown field names are refused (``400 INVALID_ARGUMENT``), and
both the JSON (``generationConfig``) and proto (``generation_config``) spellings
are accepted. Zero token counts are omitted, as proto3 JSON does.
"""

from __future__ import annotations

import re
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

_FIELDS = {"contents", "systemInstruction", "generationConfig", "safetySettings", "tools",
           "toolConfig", "cachedContent", "model", "labels"}
_CONFIG_FIELDS = {"stopSequences", "responseMimeType", "responseSchema", "responseJsonSchema",
                  "responseModalities", "candidateCount", "maxOutputTokens", "temperature",
                  "topP", "topK", "seed", "presencePenalty", "frequencyPenalty",
                  "responseLogprobs", "logprobs", "enableEnhancedCivicAnswers", "speechConfig",
                  "thinkingConfig", "imageConfig", "mediaResolution"}
_MIME_TYPES = ("text/plain", "application/json", "application/xml", "application/yaml",
               "text/x.enum")
_MAX_STOP = 5
_ERRORS: dict[Failure, tuple[int, str, str]] = {
    Failure.INVALID_REQUEST: (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    Failure.UNAUTHENTICATED: (
        403, "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API."),
    Failure.NOT_FOUND: (404, "NOT_FOUND", "Requested entity was not found."),
    Failure.RATE_LIMITED: (
        429, "RESOURCE_EXHAUSTED",
        "You exceeded your current quota in the simulator. Please retry later."),
    Failure.SERVER_ERROR: (500, "INTERNAL", "An internal error has occurred. Please retry."),
    Failure.UNAVAILABLE: (503, "UNAVAILABLE",
                          "The model is overloaded. Please try again later."),
    Failure.OVERLOADED: (503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
}


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda match: match.group(1).upper(), name)


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda match: "_" + match.group(1).lower(), name)


def _fields(obj: dict[str, Any], known: set[str], where: str | None) -> dict[str, Any]:
    """``obj`` keyed by camelCase names; unknown names are the API's 400."""
    fields: dict[str, Any] = {}
    for name, value in obj.items():
        if _camel(name) not in known:
            at = f" at '{where}'" if where else ""
            raise InvalidRequest(f'Invalid JSON payload received. Unknown name "{name}"{at}: '
                                 "Cannot find field.")
        fields[_camel(name)] = value
    return fields


def _invalid_value(where: str, kind: str, value: object) -> InvalidRequest:
    return InvalidRequest(f"Invalid value at '{where}' ({kind}), {value!r}")


def _violation(where: str, problem: str) -> InvalidRequest:
    return InvalidRequest(f"* GenerateContentRequest.{where}: {problem}\n")


def _parts(content: object, where: str) -> tuple[str | None, str, int]:
    """(role, text, non-text parts) of one ``Content``."""
    if not isinstance(content, dict):
        raise _invalid_value(where, "type.googleapis.com/google.ai.generativelanguage."
                             "v1beta.Content", content)
    role = content.get("role")
    if role is not None and role not in ("user", "model"):
        raise InvalidRequest("Please use a valid role: user, model.")
    parts = content.get("parts")
    if not isinstance(parts, list) or not parts:
        raise _violation(f"{where}.parts", "contents.parts must not be empty.")
    texts: list[str] = []
    non_text = 0
    for index, part in enumerate(parts):
        if not isinstance(part, dict):
            raise _invalid_value(f"{where}.parts[{index}]", "type.googleapis.com/google.ai."
                                 "generativelanguage.v1beta.Part", part)
        if "text" in part:
            if not isinstance(part["text"], str):
                raise _invalid_value(f"{where}.parts[{index}].text", "TYPE_STRING",
                                     part["text"])
            texts.append(part["text"])
        else:
            non_text += 1
    return role, "".join(texts), non_text


def _config(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid_value("generation_config", "type.googleapis.com/google.ai."
                             "generativelanguage.v1beta.GenerationConfig", value)
    config = _fields(value, _CONFIG_FIELDS, "generation_config")
    for name, high in (("temperature", 2.0), ("topP", 1.0)):
        number = config.get(name)
        if number is None:
            continue
        if not is_number(number):
            raise _invalid_value(f"generation_config.{_snake(name)}", "TYPE_FLOAT", number)
        if not 0 <= number <= high:
            raise _violation(f"generation_config.{_snake(name)}",
                             f"{_snake(name)} must be in the range [0, {high:g}].")
    limit = config.get("maxOutputTokens")
    if limit is not None:
        if not is_integer(limit):
            raise _invalid_value("generation_config.max_output_tokens", "TYPE_INT32", limit)
        if limit < 1:
            raise _violation("generation_config.max_output_tokens",
                             "max_output_tokens must be positive.")
    stop = config.get("stopSequences")
    if stop is not None:
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise _invalid_value("generation_config.stop_sequences", "TYPE_STRING", stop)
        if len(stop) > _MAX_STOP:
            raise _violation("generation_config.stop_sequences",
                             f"stop_sequences must have at most {_MAX_STOP} elements.")
    mime = config.get("responseMimeType")
    if mime is not None and mime not in _MIME_TYPES:
        raise _violation("generation_config.response_mime_type",
                         "allowed mimetypes are " + ", ".join(f"`{m}`" for m in _MIME_TYPES)
                         + ".")
    return config


class GeminiGenerateContent:
    """``POST /v1beta/models/{model}:generateContent``."""

    name: ClassVar[str] = "gemini"
    bad_json_message: ClassVar[str] = "Invalid JSON payload received. Unexpected token."

    def check_access(self, request: Request) -> Response | None:
        key = request.headers.get("x-goog-api-key") or request.query_params.get("key")
        if not (key or "").strip():
            return self.error(Failure.UNAUTHENTICATED)
        return None

    def parse(self, body: dict[str, Any], request: Request) -> Prompt:
        fields = _fields(body, _FIELDS, None)
        contents = fields.get("contents")
        if contents is None or contents == []:
            raise _violation("contents", "contents is not specified")
        if not isinstance(contents, list):
            raise _invalid_value("contents", "type.googleapis.com/google.ai."
                                 "generativelanguage.v1beta.Content", contents)
        turns: list[tuple[str, str]] = []
        non_text = 0
        for index, content in enumerate(contents):
            role, text, parts = _parts(content, f"contents[{index}]")
            turns.append(("assistant" if role == "model" else "user", text))
            non_text += parts
        system: tuple[str, ...] = ()
        if fields.get("systemInstruction") is not None:
            _, text, parts = _parts(fields["systemInstruction"], "system_instruction")
            system, non_text = (text,), non_text + parts
        config = _config(fields.get("generationConfig"))
        return Prompt(model=str(request.path_params["model"]), system=system,
                      turns=tuple(turns), non_text_parts=non_text,
                      temperature=config.get("temperature"), top_p=config.get("topP"),
                      max_tokens=config.get("maxOutputTokens"),
                      stop=tuple(config.get("stopSequences") or ()),
                      json_mode=config.get("responseMimeType") == "application/json")

    def render(self, prompt: Prompt, answer: Answer, *, usage: bool,
               request: Request) -> dict[str, Any]:
        content: dict[str, Any] = {"role": "model"}
        if answer.text:  # an empty answer comes without parts, as Gemini sends it
            content = {"parts": [{"text": answer.text}], "role": "model"}
        body: dict[str, Any] = {
            "candidates": [{"content": content,
                            "finishReason": "MAX_TOKENS" if answer.finish == "length"
                            else "STOP",
                            "index": 0}],
        }
        if usage:
            metadata: dict[str, Any] = {"promptTokenCount": answer.input_tokens}
            if answer.output_tokens:
                metadata["candidatesTokenCount"] = answer.output_tokens
            metadata["totalTokenCount"] = answer.input_tokens + answer.output_tokens
            metadata["promptTokensDetails"] = [{"modality": "TEXT",
                                                "tokenCount": answer.input_tokens}]
            body["usageMetadata"] = metadata
        body["modelVersion"] = prompt.model
        body["responseId"] = uuid.uuid4().hex[:22]
        return body

    def error(self, failure: Failure, message: str | None = None, *,
              param: str | None = None, code: str | None = None,
              retry_after_s: int | None = None) -> Response:
        status, grpc_status, default_message = _ERRORS[failure]
        error: dict[str, Any] = {"code": status, "message": message or default_message,
                                 "status": grpc_status}
        if failure is Failure.RATE_LIMITED:
            error["details"] = [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                 "violations": [{"quotaMetric": "generativelanguage.googleapis.com/"
                                                "generate_content_requests",
                                 "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                                 "quotaDimensions": {"location": "global",
                                                     "model": "simulated"},
                                 "quotaValue": "0"}]},
                {"@type": "type.googleapis.com/google.rpc.Help",
                 "links": [{"description": "Learn more about Gemini API quotas",
                            "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo",
                 "retryDelay": f"{retry_after_s or 0}s"},
            ]
        return json_response({"error": error}, status)
