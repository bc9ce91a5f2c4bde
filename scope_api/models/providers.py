"""Configured LLM providers (keys encrypted) and per-tenant model price overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scope_api.models.base import Base, new_id, utcnow


class Provider(Base):
    """One provider a tenant has configured, addressed by ``name`` in the API.

    ``api_key_ciphertext`` is ``v1:<kid>:<token>`` (``security.crypto``), bound to
    this row; the plaintext key is never stored. ``api_key_hint`` is at most
    "…" and the key's last four characters.
    """

    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),
                      Index("ix_providers_tenant_created", "tenant_id", "created_at", "id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str | None] = mapped_column(String(2048))
    api_key_ciphertext: Mapped[str | None] = mapped_column(Text)
    api_key_hint: Mapped[str | None] = mapped_column(String(16))
    enabled_models: Mapped[list[str]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ModelPriceOverride(Base):
    """A tenant's own price for one model of one configured provider.

    Keyed by the configured provider (not its kind): two providers of one kind
    may be billed differently (negotiated rates, Azure regions, a self-hosted
    endpoint), and deleting a provider deletes its overrides. Prices are decimal
    strings (USD per million tokens): exact on SQLite and PostgreSQL alike.
    """

    __tablename__ = "model_price_overrides"
    __table_args__ = (UniqueConstraint("provider_id", "model"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"),
                                           index=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(200))
    input_per_mtok_usd: Mapped[str] = mapped_column(String(32))
    output_per_mtok_usd: Mapped[str] = mapped_column(String(32))
    context_window: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
