"""API keys (admin only). The secret is in the create response and nowhere else."""

from __future__ import annotations

from fastapi import APIRouter, Response

from scope_api.deps import ContextDep, KeyAdmin, PageDep, ResourceId, SessionDep
from scope_api.models import ApiKey
from scope_api.pagination import Page
from scope_api.schemas.api_keys import ApiKeyCreate, ApiKeyCreated, ApiKeyOut
from scope_api.schemas.common import error_responses
from scope_api.services import api_keys

router = APIRouter(prefix="/api-keys", tags=["api-keys"],
                   responses=error_responses(400, 401, 403, 422))


def _out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut.model_validate(key, from_attributes=True)


@router.get("", response_model=Page[ApiKeyOut])
def list_keys(principal: KeyAdmin, session: SessionDep, ctx: ContextDep,
              page: PageDep) -> Page[ApiKeyOut]:
    rows, cursor = api_keys.list_page(session, tenant_id=principal.tenant_id,
                                      codec=ctx.cursors, page=page)
    return Page(data=[_out(k) for k in rows], next_cursor=cursor)


@router.post("", status_code=201, response_model=ApiKeyCreated, responses=error_responses(413))
def create_key(body: ApiKeyCreate, principal: KeyAdmin, session: SessionDep) -> ApiKeyCreated:
    """Create a key; copy ``secret`` now, it is never shown again."""
    key, secret = api_keys.create(session, tenant_id=principal.tenant_id, name=body.name,
                                  role=body.role, created_by=principal.subject)
    return ApiKeyCreated(**_out(key).model_dump(), secret=secret)


@router.delete("/{id}", status_code=204, responses=error_responses(404))
def revoke_key(id: ResourceId, principal: KeyAdmin, session: SessionDep) -> Response:
    """Revoke a key: no new tokens; tokens already issued expire within 15 minutes."""
    api_keys.revoke(session, tenant_id=principal.tenant_id, key_id=id)
    return Response(status_code=204)
