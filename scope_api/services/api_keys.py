"""API keys: create (secret returned once), list, revoke, authenticate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from scope_api.errors import NotFound, Unauthenticated
from scope_api.models import ApiKey, Tenant
from scope_api.pagination import CursorCodec, PageRequest, paginate
from scope_api.security import api_keys as secrets
from scope_api.services import tenants


def create(session: Session, *, tenant_id: str, name: str, role: str,
           created_by: str | None, secret: str | None = None) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is not stored and cannot be read again."""
    secret = secret or secrets.generate_secret()
    key = ApiKey(tenant_id=tenant_id, name=name, role=role, prefix=secrets.prefix_of(secret),
                 secret_hash=secrets.hash_secret(secret), created_by=created_by)
    session.add(key)
    session.flush()
    return key, secret


def ensure_bootstrap(session: Session, secret: str) -> ApiKey:
    """Make sure tenant ``default`` has an admin key with exactly this secret."""
    tenant = tenants.get_or_create(session, tenants.DEFAULT_TENANT)
    existing = find_by_secret(session, secret)
    if existing is not None and existing.revoked_at is None:
        return existing
    key, _ = create(session, tenant_id=tenant.id, name="bootstrap", role="admin",
                    created_by="bootstrap", secret=secret)
    return key


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ApiKey)) or 0


def find_by_secret(session: Session, secret: str) -> ApiKey | None:
    """The key whose secret this is, compared in constant time; ``None`` if none."""
    candidates = session.scalars(
        select(ApiKey).where(ApiKey.prefix == secrets.prefix_of(secret))).all()
    match = None
    for key in candidates:  # compare against every candidate so timing does not depend on order
        if secrets.matches(secret, key.secret_hash):
            match = key
    return match


def authenticate(session: Session, secret: str) -> tuple[ApiKey, Tenant]:
    """The active key for ``secret`` and its tenant; ``Unauthenticated`` otherwise."""
    key = find_by_secret(session, secret)
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("invalid or revoked API key")
    tenant = session.get_one(Tenant, key.tenant_id)
    session.execute(update(ApiKey).where(ApiKey.id == key.id)
                    .values(last_used_at=datetime.now(UTC)))
    return key, tenant


def get(session: Session, *, tenant_id: str, key_id: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.tenant_id == tenant_id,
                                              ApiKey.id == key_id))
    if key is None:
        raise NotFound(f"API key '{key_id}' not found")
    return key


def list_page(session: Session, *, tenant_id: str, codec: CursorCodec,
              page: PageRequest) -> tuple[Sequence[ApiKey], str | None]:
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id)
    return paginate(session, query, codec=codec, scope=f"api_keys:{tenant_id}", request=page,
                    created_at=ApiKey.created_at, id_=ApiKey.id)


def revoke(session: Session, *, tenant_id: str, key_id: str) -> ApiKey:
    """Revoke a key: no new tokens from it, and its refresh tokens stop working."""
    key = get(session, tenant_id=tenant_id, key_id=key_id)
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        session.flush()
    return key
