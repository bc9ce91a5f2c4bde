"""Typed views of the API's resources, as the client returns them.

Models are frozen and ignore fields they do not know, so an older SDK keeps working
against a newer server. Field meanings are those of ``shared/design/API.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ApiKey",
    "ApiKeyCreated",
    "ChatMessage",
    "Content",
    "Execution",
    "ExecutionError",
    "GoldenItem",
    "GoldenSet",
    "Identity",
    "Me",
    "Model",
    "Promotion",
    "PromptInfo",
    "Provider",
    "ProviderKind",
    "Run",
    "RunEstimate",
    "RunProgress",
    "RunResult",
    "RunTarget",
    "Span",
    "SummaryEntry",
    "User",
    "Version",
]

ProviderKind = Literal["openai", "anthropic", "gemini", "azure_openai", "openai_compatible",
                       "simulator"]
ChatMessage = dict[str, str]
Content = str | list[ChatMessage]
"""A text prompt, or chat messages ``[{"role": "system|user|assistant", "content": "…"}]``."""


class _Model(BaseModel):
    # Schemas are built on first use: most programs touch a few models, and import stays fast.
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)


class PromptInfo(_Model):
    """A prompt's registry entry (not its content: see :class:`Version`)."""

    name: str
    description: str
    tags: list[str]
    production_version: int | None
    latest_version: int | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class Version(_Model):
    """An immutable, numbered version of a prompt."""

    prompt: str
    number: int
    status: Literal["draft", "published", "archived"]
    content: Content
    variables: list[str]
    metadata: dict[str, Any]
    message: str
    created_by: str | None
    created_at: datetime


class Promotion(_Model):
    """One record of a prompt's promotion history."""

    version: int
    previous_version: int | None
    promoted_by: str | None
    promoted_at: datetime
    reason: str | None


class Provider(_Model):
    """A configured LLM provider; its API key is never returned, only a hint."""

    name: str
    kind: ProviderKind
    base_url: str | None
    has_api_key: bool
    api_key_hint: str | None
    enabled_models: list[str]
    options: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class Model(_Model):
    """A catalog entry: a provider's model with its context window and prices."""

    provider: str
    kind: ProviderKind
    model: str
    context_window: int | None
    input_per_mtok_usd: float | None
    output_per_mtok_usd: float | None
    capabilities: list[str]
    price_source: Literal["catalog", "override", "unknown"]


class ExecutionError(_Model):
    """Why an execution failed: ``provider_error`` or ``provider_timeout``."""

    code: str
    message: str


class Execution(_Model):
    """One prompt run against one model, with what it cost."""

    id: str
    prompt: str
    version: int
    provider: str
    model: str
    status: Literal["succeeded", "failed"]
    rendered: dict[str, Any]
    output: str | None
    error: ExecutionError | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float
    cost_usd: float | None
    warnings: list[str] = []
    trace_id: str
    span_id: str
    created_at: datetime


class GoldenSet(_Model):
    """A named dataset of test cases (its items: ``scope.golden_sets.items(name)``)."""

    name: str
    description: str
    item_count: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class GoldenItem(_Model):
    """One test case: variables for the prompt, the expected output, and metadata."""

    id: str
    position: int
    variables: dict[str, Any]
    expected: str | None
    metadata: dict[str, Any]
    created_at: datetime


class RunTarget(_Model):
    """Where a run sends its prompts: a configured provider and one of its models."""

    provider: str
    model: str


class RunProgress(_Model):
    """Cells done (succeeded or failed) of the total, and how many failed."""

    done: int
    total: int
    failed: int


class SummaryEntry(_Model):
    """A run's figures for one (version, provider, model)."""

    version: int
    provider: str
    model: str
    count: int
    failed: int
    scores: dict[str, float]
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    input_tokens: int
    output_tokens: int
    cost_usd: float


class Run(_Model):
    """A golden set run across prompt versions × targets."""

    id: str
    golden_set: str
    prompt: str
    versions: list[int]
    targets: list[RunTarget]
    scorers: list[dict[str, Any]]
    parameters: dict[str, Any]
    concurrency: int
    budget_usd: float | None
    cache: bool
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    progress: RunProgress
    spent_usd: float
    error: dict[str, Any] | None
    summary: list[SummaryEntry]
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def ended(self) -> bool:
        """True once the run will not change any more."""
        return self.status not in ("queued", "running")


class RunResult(_Model):
    """One executed cell: an item on a version and target, with its scores."""

    item_id: str
    version: int
    provider: str
    model: str
    output: str | None
    scores: dict[str, float]
    score_details: dict[str, str]
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float | None
    cost_usd: float | None
    cached: bool
    status: Literal["succeeded", "failed"]
    error: dict[str, Any] | None
    execution_id: str | None
    completed_at: datetime | None = None  #: absent from servers before it was added


class RunEstimate(_Model):
    """What a run would cost before it starts."""

    calls: int
    judge_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    expected_duration_s: float
    concurrency: int


class Span(_Model):
    """An execution span as stored for ``/traces`` (OpenTelemetry GenAI attributes)."""

    trace_id: str
    span_id: str
    name: str
    start: datetime
    duration_ms: float
    attributes: dict[str, Any]
    status: Literal["ok", "error"]


class ApiKey(_Model):
    """An API key's metadata; the secret is shown only once, at creation."""

    id: str
    name: str
    role: str
    prefix: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKey):
    """A new API key, with its ``secret``: store it now, it is never shown again."""

    # Kept out of repr so a notebook output or a log line does not leak it by accident.
    secret: str = Field(repr=False)


class User(_Model):
    """A user of the tenant."""

    id: str
    email: str
    role: str
    created_at: datetime


class Identity(_Model):
    """Who a token belongs to."""

    id: str
    name: str | None = None
    email: str | None = None


class Me(_Model):
    """The caller: a user or an API key, with tenant, role and permissions."""

    user: Identity | None = None
    api_key: Identity | None = None
    tenant: str
    role: str
    permissions: list[str]
