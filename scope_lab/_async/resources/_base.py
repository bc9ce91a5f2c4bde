"""What every resource shares: the request helper."""

from __future__ import annotations

from urllib.parse import quote

from scope_lab._async._api import AsyncAPI


class AsyncResource:
    """A group of related API calls."""

    def __init__(self, api: AsyncAPI) -> None:
        self._api = api


def segment(value: str) -> str:
    """A path segment, escaped so that a name can never change the path."""
    return quote(value, safe="")
