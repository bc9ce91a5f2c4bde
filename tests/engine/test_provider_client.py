"""The client provider calls go through, against a real provider-like server on a socket."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from scope_api.engine.http import provider_http_client
from scope_api.engine.resolver import PolicyResolver
from scope_api.engine.simulator_server import InProcessSimulator
from scope_api.providers import url_safety
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
        seen.append({"headers": list(request.headers.items()), "body": await request.json(),
                     "length": len(await request.body())})
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


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[int]:
    """A TCP server on 127.0.0.1 answering each connection with ``handler``; its port."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def local_client() -> httpx.AsyncClient:
    """The provider client as a server with SCOPE_ALLOW_PRIVATE_PROVIDER_URLS=true has it:
    the test servers listen on loopback, a private address."""
    return provider_http_client(allow_private=lambda: True)


def chat() -> CompletionRequest:
    return CompletionRequest.from_text("m", "hello")


async def test_a_cookie_one_provider_call_got_is_never_sent_on_the_next(
        provider: tuple[str, list[dict[str, Any]]]) -> None:
    url, seen = provider
    adapter = ADAPTERS["openai_compatible"]
    async with local_client() as client:
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
    async with local_client() as client:
        await ADAPTERS["openai_compatible"].complete(chat(), config=config, client=client)
    names = [name for name, _ in seen[0]["headers"]]
    assert len(names) == len(set(names)), names
    headers = dict(seen[0]["headers"])
    assert headers["accept"] == "application/json"  # the wire format's own, last
    assert headers["x-proxy"] == "p"
    assert headers["authorization"] == "Bearer sk-x"
    assert headers["user-agent"].startswith("scope/")
    assert headers["accept-encoding"] == "gzip, deflate"  # what httpx decodes
    assert seen[0]["body"]["messages"] == [{"role": "user", "content": "hello"}]
    # The body goes as a stream: the adapter sets its length and the host.
    assert int(headers["content-length"]) == seen[0]["length"]
    assert headers["host"] == url.split("/")[2]


async def test_the_client_keeps_no_cookie_and_takes_none(
        provider: tuple[str, list[dict[str, Any]]]) -> None:
    url, _ = provider
    async with local_client() as client:
        await ADAPTERS["openai_compatible"].complete(
            chat(), config=ProviderConfig("openai_compatible", url, "sk-a"), client=client)
        assert not client.cookies
        with pytest.raises(TypeError):
            client.cookies = {"session": "x"}  # type: ignore[assignment]


async def test_a_gzipped_answer_is_decoded() -> None:
    async def gzipped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        await reader.readexactly(length)
        body = gzip.compress(json.dumps(ANSWER).encode())
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     b"content-encoding: gzip\r\ncontent-length: %d\r\n"
                     b"connection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async with raw_server(gzipped) as port, local_client() as client:
        config = ProviderConfig("openai", f"http://127.0.0.1:{port}", "sk-x")
        result = await ADAPTERS["openai"].complete(chat(), config=config, client=client)
    assert result.output == "hi"
    assert (result.usage.input_tokens, result.usage.output_tokens) == (3, 1)


async def test_a_server_answering_something_other_than_http_is_a_retryable_error() -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
        await writer.drain()
        writer.close()

    async with raw_server(garbage) as port, local_client() as client:
        config = ProviderConfig("openai", f"http://127.0.0.1:{port}", "sk-x")
        with pytest.raises(ProviderError) as info:
            await ADAPTERS["openai"].complete(chat(), config=config, client=client)
    assert info.value.message == "could not reach OpenAI (RemoteProtocolError)"
    assert info.value.retryable


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[int, list[dict[str, str]]]]:
    """An HTTP proxy that answers every request itself, recording what it was asked."""
    seen: list[dict[str, str]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
        lowered = {name.lower(): value for name, value in headers.items()}
        await reader.readexactly(int(lowered.get("content-length", "0")))
        seen.append({"request_line": head[0], **lowered})
        body = json.dumps(ANSWER).encode()
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                     b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async with raw_server(serve) as port:
        yield port, seen


def use_proxy(monkeypatch: pytest.MonkeyPatch, url: str, no_proxy: str = "") -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HTTP_PROXY", url)
    if no_proxy:
        monkeypatch.setenv("NO_PROXY", no_proxy)


async def test_provider_calls_go_through_the_environments_proxy(
        proxy: tuple[int, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind an egress proxy: the provider's host is reachable only through it. The
    proxy's own host is the operator's choice: a private address, and allowed although
    private provider addresses are not."""
    port, seen = proxy
    use_proxy(monkeypatch, f"http://scope:pr0xy-secret@localhost:{port}")
    config = ProviderConfig("openai_compatible", "http://llm.example.invalid/v1", "sk-x")
    async with provider_http_client() as client:
        result = await ADAPTERS["openai_compatible"].complete(chat(), config=config,
                                                              client=client)
    assert result.output == "hi"
    assert seen[0]["request_line"] == \
        "POST http://llm.example.invalid/v1/chat/completions HTTP/1.1"
    assert seen[0]["proxy-authorization"] == "Basic c2NvcGU6cHIweHktc2VjcmV0"
    assert seen[0]["authorization"] == "Bearer sk-x"


async def test_no_proxy_hosts_and_loopback_are_reached_directly(
        proxy: tuple[int, list[dict[str, str]]],
        provider: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch) -> None:
    port, seen = proxy
    url, provider_seen = provider
    use_proxy(monkeypatch, f"http://127.0.0.1:{port}", no_proxy=".example.invalid")
    async with local_client() as client:
        # Loopback (here the test's provider, or Scope's own simulator): never proxied.
        await ADAPTERS["openai_compatible"].complete(
            chat(), config=ProviderConfig("openai_compatible", url, "sk-a"), client=client)
        # NO_PROXY: direct, and this host does not exist.
        with pytest.raises(ProviderError) as info:
            await ADAPTERS["openai_compatible"].complete(
                chat(), config=ProviderConfig("openai_compatible",
                                              "http://llm.example.invalid/v1", "sk-b"),
                client=client)
    assert len(provider_seen) == 1
    assert info.value.message == \
        "could not reach OpenAI-compatible provider (ConnectError)"
    assert seen == []


async def test_https_calls_tunnel_through_the_proxy_with_its_credentials(
        proxy: tuple[int, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    port, seen = proxy
    use_proxy(monkeypatch, f"http://scope:pr0xy-secret@127.0.0.1:{port}")
    monkeypatch.setenv("HTTPS_PROXY", f"http://scope:pr0xy-secret@127.0.0.1:{port}")
    config = ProviderConfig("openai", "https://llm.example.invalid/v1", "sk-x")
    async with local_client() as client:
        with pytest.raises(ProviderError):  # this proxy answers instead of tunnelling
            await ADAPTERS["openai"].complete(chat(), config=config, client=client)
    assert seen[0]["request_line"] == "CONNECT llm.example.invalid:443 HTTP/1.1"
    assert seen[0]["proxy-authorization"] == "Basic c2NvcGU6cHIweHktc2VjcmV0"
    assert "authorization" not in seen[0]  # the provider's key stays inside the tunnel


# --- the base-URL policy where the connection is made ---------------------------------

async def test_a_host_name_is_judged_by_the_addresses_the_client_connects_to(
        provider: tuple[str, list[dict[str, Any]]]) -> None:
    """``localhost`` resolves to a loopback address: refused by the connection itself
    unless private addresses are allowed. An IP literal is judged before the call (it
    cannot change), so the client connects to it as written."""
    url, seen = provider
    config = ProviderConfig("openai_compatible", url, "sk-a")
    async with provider_http_client() as client:
        with pytest.raises(ProviderError) as refused:
            await ADAPTERS["openai_compatible"].complete(chat(), config=config, client=client)
        literal = ProviderConfig("openai_compatible", url.replace("localhost", "127.0.0.1"),
                                 "sk-a")
        await ADAPTERS["openai_compatible"].complete(chat(), config=literal, client=client)
    assert refused.value.message.startswith(
        "OpenAI-compatible provider: base_url host 'localhost' resolves to ")
    assert "SCOPE_ALLOW_PRIVATE_PROVIDER_URLS=true" in refused.value.message
    assert not refused.value.retryable
    assert len(seen) == 1  # the literal's call only
    async with local_client() as client:
        await ADAPTERS["openai_compatible"].complete(chat(), config=config, client=client)
    assert len(seen) == 2


class _Answers(AbstractResolver):
    """A DNS server that answers what the test says."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [{"hostname": host, "host": self.address, "port": port, "family": family,
                 "proto": 0, "flags": 0}]

    async def close(self) -> None:
        return None


@pytest.mark.parametrize(("address", "allow_private", "verdict"), [
    ("169.254.169.254", True, "metadata"),
    ("fe80::1", True, "link_local"),
    ("10.0.0.5", False, "private"),
    ("::ffff:127.0.0.1", False, "private"),
])
async def test_the_resolver_refuses_what_the_policy_refuses(
        address: str, allow_private: bool, verdict: str) -> None:
    resolver = PolicyResolver(allow_private=lambda: allow_private, inner=_Answers(address))
    with pytest.raises(url_safety.UnsafeUrl) as refused:
        await resolver.resolve("llm.example", 443)
    assert refused.value.reason == verdict
    assert f"'llm.example' resolves to {ipaddress.ip_address(address)}" in \
        refused.value.message


async def test_the_resolver_passes_public_allowed_and_proxy_hosts() -> None:
    public = PolicyResolver(allow_private=lambda: False, inner=_Answers("1.1.1.1"))
    assert [a["host"] for a in await public.resolve("llm.example", 443)] == ["1.1.1.1"]
    private = PolicyResolver(allow_private=lambda: True, inner=_Answers("10.0.0.5"))
    assert [a["host"] for a in await private.resolve("llm.internal", 443)] == ["10.0.0.5"]
    proxy = PolicyResolver(allow_private=lambda: False, inner=_Answers("10.0.0.9"),
                           exempt=lambda host: host == "proxy.corp")
    assert [a["host"] for a in await proxy.resolve("proxy.corp", 3128)] == ["10.0.0.9"]
    with pytest.raises(url_safety.UnsafeUrl):
        await proxy.resolve("llm.internal", 443)
