"""Types shared by several resources, and the error body for the OpenAPI schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,127}$"

Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
"""A prompt or golden-set name: lowercase letters, digits, ``.``, ``_``, ``-``."""

Tag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")]


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise ValueError("the time must fall within the years 1 to 9999 in UTC") from None


Instant = Annotated[AwareDatetime, AfterValidator(_in_utc)]
"""An RFC 3339 time with an offset (a filter's ``since`` or ``until``), in UTC."""


class Body(BaseModel):
    """Base of every request body: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)
    request_id: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting the error body for ``statuses``."""
    return {status: {"model": ErrorBody} for status in statuses}
