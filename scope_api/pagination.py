"""Keyset pagination with opaque, signed cursors.

Lists are ordered newest first by ``(created_at, id)``. A cursor holds the
position of the last row served, bound to the list it came from (``scope``),
and an HMAC so it cannot be forged or edited: a tampered cursor is
``400 bad_request``, never a query over arbitrary values. Because a row is
found by its position rather than an offset, rows inserted while someone pages
(which sort before the cursor) never shift the page boundaries: no row that
existed when paging began is skipped or served twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from scope_api.errors import BadRequest

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    """One page of a list: ``data`` and the cursor of the next page, or ``null``."""

    data: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Position:
    created_at: datetime
    id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Signs cursors with the first server-held key; accepts any of them.

    Several keys let the signing key rotate (with the JWT keys it derives from)
    without turning cursors that clients hold into errors.
    """

    def __init__(self, *keys: bytes) -> None:
        if not keys:
            raise ValueError("at least one cursor key is needed")
        self._keys = [hashlib.sha256(b"scope-cursor\x00" + key).digest() for key in keys]

    @staticmethod
    def _mac(key: bytes, payload: bytes) -> bytes:
        return hmac.new(key, payload, hashlib.sha256).digest()[:16]

    def encode(self, scope: str, position: Position) -> str:
        return self._signed({"s": scope, "t": position.created_at.isoformat(),
                             "i": position.id})

    def encode_key(self, scope: str, key: list[str | int]) -> str:
        """A cursor for lists ordered by something other than (created_at, id)."""
        return self._signed({"s": scope, "k": key})

    def _signed(self, data: dict[str, Any]) -> str:
        payload = json.dumps(data, separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(self._keys[0], payload))}"

    def decode_key(self, scope: str, cursor: str) -> list[str | int]:
        """The key a cursor from :meth:`encode_key` carries; ``400`` if tampered."""
        data = self._verified(scope, cursor)
        key = data.get("k")
        if not isinstance(key, list) or not all(isinstance(v, str | int) for v in key):
            raise BadRequest("invalid cursor: pass back next_cursor unchanged")
        return key

    def _verified(self, scope: str, cursor: str) -> dict[str, Any]:
        try:
            body, mac = cursor.split(".")
            payload = _unb64(body)
            given = _unb64(mac)
            if not any(hmac.compare_digest(self._mac(key, payload), given)
                       for key in self._keys):
                raise ValueError("bad signature")
            data = json.loads(payload)
            if not isinstance(data, dict) or data.get("s") != scope:
                raise ValueError("cursor of another list")
            return data
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise BadRequest("invalid cursor: pass back next_cursor unchanged") from None

    def decode(self, scope: str, cursor: str) -> Position:
        data = self._verified(scope, cursor)
        try:
            created_at = datetime.fromisoformat(data["t"])
            if created_at.tzinfo is None or not isinstance(data["i"], str):
                raise ValueError("bad position")
            return Position(created_at, data["i"])
        except (ValueError, KeyError, TypeError):
            raise BadRequest("invalid cursor: pass back next_cursor unchanged") from None


@dataclass(frozen=True)
class PageRequest:
    """What a list endpoint was asked for: a page size and an optional cursor."""

    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


def paginate(session: Session, query: Select[Any], *, codec: CursorCodec, scope: str,
             request: PageRequest, created_at: InstrumentedAttribute[datetime],
             id_: InstrumentedAttribute[str]) -> tuple[Sequence[Any], str | None]:
    """Run ``query`` for one page, newest first; return rows and the next cursor."""
    if request.cursor:
        pos = codec.decode(scope, request.cursor)
        query = query.where(or_(created_at < pos.created_at,
                                and_(created_at == pos.created_at, id_ < pos.id)))
    query = query.order_by(created_at.desc(), id_.desc()).limit(request.limit + 1)
    rows = session.scalars(query).all()
    if len(rows) <= request.limit:
        return rows, None
    rows = rows[: request.limit]
    last = rows[-1]
    position = Position(getattr(last, created_at.key), getattr(last, id_.key))
    return rows, codec.encode(scope, position)
