"""One adapter per wire format, and how a provider kind picks one.

=====================  ==========================================================
kind                   request
=====================  ==========================================================
``openai``             ``POST {base_url}/v1/chat/completions`` (base: origin)
``azure_openai``       ``POST {base_url}/openai/deployments/{d}/chat/completions``
``openai_compatible``  ``POST {base_url}/chat/completions`` (base used as given)
``anthropic``          ``POST {base_url}/v1/messages``
``gemini``             ``POST {base_url}/v1beta/models/{model}:generateContent``
``simulator``          by model prefix: ``sim-gpt-*`` → openai, ``sim-claude-*`` →
                       anthropic, ``sim-gemini-*`` → gemini; no key needed
                       (a fixed stand-in, :data:`SIMULATOR_KEY`, is sent)
=====================  ==========================================================

Adapters are stateless and shared; each ``complete`` call gets the provider's
:class:`~scope_api.providers.types.ProviderConfig` and the app's HTTP client.
"""

from __future__ import annotations

from scope_api.providers.adapters.anthropic import AnthropicAdapter
from scope_api.providers.adapters.azure_openai import AzureOpenAIAdapter
from scope_api.providers.adapters.gemini import GeminiAdapter
from scope_api.providers.adapters.openai import OpenAIAdapter
from scope_api.providers.adapters.openai_compatible import OpenAICompatibleAdapter
from scope_api.providers.types import Adapter, ProviderError

__all__ = ["ADAPTERS", "SIMULATED", "SIMULATOR_KEY", "adapter_for"]

ADAPTERS: dict[str, Adapter] = {
    "openai": OpenAIAdapter(),
    "azure_openai": AzureOpenAIAdapter(),
    "openai_compatible": OpenAICompatibleAdapter(),
    "anthropic": AnthropicAdapter(),
    "gemini": GeminiAdapter(),
}

#: The key the simulator kind sends: its server checks that one is present, as the
#: real providers do, and accepts any. It is not a secret.
SIMULATOR_KEY = "simulator"

#: The simulator kind: model-name prefix → the real adapter for that format.
SIMULATED: dict[str, Adapter] = {
    "sim-gpt-": OpenAIAdapter(stand_in_key=SIMULATOR_KEY),
    "sim-claude-": AnthropicAdapter(stand_in_key=SIMULATOR_KEY),
    "sim-gemini-": GeminiAdapter(stand_in_key=SIMULATOR_KEY),
}


def adapter_for(kind: str, model: str) -> Adapter:
    """The adapter that speaks ``kind``'s wire format (for ``simulator``, ``model``'s)."""
    if kind == "simulator":
        for prefix, adapter in SIMULATED.items():
            if model.startswith(prefix):
                return adapter
        raise ProviderError(
            f"the simulator has no model {model!r}: simulator models are named "
            f"{', '.join(p + '*' for p in SIMULATED)} (e.g. sim-gpt-mini)")
    try:
        return ADAPTERS[kind]
    except KeyError:
        raise ProviderError(f"unknown provider kind {kind!r}; known kinds: "
                            f"{', '.join([*ADAPTERS, 'simulator'])}") from None
