"""Golden sets: named test datasets of items (variables, expected output, metadata)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scope_api.models.base import Base, new_id, utcnow


class GoldenSet(Base):
    """A tenant's named dataset. ``item_count`` is kept with the items, in one transaction."""

    __tablename__ = "golden_sets"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),
                      Index("ix_golden_sets_tenant_created", "tenant_id", "created_at", "id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class GoldenItem(Base):
    """One test case. ``position`` orders a set's items (insertion order) for paging."""

    __tablename__ = "golden_items"
    __table_args__ = (UniqueConstraint("golden_set_id", "position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    golden_set_id: Mapped[str] = mapped_column(
        ForeignKey("golden_sets.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    variables: Mapped[dict[str, Any]] = mapped_column(JSON)
    expected: Mapped[str | None] = mapped_column(Text)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
