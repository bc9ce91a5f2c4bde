"""Strict JSON reading shared by the scorers: RFC 8259, so no NaN or Infinity."""

from __future__ import annotations

import json
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: Python's decoder would accept NaN, Infinity and -Infinity; JSON has no such values.
DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def parse_json(text: str) -> Any:
    """The one JSON value ``text`` holds (whitespace around it allowed); ``ValueError`` if
    there is none or more than one."""
    try:
        return DECODER.decode(text)
    except RecursionError:
        raise ValueError("nested too deeply to read") from None
