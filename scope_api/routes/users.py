"""Users and their roles (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from scope_api.deps import ContextDep, PageDep, ResourceId, SessionDep, UserAdmin
from scope_api.models import User
from scope_api.pagination import Page
from scope_api.schemas.common import error_responses
from scope_api.schemas.users import UserCreate, UserOut, UserUpdate
from scope_api.services import users

router = APIRouter(prefix="/users", tags=["users"],
                   responses=error_responses(400, 401, 403, 422))


def _out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


@router.get("", response_model=Page[UserOut])
def list_users(principal: UserAdmin, session: SessionDep, ctx: ContextDep,
               page: PageDep) -> Page[UserOut]:
    rows, cursor = users.list_page(session, tenant_id=principal.tenant_id, codec=ctx.cursors,
                                   page=page)
    return Page(data=[_out(u) for u in rows], next_cursor=cursor)


@router.post("", status_code=201, response_model=UserOut,
             responses=error_responses(409, 413))
def create_user(body: UserCreate, principal: UserAdmin, session: SessionDep) -> UserOut:
    return _out(users.create(session, tenant_id=principal.tenant_id, email=body.email,
                             role=body.role))


@router.patch("/{id}", response_model=UserOut, responses=error_responses(404, 413))
def update_user(id: ResourceId, body: UserUpdate, principal: UserAdmin,
                session: SessionDep) -> UserOut:
    return _out(users.update(session, tenant_id=principal.tenant_id, user_id=id,
                             role=body.role))


@router.delete("/{id}", status_code=204, responses=error_responses(404))
def delete_user(id: ResourceId, principal: UserAdmin, session: SessionDep) -> Response:
    users.delete(session, tenant_id=principal.tenant_id, user_id=id)
    return Response(status_code=204)
