"""Tenants."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scope_api.models import Tenant

DEFAULT_TENANT = "default"


def get_or_create(session: Session, name: str) -> Tenant:
    """The tenant called ``name``, created if it does not exist yet."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == name))
    if tenant is None:
        tenant = Tenant(name=name)
        session.add(tenant)
        session.flush()
    return tenant
