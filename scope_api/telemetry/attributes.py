"""The attributes of an execution span: GenAI semantic conventions, then ``scope.*``.

Pure functions of what the engine knows about an execution. Nothing here sees a
provider config: the base URL contributes its host and port only, so no
credential can reach a span. Prompt and completion text only when asked to.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scope_api.providers.types import (
    CompletionRequest,
    CompletionResult,
    ProviderError,
    ProviderTimeout,
)

#: ``gen_ai.provider.name`` per provider kind (the conventions' well-known values).
PROVIDER_NAMES = {"openai": "openai", "anthropic": "anthropic", "gemini": "gcp.gemini",
                  "azure_openai": "azure.ai.openai", "simulator": "scope.simulator"}
#: ``openai_compatible`` hosts that have a well-known value of their own; others are "openai".
COMPATIBLE_HOSTS = {"api.groq.com": "groq", "api.deepseek.com": "deepseek",
                    "api.mistral.ai": "mistral_ai", "api.x.ai": "x_ai",
                    "api.perplexity.ai": "perplexity", "api.cohere.ai": "cohere",
                    "api.cohere.com": "cohere"}
#: Providers whose APIs take system instructions apart from the chat history.
_SEPARATE_SYSTEM = frozenset({"anthropic", "gcp.gemini"})


@dataclass(frozen=True, slots=True)
class ExecutionInfo:
    """What the engine knows about an execution before calling the provider."""

    execution_id: str
    tenant: str
    prompt_name: str
    prompt_version: int
    provider_name: str  #: the configured provider's name, e.g. ``openai-main``
    provider_kind: str  #: ``openai``, ``anthropic``, ``gemini``, ``azure_openai``, …
    request: CompletionRequest
    base_url: str | None = None  #: gives ``server.address`` / ``server.port`` only


def provider_name(kind: str, base_url: str | None = None) -> str:
    """The ``gen_ai.provider.name`` for a provider kind (and, if compatible, its host)."""
    if kind == "openai_compatible":
        host = dict(_server_of(base_url)).get("server.address") if base_url else None
        return COMPATIBLE_HOSTS.get(host or "", "openai")
    return PROVIDER_NAMES.get(kind, kind)


def error_type(error: BaseException | str) -> str:
    """A low-cardinality ``error.type``: ``timeout``, the provider's HTTP status, or a name."""
    if isinstance(error, str):
        return error
    if isinstance(error, ProviderTimeout):
        return "timeout"
    if isinstance(error, ProviderError):
        return str(error.status) if error.status is not None else error.code
    return type(error).__qualname__


def status_message(error: BaseException | str) -> str:
    """The span status description: a provider error's safe message, else the type."""
    if isinstance(error, ProviderError):  # its message is safe to show by contract
        return f"{error.code}: {error.message}"[:256]
    return error_type(error)  # other exceptions' text may hold anything


def _server(base_url: str | None) -> dict[str, Any]:
    return dict(_server_of(base_url)) if base_url else {}


@functools.lru_cache(maxsize=1024)
def _server_of(base_url: str) -> tuple[tuple[str, Any], ...]:
    # Parsed once per provider URL, not on every span.
    parts = urlsplit(base_url)
    if not parts.hostname:
        return ()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return (("server.address", parts.hostname),)
    return (("server.address", parts.hostname), ("server.port", port))


def _text(content: str) -> list[dict[str, str]]:
    return [{"type": "text", "content": content}]


def _content(execution: ExecutionInfo, provider: str,
             result: CompletionResult | None) -> dict[str, Any]:
    messages = execution.request.messages
    attrs: dict[str, Any] = {}
    if provider in _SEPARATE_SYSTEM:
        system = [part for m in messages if m.role == "system" for part in _text(m.content)]
        if system:
            attrs["gen_ai.system_instructions"] = json.dumps(system, ensure_ascii=False)
        messages = tuple(m for m in messages if m.role != "system")
    attrs["gen_ai.input.messages"] = json.dumps(
        [{"role": m.role, "parts": _text(m.content)} for m in messages], ensure_ascii=False)
    if result is not None:
        attrs["gen_ai.output.messages"] = json.dumps(
            [{"role": "assistant", "parts": _text(result.output),
              "finish_reason": result.finish_reason or "unknown"}], ensure_ascii=False)
    return attrs


def span_attributes(execution: ExecutionInfo, *, result: CompletionResult | None = None,
                    cost_usd: float | None = None, error: BaseException | str | None = None,
                    capture_content: bool = False) -> dict[str, Any]:
    """The span's attributes: GenAI conventions first, then ``scope.*``."""
    request = execution.request
    params = request.parameters
    provider = provider_name(execution.provider_kind, execution.base_url)
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": request.model,
        **_server(execution.base_url),
    }
    if params.temperature is not None:
        attrs["gen_ai.request.temperature"] = float(params.temperature)
    if params.max_tokens is not None:
        attrs["gen_ai.request.max_tokens"] = int(params.max_tokens)
    if params.top_p is not None:
        attrs["gen_ai.request.top_p"] = float(params.top_p)
    if params.stop:
        attrs["gen_ai.request.stop_sequences"] = list(params.stop)
    if params.response_format is not None:
        attrs["gen_ai.output.type"] = params.response_format
    if result is not None:
        if result.response_model is not None:
            attrs["gen_ai.response.model"] = result.response_model
        if result.finish_reason is not None:
            attrs["gen_ai.response.finish_reasons"] = [result.finish_reason]
        if result.usage.input_tokens is not None:
            attrs["gen_ai.usage.input_tokens"] = int(result.usage.input_tokens)
        if result.usage.output_tokens is not None:
            attrs["gen_ai.usage.output_tokens"] = int(result.usage.output_tokens)
    if error is not None:
        attrs["error.type"] = error_type(error)
    attrs["scope.execution.id"] = execution.execution_id
    attrs["scope.tenant"] = execution.tenant
    attrs["scope.prompt.name"] = execution.prompt_name
    attrs["scope.prompt.version"] = int(execution.prompt_version)
    attrs["scope.provider.name"] = execution.provider_name
    if cost_usd is not None:
        attrs["scope.cost_usd"] = float(cost_usd)
    if capture_content:
        attrs.update(_content(execution, provider, result))
    return attrs
