"""Providers that answer what no simulator fault produces: a huge body, an HTML page."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scope_api.engine.simulator_server import InProcessSimulator
from tests.engine.conftest import Lab
from tests.factories import V1


def _misbehaving_provider() -> Starlette:
    """An OpenAI-compatible server answering a huge body or an HTML page."""

    async def complete(request: Request) -> Response:
        model = (await request.json())["model"]
        if model == "huge":
            return Response(b'{"choices": "' + b"x" * (11 * 1024 * 1024) + b'"}',
                            media_type="application/json")
        return Response("<html><body>Bad gateway</body></html>", media_type="text/html")

    return Starlette(routes=[Route("/v1/chat/completions", complete, methods=["POST"])])


async def test_huge_or_garbage_answers_are_502_and_recorded(
        lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab.api.context.settings, "allow_private_provider_urls", True)
    server = InProcessSimulator(_misbehaving_provider())
    url = await server.start()
    try:
        created = await lab.client.post(f"{V1}/providers", headers=lab.headers, json={
            "name": "odd", "kind": "openai_compatible", "base_url": f"{url}/v1"})
        assert created.status_code == 201, created.text
        prompt = await lab.prompt("Hi")
        huge = await lab.execute(prompt=prompt, provider="odd", model="huge")
        garbage = await lab.execute(prompt=prompt, provider="odd", model="html")
    finally:
        await server.stop()
    assert (huge.status_code, garbage.status_code) == (502, 502)
    assert "larger than 10 MB" in huge.json()["error"]["message"]
    assert "unreadable" in garbage.json()["error"]["message"]
    recorded = await lab.executions()
    assert [(e["model"], e["status"], e["error"]["code"]) for e in recorded] == [
        ("html", "failed", "provider_error"), ("huge", "failed", "provider_error")]
    assert all(e["warnings"] == [f"model '{e['model']}' is not in the catalog: cost unknown"]
               for e in recorded)
