"""Executions of prompt versions against models, and Scope's record of their spans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scope_api.models.base import Base, new_id, utcnow


class Execution(Base):
    """One call of a rendered prompt version to one model, succeeded or failed.

    The prompt and provider are kept by name (what the API shows and filters on)
    and by id; the ids become null if the prompt or provider is deleted, the
    record stays. ``rendered`` is what was sent (content and parameters), never
    headers or credentials. ``cost_usd`` is a decimal string (exact on both
    databases), null when the price or the usage is unknown.
    """

    __tablename__ = "executions"
    __table_args__ = (
        Index("ix_executions_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_executions_tenant_prompt_created", "tenant_id", "prompt", "created_at", "id"),
        Index("ix_executions_tenant_provider_created", "tenant_id", "provider", "created_at",
              "id"),
        Index("ix_executions_tenant_model_created", "tenant_id", "model", "created_at", "id"),
        Index("ix_executions_tenant_status_created", "tenant_id", "status", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    prompt: Mapped[str] = mapped_column(String(128))
    prompt_id: Mapped[str | None] = mapped_column(
        ForeignKey("prompts.id", ondelete="SET NULL"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(128))
    provider_id: Mapped[str | None] = mapped_column(
        ForeignKey("providers.id", ondelete="SET NULL"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    rendered: Mapped[dict[str, Any]] = mapped_column(JSON)
    output: Mapped[str | None] = mapped_column(Text)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    cost_usd: Mapped[str | None] = mapped_column(String(40))
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    trace_id: Mapped[str] = mapped_column(String(32))
    span_id: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExecutionSpan(Base):
    """Scope's own copy of an execution's span (what ``/traces`` serves).

    Exporting to a collector may fail or drop spans; this copy is written in the
    same transaction as the execution, so it never does. ``prompt``, ``model``
    and ``status`` repeat span attributes as columns for the ``/traces`` filters.
    """

    __tablename__ = "execution_spans"
    __table_args__ = (
        Index("ix_execution_spans_tenant_start", "tenant_id", "start", "span_id"),
        Index("ix_execution_spans_tenant_trace", "tenant_id", "trace_id"),
        Index("ix_execution_spans_tenant_prompt_start", "tenant_id", "prompt", "start",
              "span_id"),
    )

    trace_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    span_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    execution_id: Mapped[str] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    start: Mapped[datetime]
    duration_ms: Mapped[float] = mapped_column(Float)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8))
    prompt: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(200))
