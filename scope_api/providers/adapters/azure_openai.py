"""Azure OpenAI: the Chat Completions format behind an Azure resource.

``POST {base_url}/openai/deployments/{deployment}/chat/completions?api-version=…``
with the key in the ``api-key`` header. ``base_url`` is the resource endpoint,
``https://{resource}.openai.azure.com`` (required: there is no default).

Options: ``deployments`` maps a model name to its deployment name (default: the
model name itself, the common convention); ``api_version`` overrides
:data:`DEFAULT_API_VERSION`, the current GA data-plane inference version. The
model travels in the URL as the deployment, so the body carries no ``model``.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import quote, urlencode

from scope_api.providers.adapters.openai import OpenAIFormat
from scope_api.providers.types import CompletionRequest, ProviderConfig

DEFAULT_API_VERSION = "2024-10-21"


class AzureOpenAIAdapter(OpenAIFormat):
    """A deployment on an Azure OpenAI resource."""

    kind: ClassVar[str] = "azure_openai"
    display_name: ClassVar[str] = "Azure OpenAI"
    model_in_body: ClassVar[bool] = False

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"api-key": api_key}

    def url(self, base_url: str, request: CompletionRequest, config: ProviderConfig) -> str:
        # Both checked when the options were saved and loaded (providers.options).
        deployments = config.options.get("deployments") or {}
        api_version = config.options.get("api_version") or DEFAULT_API_VERSION
        deployment = deployments.get(request.model, request.model)
        query = urlencode({"api-version": api_version})
        return (f"{base_url}/openai/deployments/{quote(deployment, safe='')}"
                f"/chat/completions?{query}")
