"""Request and response bodies of test runs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from scope_api.schemas.common import Body, Name
from scope_api.schemas.executions import ExecutionParameters
from scope_api.schemas.providers import ModelName
from scope_api.scorers import ScorerList

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
MAX_VERSIONS = 20
MAX_TARGETS = 20


VersionNumber = Annotated[int, Field(ge=1, le=2**31 - 1)]
"""A version number, as a path's ``{version}`` is (PostgreSQL's ``integer``)."""


class RunTarget(Body):
    provider: Name
    model: ModelName


class RunCreate(Body):
    prompt: Name
    versions: list[VersionNumber] = Field(min_length=1, max_length=MAX_VERSIONS,
                                description="Version numbers of the prompt to compare.")
    targets: list[RunTarget] = Field(min_length=1, max_length=MAX_TARGETS)
    scorers: ScorerList = Field(
        default_factory=list,
        description='Scorer objects, e.g. {"type": "exact_match"} or {"type": "regex", '
                    '"pattern": "…", "name": "has_date"}; see the scorer catalogue in '
                    "the docs.")
    parameters: ExecutionParameters = Field(default_factory=ExecutionParameters)
    concurrency: int = Field(default=16, ge=1, le=256,
                             description="Cells of this run in flight at once, at most.")
    budget_usd: float | None = Field(
        default=None, gt=0, description="Stop the run (status failed, error "
                                        "budget_exceeded) once its spent cost reaches this.")
    cache: bool = Field(default=False, description="Reuse a stored answer for an identical "
                                                   "request (prompt, model, parameters): "
                                                   "it costs nothing.")

    @model_validator(mode="after")
    def _distinct(self) -> RunCreate:
        if len(set(self.versions)) != len(self.versions):
            raise ValueError("versions lists a version twice")
        pairs = [(t.provider, t.model) for t in self.targets]
        if len(set(pairs)) != len(pairs):
            raise ValueError("targets lists a provider and model twice")
        return self


class Progress(BaseModel):
    done: int
    total: int
    failed: int


class SummaryEntry(BaseModel):
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


class RunOut(BaseModel):
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
    status: RunStatus
    progress: Progress
    spent_usd: float
    error: dict[str, Any] | None
    summary: list[SummaryEntry]
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ResultOut(BaseModel):
    item_id: str
    version: int
    provider: str
    model: str
    output: str | None
    scores: dict[str, float]
    score_details: dict[str, str] = Field(
        description="Per scorer, why (an llm_judge's reasoning, a parse failure).")
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float | None
    cost_usd: float | None
    cached: bool
    status: Literal["succeeded", "failed"]
    error: dict[str, Any] | None
    execution_id: str | None
    completed_at: datetime | None = Field(
        description="When the cell was recorded as done (for `?since=`).")


class Estimate(BaseModel):
    calls: int = Field(description="Provider calls for the cells (judge calls separate).")
    judge_calls: int
    input_tokens: int = Field(description="Estimated from the rendered prompts "
                                          "(about 4 characters per token).")
    output_tokens: int = Field(description="parameters.max_tokens per call, or 256 if unset: "
                                           "an upper-end guess.")
    cost_usd: float | None = Field(description="From the catalog's prices; null if a model "
                                               "has no known price.")
    expected_duration_s: float = Field(
        description="calls × typical latency ÷ concurrency (latency: this tenant's recent "
                    "executions of the model, else 1 s).")
    concurrency: int
