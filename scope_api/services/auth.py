"""Token exchange: API key → access + refresh token; refresh with rotation.

Refresh tokens are opaque, stored as hashes, and single-use. Each exchange
starts a family; each refresh consumes one token and issues the next of the
same family. Presenting a consumed token means it was copied: the whole family
is revoked, so both the thief and the victim must authenticate again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scope_api.errors import Unauthenticated
from scope_api.models import ApiKey, RefreshToken, Tenant
from scope_api.models.base import new_id
from scope_api.security import api_keys as secrets
from scope_api.security.tokens import TokenService
from scope_api.services import api_keys


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str


def _issue(session: Session, *, tokens: TokenService, key: ApiKey, tenant: Tenant,
           family_id: str, refresh_ttl_s: int) -> IssuedTokens:
    now = datetime.now(UTC)
    access, ttl = tokens.issue(subject=f"api_key:{key.id}", tenant_id=tenant.id,
                               tenant_name=tenant.name, role=key.role, now=now)
    refresh = secrets.generate_refresh_token()
    session.add(RefreshToken(tenant_id=tenant.id, api_key_id=key.id, family_id=family_id,
                             token_hash=secrets.hash_secret(refresh),
                             expires_at=now + timedelta(seconds=refresh_ttl_s)))
    session.flush()
    return IssuedTokens(access, ttl, refresh)


def exchange_api_key(session: Session, *, secret: str, tokens: TokenService,
                     refresh_ttl_s: int) -> IssuedTokens:
    key, tenant = api_keys.authenticate(session, secret)
    return _issue(session, tokens=tokens, key=key, tenant=tenant, family_id=new_id(),
                  refresh_ttl_s=refresh_ttl_s)


class RefreshReused(Unauthenticated):
    """A consumed refresh token came back; its family has been revoked."""


def refresh(session: Session, *, refresh_token: str, tokens: TokenService,
            refresh_ttl_s: int) -> IssuedTokens:
    """Consume ``refresh_token`` and issue the next pair of its family."""
    now = datetime.now(UTC)
    row = session.scalar(select(RefreshToken).where(
        RefreshToken.token_hash == secrets.hash_secret(refresh_token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        raise Unauthenticated("invalid or expired refresh token")
    # Consume atomically: of two concurrent refreshes with one token, one wins.
    consumed = session.execute(
        update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.rotated_at.is_(None))
        .values(rotated_at=now)).rowcount  # type: ignore[attr-defined]
    if consumed != 1:
        raise RefreshReused("refresh token already used; sign in again")
    key = session.get(ApiKey, row.api_key_id) if row.api_key_id else None
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("the API key behind this refresh token was revoked")
    tenant = session.get_one(Tenant, key.tenant_id)
    return _issue(session, tokens=tokens, key=key, tenant=tenant, family_id=row.family_id,
                  refresh_ttl_s=refresh_ttl_s)


def revoke_family_of(session: Session, refresh_token: str) -> None:
    """Revoke every token of the family ``refresh_token`` belongs to."""
    row = session.scalar(select(RefreshToken).where(
        RefreshToken.token_hash == secrets.hash_secret(refresh_token)))
    if row is not None:
        session.execute(update(RefreshToken).where(RefreshToken.family_id == row.family_id,
                                                   RefreshToken.revoked_at.is_(None))
                        .values(revoked_at=datetime.now(UTC)))
