"""Token exchange, refresh, identity, and the public signing keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from scope_api.deps import ContextDep, PrincipalDep, SessionDep
from scope_api.schemas.auth import Identity, Me, RefreshRequest, TokenPair, TokenRequest
from scope_api.schemas.common import error_responses
from scope_api.services import auth as auth_service
from scope_api.services.api_keys import get as get_key

router = APIRouter(tags=["auth"])
jwks_router = APIRouter(tags=["auth"])


@router.post("/auth/token", response_model=TokenPair,
             responses=error_responses(400, 401, 413, 422))
def exchange_token(body: TokenRequest, session: SessionDep, ctx: ContextDep) -> TokenPair:
    """Exchange an API key for an access token (≤ 15 min) and a refresh token."""
    issued = auth_service.exchange_api_key(session, secret=body.api_key, tokens=ctx.tokens,
                                           refresh_ttl_s=ctx.settings.refresh_token_ttl_s)
    return TokenPair(access_token=issued.access_token, expires_in=issued.expires_in,
                     refresh_token=issued.refresh_token)


@router.post("/auth/refresh", response_model=TokenPair,
             responses=error_responses(400, 401, 413, 422))
def refresh_token(body: RefreshRequest, ctx: ContextDep) -> TokenPair:
    """Trade a refresh token for a new pair; the old one stops working.

    Reusing a refresh token that was already traded revokes its whole family.
    """
    db = ctx.database
    try:
        with db.unit_of_work() as session:
            issued = auth_service.refresh(session, refresh_token=body.refresh_token,
                                          tokens=ctx.tokens,
                                          refresh_ttl_s=ctx.settings.refresh_token_ttl_s)
    except auth_service.RefreshReused:
        # Its own transaction: the failed refresh above was rolled back.
        with db.unit_of_work() as session:
            auth_service.revoke_family_of(session, body.refresh_token)
        raise
    return TokenPair(access_token=issued.access_token, expires_in=issued.expires_in,
                     refresh_token=issued.refresh_token)


@router.get("/me", response_model=Me, responses=error_responses(401))
def me(principal: PrincipalDep, session: SessionDep) -> Me:
    """Who this token belongs to, its tenant, role and permissions."""
    identity = None
    if principal.kind == "api_key":
        key = get_key(session, tenant_id=principal.tenant_id, key_id=principal.subject_id)
        identity = Identity(id=key.id, name=key.name)
    return Me(api_key=identity, user=None, tenant=principal.tenant_name, role=principal.role,
              permissions=sorted(principal.permissions))


@jwks_router.get("/.well-known/jwks.json")
def jwks(ctx: ContextDep) -> dict[str, Any]:
    """Public keys of asymmetric signing keys (empty when tokens are HS256)."""
    return ctx.tokens.keyring.jwks()
