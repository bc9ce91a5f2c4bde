"""Token exchange and identity."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from scope_api.schemas.common import Body


class TokenRequest(Body):
    api_key: str = Field(min_length=1, max_length=512)


class RefreshRequest(Body):
    refresh_token: str = Field(min_length=1, max_length=512)


class TokenPair(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the scheme name, not a secret)
    expires_in: int
    refresh_token: str


class Identity(BaseModel):
    id: str
    name: str | None = None
    email: str | None = None


class Me(BaseModel):
    """Who the token belongs to; exactly one of ``user`` and ``api_key`` is set."""

    user: Identity | None = None
    api_key: Identity | None = None
    tenant: str
    role: str
    permissions: list[str]
