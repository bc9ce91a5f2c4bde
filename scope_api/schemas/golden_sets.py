"""Golden sets and their items."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from scope_api.schemas.common import Body, Name

VARIABLE_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
"""The template language's variable names: an item's variables must be usable by a prompt."""

VariableName = Annotated[str, StringConstraints(pattern=VARIABLE_NAME_PATTERN)]


class GoldenSetCreate(Body):
    name: Name
    description: str = Field(default="", max_length=10_000)


class GoldenSetOut(BaseModel):
    name: str
    description: str
    item_count: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime


class GoldenItemIn(Body):
    """One test case as uploaded."""

    variables: dict[VariableName, Any] = Field(
        description="Values for the prompt's `{{ variables }}`; keys are variable names.",
        json_schema_extra={"additionalProperties": False})  # with the key pattern: exact
    expected: str | None = Field(
        default=None, description="What a good answer is, for scorers that compare; or null.")
    metadata: dict[str, Any] = Field(default_factory=dict)


class GoldenItemOut(BaseModel):
    id: str
    position: int = Field(description="0-based; the order items were added in.")
    variables: dict[str, Any]
    expected: str | None
    metadata: dict[str, Any]
    created_at: datetime


class ItemsAdded(BaseModel):
    added: int = Field(description="Items this request added.")
    item_count: int = Field(description="Items the set holds now.")
