"""Google Gemini ``generateContent``: ``POST {base_url}/v1beta/models/{model}:generateContent``.

``base_url`` is the origin (default ``https://generativelanguage.googleapis.com``).
The key goes in the ``x-goog-api-key`` header, never in the ``?key=`` query the
docs also allow: a URL ends up in access logs, proxies and exception texts.

Mapping from the neutral request: system messages → ``systemInstruction``; the
``assistant`` role → ``model``; temperature, top_p, max_tokens and stop →
``generationConfig`` (``temperature``, ``topP``, ``maxOutputTokens``,
``stopSequences``); JSON mode → ``responseMimeType: application/json``. A model
given as ``models/…`` is accepted; the name is percent-encoded into the path.

Answers: the text parts of the first candidate are concatenated (thought parts
skipped); ``finishReason`` is normalised (``STOP`` → ``stop``, ``MAX_TOKENS`` →
``length``, safety-type reasons → ``content_filter``, others lower-cased). Output
tokens are ``candidatesTokenCount + thoughtsTokenCount``: thinking is billed as
output, as it is in the other providers' output counts. Inside ``usageMetadata`` a
missing count is 0 (proto3 JSON omits zeros); no ``usageMetadata`` at all is
``None``. A prompt Gemini blocked
(no candidates, ``promptFeedback.blockReason``) is a non-retryable ProviderError.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar
from urllib.parse import quote

from scope_api.providers.adapters._common import HttpAdapter, as_int, need
from scope_api.providers.types import (
    CompletionRequest,
    Message,
    ProviderConfig,
    ProviderError,
    Usage,
)

_FILTERED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
             "IMAGE_SAFETY"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


class GeminiAdapter(HttpAdapter):
    """Google's Gemini API (Google AI Studio keys)."""

    kind: ClassVar[str] = "gemini"
    display_name: ClassVar[str] = "Gemini"
    supports_json_mode: ClassVar[bool] = True
    default_base_url: ClassVar[str] = "https://generativelanguage.googleapis.com"

    def url(self, base_url: str, request: CompletionRequest, config: ProviderConfig) -> str:
        model = request.model.removeprefix("models/")
        return f"{base_url}/v1beta/models/{quote(model, safe='')}:generateContent"

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"x-goog-api-key": api_key}

    def body(self, request: CompletionRequest, config: ProviderConfig) -> dict[str, Any]:
        body: dict[str, Any] = {"contents": [_content(m) for m in request.messages
                                             if m.role != "system"]}
        system = [{"text": m.content} for m in request.messages if m.role == "system"]
        if system:
            body["systemInstruction"] = {"parts": system}
        p = request.parameters
        generation: dict[str, Any] = {}
        if p.temperature is not None:
            generation["temperature"] = p.temperature
        if p.top_p is not None:
            generation["topP"] = p.top_p
        if p.max_tokens is not None:
            generation["maxOutputTokens"] = p.max_tokens
        if p.stop:
            generation["stopSequences"] = list(p.stop)
        if p.response_format == "json":
            generation["responseMimeType"] = "application/json"
        if generation:
            body["generationConfig"] = generation
        return body

    def parse(self, data: Any) -> tuple[str, Usage, str | None, str | None]:
        need(data, dict, "body")
        candidates = data.get("candidates")
        if not candidates:
            feedback = data.get("promptFeedback")
            reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
            if isinstance(reason, str):
                raise ProviderError(f"Gemini blocked the prompt ({reason})")
        candidate = need(need(candidates, list, "candidates")[0], dict, "candidate")
        # A candidate stopped by a safety filter may come without content.
        content = candidate.get("content") or {}
        parts = need(need(content, dict, "content").get("parts") or [], list, "parts")
        text = "".join(need(part.get("text", ""), str, "text") for part in parts
                       if need(part, dict, "part").get("thought") is not True)
        return (text, _usage(data.get("usageMetadata")),
                _str_or_none(data.get("modelVersion")),
                _finish_reason(candidate.get("finishReason")))

    def error_details(self, data: Any) -> tuple[str | None, float | None]:
        """``{"error": {"code", "message", "status", "details": [… RetryInfo …]}}``."""
        error = data.get("error") if isinstance(data, dict) else None
        if not isinstance(error, dict):
            return None, None
        delay = None
        for detail in error.get("details") or []:
            if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(
                    "google.rpc.RetryInfo"):
                match = _DURATION.match(str(detail.get("retryDelay", "")))
                delay = float(match.group(1)) if match else None
        return error.get("message"), delay


def _content(message: Message) -> dict[str, Any]:
    role = "model" if message.role == "assistant" else "user"
    return {"role": role, "parts": [{"text": message.content}]}


def _usage(metadata: object) -> Usage:
    # Proto3 JSON omits zero counts: inside usageMetadata, a missing count is 0.
    if not isinstance(metadata, dict):
        return Usage(None, None)

    def count(name: str) -> int | None:  # None: present but not a count
        return as_int(metadata.get(name, 0))

    candidates, thoughts = count("candidatesTokenCount"), count("thoughtsTokenCount")
    return Usage(count("promptTokenCount"),
                 None if candidates is None or thoughts is None else candidates + thoughts)


def _finish_reason(reason: object) -> str | None:
    if not isinstance(reason, str):
        return None
    if reason == "STOP":
        return "stop"
    if reason == "MAX_TOKENS":
        return "length"
    return "content_filter" if reason in _FILTERED else reason.lower()


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
