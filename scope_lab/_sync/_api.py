# Generated from scope_lab/_async by scripts/gen_sync.py: do not edit.
"""One place where requests are sent: URL, auth, error mapping and pagination."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import httpx

from scope_lab._http import raise_for_error
from scope_lab.errors import ConnectionError

T = TypeVar("T")
PAGE_SIZE = 200  # the API's maximum: fewest round trips when iterating everything


class API:
    """Sends requests to one Scope server with one set of credentials."""

    def __init__(self, http: httpx.Client, api_url: str, auth: httpx.Auth) -> None:
        self.http = http
        self.api_url = api_url
        self._auth = auth

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      json: Any = None, content: bytes | None = None,
                      headers: Mapping[str, str] | None = None,
                      http_timeout: httpx.Timeout | None = None) -> httpx.Response:
        """Send one request (a ``json`` body, or raw ``content``); errors become
        :mod:`scope_lab.errors` exceptions."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = self.http.request(
                method, f"{self.api_url}{path}", params=query, json=json, content=content,
                headers=headers, auth=self._auth,
                timeout=http_timeout if http_timeout is not None else httpx.USE_CLIENT_DEFAULT)
        except httpx.TransportError as exc:
            raise ConnectionError(f"could not reach Scope at {self.api_url}: "
                                  f"{type(exc).__name__}: {exc}") from exc
        raise_for_error(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON body."""
        return (self.request(method, path, **kwargs)).json()

    def pages(self, path: str, params: Mapping[str, Any] | None = None, *,
                    limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a paginated list, fetched page by page as the caller iterates."""
        query = dict(params or {})
        query["limit"] = PAGE_SIZE if limit is None else min(limit, PAGE_SIZE)
        remaining = limit
        while True:
            page = self.json("GET", path, params=query)
            for row in page["data"]:
                if remaining is not None:
                    if remaining <= 0:
                        return
                    remaining -= 1
                yield row
            if not page.get("next_cursor") or remaining == 0:
                return
            query["cursor"] = page["next_cursor"]

    def items(self, path: str, parse: Callable[[dict[str, Any]], T],
                    params: Mapping[str, Any] | None = None, *,
                    limit: int | None = None) -> Iterator[T]:
        """Like :meth:`pages`, each row parsed."""
        for row in self.pages(path, params, limit=limit):
            yield parse(row)
