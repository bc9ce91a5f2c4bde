"""Executions and the spans ``/traces`` serves."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from scope_api.schemas.common import Body, Name, Storable
from scope_api.schemas.providers import ModelName

ExecutionStatus = Literal["succeeded", "failed"]
SpanStatus = Literal["ok", "error"]
StopSequence = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ExecutionParameters(Body):
    """Generation parameters; omitted ones are left to the provider's defaults.

    Types are strict: ``"0.5"`` is not a number and ``true`` is not an integer.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    temperature: float | None = Field(default=None, ge=0, le=2, allow_inf_nan=False)
    max_tokens: int | None = Field(default=None, ge=1, le=10_000_000)
    top_p: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    stop: StopSequence | list[StopSequence] | None = Field(
        default=None, description="One stop sequence or a list of at most 4.")
    response_format: Literal["text", "json"] | None = Field(
        default=None, description='"json" asks for a JSON object (providers with a JSON mode '
                                  "only: 422 for the others).")

    @model_validator(mode="after")
    def _at_most_four_stops(self) -> ExecutionParameters:
        if isinstance(self.stop, list) and len(self.stop) > 4:
            raise ValueError("stop takes at most 4 sequences")
        return self


class ExecutionCreate(Body):
    """Run one version of a prompt (by ``version`` or ``label``, exactly one) on one model."""

    prompt: Name
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, strict=True)
    label: Literal["production"] | None = Field(
        default=None, description='"production": the published version.')
    provider: Name = Field(description="A configured provider's name.")
    model: ModelName
    variables: Annotated[dict[str, Any], Storable] = Field(default_factory=dict)
    parameters: ExecutionParameters = Field(default_factory=ExecutionParameters)

    @model_validator(mode="after")
    def _version_or_label(self) -> ExecutionCreate:
        if (self.version is None) == (self.label is None):
            raise ValueError('give exactly one of "version" and "label"')
        return self


class ExecutionError(BaseModel):
    code: Literal["provider_error", "provider_timeout"]
    message: str = Field(description="The provider's own message; never a credential.")


class ExecutionOut(BaseModel):
    id: str
    prompt: str
    version: int
    provider: str
    model: str
    status: ExecutionStatus
    rendered: dict[str, Any] = Field(
        description='What was sent: {"content": rendered text or chat messages, '
                    '"parameters": {...}}. Never headers or keys.')
    output: str | None
    error: ExecutionError | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float = Field(description="Time spent waiting for the provider, retries "
                                          "included.")
    cost_usd: float | None = Field(
        description="input_tokens × input price + output_tokens × output price (per "
                    "million tokens, at call time); null if the model's price or the "
                    "usage is unknown (see warnings).")
    warnings: list[str]
    trace_id: str
    span_id: str
    created_at: datetime


class SpanOut(BaseModel):
    trace_id: str
    span_id: str
    name: str
    start: datetime
    duration_ms: float
    attributes: dict[str, Any] = Field(description="OpenTelemetry GenAI attributes "
                                                   "(gen_ai.*) and Scope's (scope.*).")
    status: SpanStatus
