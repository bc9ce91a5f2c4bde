"""API keys: the secret appears in exactly one response, the one that creates it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from scope_api.schemas.common import Body
from scope_api.security.permissions import Role


class ApiKeyCreate(Body):
    name: str = Field(min_length=1, max_length=128)
    role: Role


class ApiKeyOut(BaseModel):
    id: str
    name: str
    role: Role
    prefix: str
    created_by: str | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    secret: str
