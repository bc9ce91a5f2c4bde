"""Providers, the model catalog and price overrides."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, SecretStr, StringConstraints, field_validator

from scope_api.providers import options as provider_options
from scope_api.schemas.common import Body, Name

ProviderKind = Literal["openai", "anthropic", "gemini", "azure_openai", "openai_compatible",
                       "simulator"]

MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$"
ModelName = Annotated[str, StringConstraints(pattern=MODEL_PATTERN)]
"""A provider's model id: ``gpt-4o-mini``, ``claude-haiku-4-5``, ``llama3.1:8b``, ``org/model``."""

MAX_OPTIONS_BYTES = 8192
_KEY_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))
MoneyPerMTok = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=16, decimal_places=9)]


class _ProviderChecks(Body):
    """Checks shared by create and update."""

    @field_validator("api_key", check_fields=False)
    @classmethod
    def check_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never includes the value: it is a secret.
        if value is None:
            return None
        key = value.get_secret_value().strip()
        if not 8 <= len(key) <= 4096 or not set(key) <= _KEY_CHARS:
            raise ValueError("api_key must be 8 to 4096 printable ASCII characters "
                             "without spaces")
        return SecretStr(key)

    @field_validator("enabled_models", check_fields=False)
    @classmethod
    def check_models(cls, models: list[str] | None) -> list[str] | None:
        if models is not None and len(set(models)) != len(models):
            raise ValueError("enabled_models lists a model twice")
        return models

    @field_validator("options", check_fields=False)
    @classmethod
    def check_options(cls, options: dict[str, Any] | None) -> dict[str, Any] | None:
        if options is None:
            return None
        found = provider_options.problem(options)
        if found is not None:
            raise ValueError(found)
        if len(json.dumps(options)) > MAX_OPTIONS_BYTES:
            raise ValueError(f"options must serialize to at most {MAX_OPTIONS_BYTES} bytes")
        return options


class ProviderCreate(_ProviderChecks):
    name: Name
    kind: ProviderKind
    base_url: str | None = Field(
        default=None, max_length=2048,
        description="http(s) URL of the API (scheme and host, optionally a path prefix). "
                    "Required for azure_openai and openai_compatible; refused for simulator.")
    api_key: SecretStr | None = Field(
        default=None, description="Write-only: stored encrypted, never returned. Required "
                                  "except for openai_compatible (optional) and simulator.")
    enabled_models: list[ModelName] = Field(
        default_factory=list, max_length=200,
        description="If not empty, `GET /models` lists exactly these models for the provider.")
    options: dict[str, Any] = Field(
        default_factory=dict, description="Kind-specific settings, e.g. azure `api_version`, "
                                          "simulator latency and faults.")


class ProviderUpdate(_ProviderChecks):
    """Only the fields present change; ``null`` clears ``base_url`` or ``api_key``."""

    base_url: str | None = Field(default=None, max_length=2048)
    api_key: SecretStr | None = Field(default=None, description="Replaces the key; null clears it.")
    enabled_models: list[ModelName] | None = Field(default=None, max_length=200)
    options: dict[str, Any] | None = None


class ProviderOut(BaseModel):
    name: str
    kind: ProviderKind
    base_url: str | None
    has_api_key: bool
    api_key_hint: str | None = Field(
        description='At most "…" and the last 4 characters of the key; null without a key.')
    enabled_models: list[str]
    options: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ModelOut(BaseModel):
    provider: str = Field(description="The configured provider's name.")
    kind: ProviderKind
    model: str
    context_window: int | None
    input_per_mtok_usd: float | None = Field(description="USD per million input tokens; "
                                                         "null: unknown (cost not recorded).")
    output_per_mtok_usd: float | None
    capabilities: list[str]
    price_source: Literal["catalog", "override", "unknown"]


class PriceOverride(Body):
    input_per_mtok_usd: MoneyPerMTok
    output_per_mtok_usd: MoneyPerMTok
    context_window: int | None = Field(default=None, ge=1, le=100_000_000)
