"""The client provider calls go through, against a real provider-like server on a socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from scope_api.engine.http import provider_http_client
from scope_api.engine.simulator_server import InProcessSimulator
from scope_api.providers.adapters import ADAPTERS
from scope_api.providers.types import CompletionRequest, ProviderConfig, ProviderError

ANSWER = {"id": "c", "object": "chat.completion", "model": "m",
          "choices": [{"index": 0, "finish_reason": "stop",
                       "message": {"role": "assistant", "content": "hi"}}],
          "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}


@pytest.fixture
async def provider() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """An OpenAI-style server that records each request's headers and sets a cookie."""
    seen: list[dict[str, Any]] = []

    async def completions(request: Request) -> JSONResponse:
        seen.append({"headers": list(request.headers.items()), "body": await request.json()})
        response = JSONResponse(ANSWER)
        response.set_cookie("session", "tenant-a-secret")
        return response

    server = InProcessSimulator(Starlette(routes=[
        Route("/v1/chat/completions", completions, methods=["POST"])]))
    url = await server.start()
    try:
        # A host name, not 127.0.0.1: cookie jars ignore cookies set by IP addresses.
        yield f"{url.replace('127.0.0.1', 'localhost')}/v1", seen
    finally:
        await server.stop()


def chat() -> CompletionRequest:
    return CompletionRequest.from_text("m", "hello")


async def test_a_cookie_one_provider_call_got_is_never_sent_on_the_next(
        provider: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = provider
    adapter = ADAPTERS["openai_compatible"]
    async with provider_http_client() as client:
        for key in ("sk-tenant-a", "sk-tenant-b"):
            result = await adapter.complete(
                chat(), config=ProviderConfig("openai_compatible", url, key), client=client)
            assert result.output == "hi"
    assert len(seen) == 2
    assert not [name for name, _ in seen[1]["headers"] if name == "cookie"]


async def test_option_headers_replace_the_adapters_whatever_their_case(
        provider: tuple[str, list[dict[str, Any]]]) -> None:
    """Each header is sent once: a provider's extra ``Accept`` replaces the adapter's."""
    url, seen = provider
    config = ProviderConfig("openai_compatible", url, "sk-x",
                            {"headers": {"Accept": "application/json; q=1", "X-Proxy": "p"}})
    async with provider_http_client() as client:
        await ADAPTERS["openai_compatible"].complete(chat(), config=config, client=client)
    names = [name for name, _ in seen[0]["headers"]]
    assert len(names) == len(set(names)), names
    headers = dict(seen[0]["headers"])
    assert headers["accept"] == "application/json"  # the wire format's own, last
    assert headers["x-proxy"] == "p"
    assert headers["authorization"] == "Bearer sk-x"
    assert headers["user-agent"].startswith("scope/")
    assert seen[0]["body"]["messages"] == [{"role": "user", "content": "hello"}]


async def test_the_client_keeps_no_cookie_and_takes_none(
        provider: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = provider
    async with provider_http_client() as client:
        await ADAPTERS["openai_compatible"].complete(
            chat(), config=ProviderConfig("openai_compatible", url, "sk-a"), client=client)
        assert not client.cookies
        with pytest.raises(TypeError):
            client.cookies = {"session": "x"}  # type: ignore[assignment]


async def test_a_server_answering_something_other_than_http_is_a_retryable_error() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        config = ProviderConfig("openai", f"http://127.0.0.1:{port}", "sk-x")
        async with provider_http_client() as client:
            with pytest.raises(ProviderError) as info:
                await ADAPTERS["openai"].complete(chat(), config=config, client=client)
    finally:
        server.close()
        await server.wait_closed()
    assert info.value.message == "could not reach OpenAI (RemoteProtocolError)"
    assert info.value.retryable
