"""Users of a tenant (identities for SSO; roles as for API keys)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from scope_api.db import add_unique
from scope_api.errors import Conflict, NotFound
from scope_api.models import User
from scope_api.pagination import CursorCodec, PageRequest, paginate


def create(session: Session, *, tenant_id: str, email: str, role: str) -> User:
    email = email.lower()
    if session.scalar(select(User.id).where(User.tenant_id == tenant_id, User.email == email)):
        raise Conflict(f"user '{email}' already exists")
    user = User(tenant_id=tenant_id, email=email, role=role)
    add_unique(session, user, conflict=f"user '{email}' already exists")
    return user


def get(session: Session, *, tenant_id: str, user_id: str) -> User:
    user = session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))
    if user is None:
        raise NotFound(f"user '{user_id}' not found")
    return user


def list_page(session: Session, *, tenant_id: str, codec: CursorCodec,
              page: PageRequest) -> tuple[Sequence[User], str | None]:
    query = select(User).where(User.tenant_id == tenant_id)
    return paginate(session, query, codec=codec, scope=f"users:{tenant_id}", request=page,
                    created_at=User.created_at, id_=User.id)


def update(session: Session, *, tenant_id: str, user_id: str, role: str | None) -> User:
    user = get(session, tenant_id=tenant_id, user_id=user_id)
    if role is not None:
        user.role = role
    session.flush()
    return user


def delete(session: Session, *, tenant_id: str, user_id: str) -> None:
    session.delete(get(session, tenant_id=tenant_id, user_id=user_id))
    session.flush()
