# Generated from scope_lab/_async by scripts/gen_sync.py: do not edit.
"""LLM providers (keys are write-only) and the priced model catalog."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from scope_lab._sync.resources._base import Resource, segment
from scope_lab.models import Model, Provider, ProviderKind

_UNSET: Any = object()


class Providers(Resource):
    """``scope.providers``: where executions are sent; API keys go in and never come out."""

    def list(self) -> Iterator[Provider]:
        """All configured providers."""
        for provider in self._api.items("/providers", Provider.model_validate):
            yield provider

    def create(self, name: str, kind: ProviderKind, *, base_url: str | None = None,
                     api_key: str | None = None, enabled_models: Sequence[str] = (),
                     options: Mapping[str, Any] | None = None) -> Provider:
        """Configure a provider (``kind="simulator"`` needs neither key nor URL)."""
        body: dict[str, Any] = {"name": name, "kind": kind, "base_url": base_url,
                                "api_key": api_key, "enabled_models": list(enabled_models),
                                "options": dict(options or {})}
        return Provider.model_validate(self._api.json("POST", "/providers", json=body))

    def retrieve(self, name: str) -> Provider:
        """One provider (with at most a hint of its key)."""
        return Provider.model_validate(
            self._api.json("GET", f"/providers/{segment(name)}"))

    def update(self, name: str, *, base_url: str | None = _UNSET,
                     api_key: str | None = _UNSET, enabled_models: Sequence[str] = _UNSET,
                     options: Mapping[str, Any] = _UNSET) -> Provider:
        """Change settings; only the arguments given are sent (``api_key=None`` clears the key)."""
        body: dict[str, Any] = {}
        if base_url is not _UNSET:
            body["base_url"] = base_url
        if api_key is not _UNSET:
            body["api_key"] = api_key
        if enabled_models is not _UNSET:
            body["enabled_models"] = [*enabled_models]
        if options is not _UNSET:
            body["options"] = dict(options)
        return Provider.model_validate(
            self._api.json("PATCH", f"/providers/{segment(name)}", json=body))

    def delete(self, name: str) -> None:
        """Remove a provider."""
        self._api.request("DELETE", f"/providers/{segment(name)}")


class Models(Resource):
    """``scope.models``: the catalog of models with context windows and prices."""

    def list(self, *, provider: str | None = None) -> Iterator[Model]:
        """Models of every configured provider, or of one."""
        for model in self._api.items("/models", Model.model_validate,
                                           {"provider": provider}):
            yield model

    def set_price(self, provider: str, model: str, *, input_per_mtok_usd: float,
                        output_per_mtok_usd: float,
                        context_window: int | None = None) -> Model:
        """Override the catalog's price of a model for this tenant."""
        body = {"input_per_mtok_usd": input_per_mtok_usd,
                "output_per_mtok_usd": output_per_mtok_usd, "context_window": context_window}
        return Model.model_validate(self._api.json(
            "PUT", _price_path(provider, model), json=body))

    def reset_price(self, provider: str, model: str) -> None:
        """Drop this tenant's price override: the catalog price applies again."""
        self._api.request("DELETE", _price_path(provider, model))


def _price_path(provider: str, model: str) -> str:
    # Model names may contain "/" (e.g. "meta-llama/Llama-3.1-8B"): the route takes a path.
    return f"/models/{segment(provider)}/{quote(model, safe='/')}/price"
