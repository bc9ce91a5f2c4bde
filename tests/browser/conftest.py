"""Fixtures for the JupyterLab panel's tests: a real ``scope serve`` with prompts in it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.live import LiveServer, serve


def create_prompt(server: LiveServer, name: str, contents: list[str], *, promote: int | None,
                  tags: list[str] | None = None) -> None:
    """A prompt with one version per content, optionally with one of them promoted."""
    headers = server.headers()
    api = f"{server.base_url}/api/v1"
    httpx.post(f"{api}/prompts", json={"name": name, "tags": tags or []},
               headers=headers, timeout=10).raise_for_status()
    for content in contents:
        httpx.post(f"{api}/prompts/{name}/versions", json={"content": content},
                   headers=headers, timeout=10).raise_for_status()
    if promote is not None:
        httpx.post(f"{api}/prompts/{name}/versions/{promote}/promote", headers=headers,
                   timeout=10).raise_for_status()


@pytest.fixture(scope="module")
def scope_server() -> Iterator[LiveServer]:
    """``scope serve`` on its embedded SQLite, with prompt ``greeting`` (v1 in production)."""
    with serve(None) as server:
        create_prompt(server, "greeting", ["Hello from v1", "Hello from v2"], promote=1,
                      tags=["support"])
        create_prompt(server, "farewell", ["Bye {{ name }}"], promote=None, tags=["billing"])
        yield server
