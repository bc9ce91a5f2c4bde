"""Any server that speaks OpenAI Chat Completions: vLLM, Ollama, Groq, Together, Mistral,
DeepSeek, LiteLLM and other proxies.

URL rule: ``base_url`` is used exactly as given and ``/chat/completions`` is
appended (a trailing slash is dropped first). These servers put the API root at
different paths, so the base URL must include it::

    vLLM       http://host:8000/v1             → http://host:8000/v1/chat/completions
    Ollama     http://localhost:11434/v1       → …/v1/chat/completions
    Groq       https://api.groq.com/openai/v1  → …/openai/v1/chat/completions
    Together   https://api.together.xyz/v1
    Mistral    https://api.mistral.ai/v1
    DeepSeek   https://api.deepseek.com        (or …/v1; both are served)

The API key is optional (local servers often need none); when given it is sent
as ``Authorization: Bearer``. The output length goes in ``max_tokens``, the field
all of these servers accept.
"""

from __future__ import annotations

from typing import ClassVar

from scope_api.providers.adapters.openai import OpenAIFormat
from scope_api.providers.types import CompletionRequest, ProviderConfig


class OpenAICompatibleAdapter(OpenAIFormat):
    """OpenAI's wire format at a custom base URL."""

    kind: ClassVar[str] = "openai_compatible"
    display_name: ClassVar[str] = "OpenAI-compatible provider"

    def __init__(self, *, require_key: bool = False, stand_in_key: str | None = None) -> None:
        super().__init__(require_key=require_key, stand_in_key=stand_in_key)

    def url(self, base_url: str, request: CompletionRequest, config: ProviderConfig) -> str:
        return f"{base_url}/chat/completions"
