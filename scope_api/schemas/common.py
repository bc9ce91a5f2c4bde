"""Types shared by several resources, and the error body for the OpenAPI schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticSerializationError, to_json

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


_T = TypeVar("_T")


def storable(value: _T) -> _T:
    """``value`` (free-form JSON from a request) if it can be stored and answered as
    JSON; else ``ValueError`` saying why. Python's JSON parser accepts what JSON cannot
    carry back: NaN and infinities, a lone UTF-16 surrogate (``"\\ud83d"``, half an
    emoji, as a client that cut a string may send) and any depth of nesting. Stored,
    they made the response (and every later read of the row) a 500."""
    storable_json(value)
    return value


def storable_json(value: object) -> bytes:
    """``value`` encoded as JSON, if it is :func:`storable`; else ``ValueError`` saying
    why. For callers that need the encoding too (a golden item's size)."""
    try:
        encoded = to_json(value, inf_nan_mode="constants")
    except RecursionError:
        raise ValueError("is nested too deeply") from None
    except PydanticSerializationError as exc:
        if "surrogates not allowed" in str(exc):
            raise ValueError("holds a lone UTF-16 surrogate (half of a character, such as "
                             "an emoji cut in two): send whole characters") from None
        if "depth" in str(exc):
            raise ValueError("is nested too deeply") from None
        raise ValueError("cannot be stored as JSON") from None
    # One encoding on the common path (an execution's variables are checked on every
    # call); the text "NaN" in a string sends it to the exact check.
    if b"NaN" in encoded or b"Infinity" in encoded:
        try:
            json.dumps(value, allow_nan=False)
        except ValueError:
            raise ValueError("must not hold NaN or Infinity") from None
    return encoded


Storable = BeforeValidator(storable)
"""For JSON fields of request bodies: see :func:`storable`. It runs on the parsed JSON,
before the field's own validation turns it into models."""


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
