"""OpenAI Chat Completions: ``POST {base_url}/v1/chat/completions``, ``Authorization: Bearer``.

``base_url`` is the origin (default ``https://api.openai.com``); a base URL that
already ends in ``/v1`` (the habit from ``OPENAI_BASE_URL``) is accepted and the
``/v1`` is not doubled. The simulator serves this format at the same path, so its
origin works as a base URL unchanged.

The request uses ``max_completion_tokens``: OpenAI deprecated ``max_tokens`` and
its reasoning models reject it. Azure and OpenAI-compatible servers still take
``max_tokens`` (see those modules, which reuse :class:`OpenAIFormat`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from scope_api.providers.adapters._common import (
    HttpAdapter,
    as_int,
    need,
    openai_style_error,
)
from scope_api.providers.types import CompletionRequest, ProviderConfig, Usage


class OpenAIFormat(HttpAdapter):
    """The Chat Completions body and answer, shared by every OpenAI-format adapter."""

    supports_json_mode: ClassVar[bool] = True
    #: Name of the output-length field in the request body.
    max_tokens_field: ClassVar[str] = "max_tokens"
    #: Azure takes the model from the deployment in the URL, not from the body.
    model_in_body: ClassVar[bool] = True

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}

    def body(self, request: CompletionRequest, config: ProviderConfig) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.model_in_body:
            body["model"] = request.model
        body["messages"] = [{"role": m.role, "content": m.content} for m in request.messages]
        p = request.parameters
        if p.temperature is not None:
            body["temperature"] = p.temperature
        if p.top_p is not None:
            body["top_p"] = p.top_p
        if p.max_tokens is not None:
            body[self.max_tokens_field] = p.max_tokens
        if p.stop:
            body["stop"] = list(p.stop)
        if p.response_format == "json":
            body["response_format"] = {"type": "json_object"}
        return body

    def parse(self, data: Any) -> tuple[str, Usage, str | None, str | None]:
        choices = need(need(data, dict, "body")["choices"], list, "choices")
        choice = need(choices[0], dict, "choice")
        message = need(choice["message"], dict, "message")
        content = message.get("content")
        if content is None:  # a refusal or a content-filtered answer has no content
            content = message.get("refusal") or ""
        usage = data.get("usage")
        if isinstance(usage, dict):
            tokens = Usage(as_int(usage.get("prompt_tokens")),
                           as_int(usage.get("completion_tokens")))
        else:
            tokens = Usage(None, None)
        model = data.get("model")
        reason = choice.get("finish_reason")
        return (need(content, str, "content"), tokens,
                model if isinstance(model, str) else None,
                reason if isinstance(reason, str) else None)

    def error_details(self, data: Any) -> tuple[str | None, float | None]:
        return openai_style_error(data)


class OpenAIAdapter(OpenAIFormat):
    """OpenAI's own API."""

    kind: ClassVar[str] = "openai"
    display_name: ClassVar[str] = "OpenAI"
    default_base_url: ClassVar[str] = "https://api.openai.com"
    max_tokens_field: ClassVar[str] = "max_completion_tokens"

    def url(self, base_url: str, request: CompletionRequest, config: ProviderConfig) -> str:
        if base_url.endswith("/v1"):
            return f"{base_url}/chat/completions"
        return f"{base_url}/v1/chat/completions"
