"""Prompts, versions and promotions."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from scope_api.schemas.common import Body, Name, Storable, Tag


class VersionStatus(StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class ChatMessage(Body):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=200_000)


Content = str | list[ChatMessage]


class PromptCreate(Body):
    name: Name
    description: str = Field(default="", max_length=10_000)
    tags: list[Tag] = Field(default_factory=list, max_length=32)


class PromptUpdate(Body):
    description: str | None = Field(default=None, max_length=10_000)
    tags: list[Tag] | None = Field(default=None, max_length=32)


class PromptOut(BaseModel):
    name: str
    description: str
    tags: list[str]
    production_version: int | None
    latest_version: int | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class VersionCreate(Body):
    content: Annotated[str | list[ChatMessage], Storable] = Field(
        description="A text prompt, or chat messages; `{{ variables }}` may appear in any string.")
    metadata: Annotated[dict[str, Any], Storable] = Field(default_factory=dict)
    message: str = Field(default="", max_length=10_000)


class VersionOut(BaseModel):
    prompt: str
    number: int
    status: VersionStatus
    content: str | list[dict[str, str]]
    variables: list[str]
    metadata: dict[str, Any]
    message: str
    created_by: str | None
    created_at: datetime


class PromoteRequest(Body):
    reason: str | None = Field(default=None, max_length=2_000)


class PromotionOut(BaseModel):
    version: int
    previous_version: int | None
    promoted_by: str | None
    promoted_at: datetime
    reason: str | None
