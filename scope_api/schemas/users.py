"""Users of a tenant."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, EmailStr

from scope_api.schemas.common import Body
from scope_api.security.permissions import Role


class UserCreate(Body):
    email: EmailStr
    role: Role


class UserUpdate(Body):
    role: Role | None = None


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    created_at: datetime
