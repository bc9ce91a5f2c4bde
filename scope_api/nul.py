"""The NUL character (U+0000): refused in what clients send, replaced in what providers
answer.

PostgreSQL cannot store NUL in a text column (``DataError``), so a NUL in a prompt's
description, an API key's name, an execution's variables (rendered into the output
the simulator echoes) or a filter made those requests a 500 on PostgreSQL while SQLite
took them. Scope refuses NUL in every request on both databases, the same way, before
any route runs (:class:`scope_api.middleware.RequestGuardMiddleware`). A provider's
output cannot be refused after the call was paid for: :func:`replace_nul` keeps it
storable and the record says what was replaced.
"""

from __future__ import annotations

import re
from typing import Any

MESSAGE = "must not contain the NUL character (U+0000)"
REPLACEMENT = "\ufffd"

# ``\u0000`` starting a JSON escape: preceded by an even number of backslashes
# (``\\u0000`` is a backslash followed by the text "u0000").
_JSON_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def in_json(raw: bytes) -> bool:
    """Whether JSON text ``raw`` may hold a NUL in a string (as the escape ``\\u0000``;
    JSON has no other way to write one). A fast test: confirm with :func:`locate`."""
    return b"\\u0000" in raw and _JSON_ESCAPE.search(raw) is not None


def locate(value: Any, loc: list[str | int]) -> list[str | int] | None:
    """The location of the first string (or object key) in parsed JSON ``value`` that
    holds a NUL, under ``loc``; ``None`` if there is none."""
    if isinstance(value, str):
        return loc if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return [*loc, key]
            found = locate(item, [*loc, key])
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = locate(item, [*loc, index])
            if found is not None:
                return found
    return None


def replace_nul(text: str) -> tuple[str, int]:
    """``text`` with every NUL replaced by U+FFFD, and how many there were."""
    count = text.count("\x00")
    return (text.replace("\x00", REPLACEMENT), count) if count else (text, 0)
