"""Anthropic Messages: ``POST {base_url}/v1/messages`` with ``x-api-key`` and
``anthropic-version: 2023-06-01``.

``base_url`` is the origin (default ``https://api.anthropic.com``).

Mapping from the neutral request: system messages are joined (blank line
between) into the top-level ``system`` field, the rest stay in ``messages``;
``stop`` becomes ``stop_sequences``. Anthropic requires ``max_tokens``, so
:data:`DEFAULT_MAX_TOKENS` is sent when the caller set none. The Messages API has
no JSON-mode switch: ``supports_json_mode`` is False and a ``json`` response
format is not sent (the caller checks the capability first).

Answers: the text blocks of ``content`` are concatenated; ``stop_reason`` is
normalised to the Chat Completions vocabulary (``end_turn``/``stop_sequence`` →
``stop``, ``max_tokens`` → ``length``, ``refusal`` → ``content_filter``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from scope_api.providers.adapters._common import HttpAdapter, as_int, need
from scope_api.providers.types import CompletionRequest, ProviderConfig, Usage

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
_FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
                   "refusal": "content_filter"}


class AnthropicAdapter(HttpAdapter):
    """Anthropic's Messages API."""

    kind: ClassVar[str] = "anthropic"
    display_name: ClassVar[str] = "Anthropic"
    supports_json_mode: ClassVar[bool] = False
    default_base_url: ClassVar[str] = "https://api.anthropic.com"

    def url(self, base_url: str, request: CompletionRequest, config: ProviderConfig) -> str:
        return f"{base_url}/v1/messages"

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"x-api-key": api_key, "anthropic-version": ANTHROPIC_VERSION}

    def body(self, request: CompletionRequest, config: ProviderConfig) -> dict[str, Any]:
        p = request.parameters
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": p.max_tokens if p.max_tokens is not None else DEFAULT_MAX_TOKENS,
        }
        system = [m.content for m in request.messages if m.role == "system"]
        if system:
            body["system"] = "\n\n".join(system)
        body["messages"] = [{"role": m.role, "content": m.content}
                            for m in request.messages if m.role != "system"]
        if p.temperature is not None:
            body["temperature"] = p.temperature
        if p.top_p is not None:
            body["top_p"] = p.top_p
        if p.stop:
            body["stop_sequences"] = list(p.stop)
        return body

    def parse(self, data: Any) -> tuple[str, Usage, str | None, str | None]:
        blocks = need(need(data, dict, "body")["content"], list, "content")
        text = "".join(need(block.get("text"), str, "text") for block in blocks
                       if need(block, dict, "block").get("type") == "text")
        usage = data.get("usage")
        if isinstance(usage, dict):
            tokens = Usage(as_int(usage.get("input_tokens")), as_int(usage.get("output_tokens")))
        else:
            tokens = Usage(None, None)
        model = data.get("model")
        reason = data.get("stop_reason")
        return (text, tokens, model if isinstance(model, str) else None,
                _FINISH_REASONS.get(reason, reason) if isinstance(reason, str) else None)

    def error_details(self, data: Any) -> tuple[str | None, float | None]:
        """``{"type": "error", "error": {"type": "…", "message": "…"}}``."""
        error = data.get("error") if isinstance(data, dict) else None
        if isinstance(error, dict):
            return error.get("message"), None
        return None, None
