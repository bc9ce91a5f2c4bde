"""Test runs of a golden set across prompt versions × targets, one cell per combination.

A run is a row of settings and counters; its work is its cells. A cell's result is
written in the same transaction that marks it done, so a recorded cell is never
executed again, whatever crashes. Cells are claimed with a lease (``lease_owner``,
``lease_until``) that the owning worker renews while the call is in flight; a cell
whose lease ran out (its worker died) is claimable again. The golden set may be
deleted later: runs keep its name and their cells keep the item ids, so results stay
readable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from scope_api.models.base import Base, new_id, utcnow

RUN_ACTIVE = ("queued", "running")
CELL_DONE = ("succeeded", "failed")


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_tenant_created", "tenant_id", "created_at", "id"),
        Index("ix_runs_tenant_set_created", "tenant_id", "golden_set", "created_at", "id"),
        Index("ix_runs_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    golden_set: Mapped[str] = mapped_column(String(128))
    golden_set_id: Mapped[str | None] = mapped_column(
        ForeignKey("golden_sets.id", ondelete="SET NULL"))
    prompt: Mapped[str] = mapped_column(String(128))
    prompt_id: Mapped[str | None] = mapped_column(ForeignKey("prompts.id", ondelete="SET NULL"))
    versions: Mapped[list[int]] = mapped_column(JSON)
    targets: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    scorers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    concurrency: Mapped[int] = mapped_column(Integer)
    use_cache: Mapped[bool] = mapped_column(Boolean, default=False)
    budget_usd: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    summary: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class RunCell(Base):
    __tablename__ = "run_cells"
    __table_args__ = (
        UniqueConstraint("run_id", "item_id", "version", "provider", "model"),
        Index("ix_run_cells_run_status", "run_id", "status"),
        Index("ix_run_cells_run_order", "run_id", "item_position", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(32))
    item_position: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    execution_id: Mapped[str | None] = mapped_column(String(32))
    output: Mapped[str | None] = mapped_column(Text)
    scores: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    score_details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    cost_usd: Mapped[str | None] = mapped_column(String(40))
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    completed_at: Mapped[datetime | None]


class ResponseCacheEntry(Base):
    """A provider answer reusable by runs that opt in, keyed by what was asked."""

    __tablename__ = "response_cache"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"),
                                           primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    output: Mapped[str] = mapped_column(Text)
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
