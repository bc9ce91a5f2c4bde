"""Providers that answer what no simulator fault produces: a huge body, an HTML page,
negative token counts, NUL characters."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scope_api.engine.simulator_server import InProcessSimulator
from tests.engine.conftest import Lab
from tests.factories import V1


def _misbehaving_provider() -> Starlette:
    """An OpenAI-compatible server answering a huge body, an HTML page, negative token
    counts or an output holding NUL characters, by the model asked for."""

    async def complete(request: Request) -> Response:
        model = (await request.json())["model"]
        if model == "cut-error":  # a message cut in the middle of an emoji
            return Response(b'{"error": {"message": "quota exceeded \\ud83d"}}', status_code=400,
                            media_type="application/json")
        if model == "cut-output":
            return Response(
                b'{"id": "c", "object": "chat.completion", "model": "cut-output", "choices": '
                b'[{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", '
                b'"content": "Hi \\ud83d\\ude00 and \\ude00 \\ud83d"}}]}',
                media_type="application/json")
        if model == "nul":
            return JSONResponse({
                "id": "chatcmpl-2", "object": "chat.completion", "created": 1,
                "model": model, "choices": [{"index": 0, "finish_reason": "stop", "message": {
                    "role": "assistant", "content": "Hi\u0000there\u0000"}}],
                "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})
        if model == "negative":
            return JSONResponse({
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1,
                "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                             "message": {"role": "assistant", "content": "Hi"}}],
                "usage": {"prompt_tokens": -5, "completion_tokens": 3, "total_tokens": -2}})
        if model == "huge":
            return Response(b'{"choices": "' + b"x" * (11 * 1024 * 1024) + b'"}',
                            media_type="application/json")
        return Response("<html><body>Bad gateway</body></html>", media_type="text/html")

    return Starlette(routes=[Route("/v1/chat/completions", complete, methods=["POST"])])


@pytest.fixture
async def odd(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[str]:
    """The misbehaving server, running, as the ``openai_compatible`` provider "odd"."""
    monkeypatch.setattr(lab.api.context.settings, "allow_private_provider_urls", True)
    server = InProcessSimulator(_misbehaving_provider())
    url = await server.start()
    try:
        created = await lab.client.post(f"{V1}/providers", headers=lab.headers, json={
            "name": "odd", "kind": "openai_compatible", "base_url": f"{url}/v1"})
        assert created.status_code == 201, created.text
        yield "odd"
    finally:
        await server.stop()


async def test_huge_or_garbage_answers_are_502_and_recorded(lab: Lab, odd: str) -> None:
    prompt = await lab.prompt("Hi")
    huge = await lab.execute(prompt=prompt, provider=odd, model="huge")
    garbage = await lab.execute(prompt=prompt, provider=odd, model="html")
    assert (huge.status_code, garbage.status_code) == (502, 502)
    assert "larger than 10 MB" in huge.json()["error"]["message"]
    assert "unreadable" in garbage.json()["error"]["message"]
    recorded = await lab.executions()
    assert [(e["model"], e["status"], e["error"]["code"]) for e in recorded] == [
        ("html", "failed", "provider_error"), ("huge", "failed", "provider_error")]
    assert all(e["warnings"] == [f"model '{e['model']}' is not in the catalog: cost unknown"]
               for e in recorded)


async def test_negative_token_counts_are_no_usage_not_a_500(lab: Lab, odd: str) -> None:
    """A priced model whose provider reports a negative count: the call succeeded, its
    cost is unknown and says why (the count used to reach the pricing and fail there)."""
    priced = await lab.client.put(f"{V1}/models/{odd}/negative/price", headers=lab.headers,
                                  json={"input_per_mtok_usd": 1, "output_per_mtok_usd": 2})
    assert priced.status_code == 200, priced.text
    prompt = await lab.prompt("Hi")
    answer = await lab.execute(prompt=prompt, provider=odd, model="negative")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["output"], body["input_tokens"], body["output_tokens"], body["cost_usd"]) == (
        "Hi", None, 3, None)
    assert body["warnings"] == ["the provider reported no token usage: cost unknown"]


NUL_WARNING = ("the output held 2 NUL characters (U+0000), which cannot be stored: each was "
               "replaced with U+FFFD")


async def test_an_output_holding_nul_is_recorded_with_a_replacement(lab: Lab, odd: str) -> None:
    """PostgreSQL cannot store NUL in text: the execution the provider was paid for was
    lost there, with a 500. Now both databases keep it, and the record says what changed."""
    prompt = await lab.prompt("Hi")
    answer = await lab.execute(prompt=prompt, provider=odd, model="nul")
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["status"], body["output"]) == ("succeeded", "Hi\ufffdthere\ufffd")
    assert NUL_WARNING in body["warnings"]
    stored = await lab.client.get(f"{V1}/executions/{body['id']}", headers=lab.headers)
    assert stored.json()["output"] == body["output"]
    assert stored.json()["warnings"] == body["warnings"]


async def test_a_run_cell_whose_output_holds_nul_succeeds(lab: Lab, odd: str) -> None:
    prompt = await lab.prompt("Say {{ word }}")
    client, headers = lab.client, lab.headers
    created = await client.post(f"{V1}/golden-sets", headers=headers, json={"name": "nul"})
    assert created.status_code == 201, created.text
    added = await client.post(f"{V1}/golden-sets/nul/items", headers=headers, json=[
        {"variables": {"word": "hi"}, "expected": "Hi"}])
    assert added.status_code == 201, added.text
    started = await client.post(f"{V1}/golden-sets/nul/runs", headers=headers, json={
        "prompt": prompt, "versions": [1], "targets": [{"provider": odd, "model": "nul"}],
        "scorers": [{"type": "contains"}]})
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    deadline = time.monotonic() + 30
    while (run := (await client.get(f"{V1}/runs/{run_id}", headers=headers)).json())[
            "status"] in ("queued", "running"):
        assert time.monotonic() < deadline, run
        await asyncio.sleep(0.05)
    assert (run["status"], run["progress"]["failed"]) == ("succeeded", 0), run
    results = (await client.get(f"{V1}/runs/{run_id}/results", headers=headers)).json()["data"]
    assert [(r["status"], r["output"], r["scores"]) for r in results] == [
        ("succeeded", "Hi\ufffdthere\ufffd", {"contains": 1.0})]
    execution = await client.get(f"{V1}/executions/{results[0]['execution_id']}",
                                 headers=headers)
    assert NUL_WARNING in execution.json()["warnings"]


async def test_a_provider_error_cut_mid_character_is_recorded_and_readable(
        lab: Lab, odd: str) -> None:
    """A lone UTF-16 surrogate (half an emoji) in the provider's error message or output:
    the execution is answered and stored with U+FFFD in its place (it was a 500)."""
    prompt = await lab.prompt("Hi")
    failed = await lab.execute(prompt=prompt, provider=odd, model="cut-error")
    assert failed.status_code == 502, failed.text
    assert failed.json()["error"]["message"].endswith("quota exceeded \ufffd")
    answered = await lab.execute(prompt=prompt, provider=odd, model="cut-output")
    assert answered.status_code == 201, answered.text
    # A whole emoji (a pair of escapes) stays; each half alone becomes U+FFFD.
    assert answered.json()["output"] == "Hi \U0001f600 and \ufffd \ufffd"
    listed = await lab.client.get(f"{V1}/executions", headers=lab.headers)
    assert listed.status_code == 200, listed.text
    assert [e["model"] for e in listed.json()["data"]] == ["cut-output", "cut-error"]
    failed_id = failed.json()["error"]["details"]["execution_id"]
    one = await lab.client.get(f"{V1}/executions/{failed_id}", headers=lab.headers)
    assert one.json()["error"]["message"] == failed.json()["error"]["message"]
