"""Every adapter against the doc-derived samples in ``fixtures/adapters/``.

The samples are the request and answer shapes each provider's API reference
documents (sources in each file). ``httpx.MockTransport`` plays the provider:
it records the exact request an adapter sent and answers with a sample. Timeouts,
refused and dropped connections use real sockets on 127.0.0.1 and the client Scope
itself sends provider calls with (``provider_http_client``, aiohttp underneath).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from scope_api.engine.http import provider_http_client
from scope_api.providers.adapters import ADAPTERS, SIMULATOR_KEY, adapter_for
from scope_api.providers.adapters._common import MAX_RESPONSE_BYTES, parse_retry_after
from scope_api.providers.adapters.azure_openai import DEFAULT_API_VERSION
from scope_api.providers.types import (
    CompletionRequest,
    CompletionResult,
    Message,
    Parameters,
    ProviderConfig,
    ProviderError,
    ProviderTimeout,
    Usage,
)

FIXTURES = Path(__file__).parent / "fixtures" / "adapters"
KEY = "sk-test-S3CRET-0123456789abcdef"
KINDS = ["openai", "azure_openai", "openai_compatible", "anthropic", "gemini"]


def sample(kind: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{kind}.json").read_text())


# kind → (model, base_url, options, URL the provider documents, auth header, its value)
TARGETS: dict[str, tuple[str, str, dict[str, Any], str, str, str]] = {
    "openai": ("gpt-4o-mini", "", {}, "https://api.openai.com/v1/chat/completions",
               "authorization", f"Bearer {KEY}"),
    "azure_openai": ("gpt-4o", "https://contoso.openai.azure.com",
                     {"deployments": {"gpt-4o": "prod-4o"}},
                     "https://contoso.openai.azure.com/openai/deployments/prod-4o/chat/"
                     f"completions?api-version={DEFAULT_API_VERSION}", "api-key", KEY),
    "openai_compatible": ("llama3.2", "http://localhost:11434/v1/", {},
                          "http://localhost:11434/v1/chat/completions",
                          "authorization", f"Bearer {KEY}"),
    "anthropic": ("claude-3-5-haiku-latest", "", {}, "https://api.anthropic.com/v1/messages",
                  "x-api-key", KEY),
    "gemini": ("gemini-2.5-flash", "", {},
               "https://generativelanguage.googleapis.com/v1beta/models/"
               "gemini-2.5-flash:generateContent", "x-goog-api-key", KEY),
}
# What each sample answer means once normalised: (input, output tokens), response model.
EXPECTED = {
    "openai": (Usage(31, 3), "gpt-4o-mini-2024-07-18"),
    "azure_openai": (Usage(31, 3), "gpt-4o-2024-08-06"),
    "openai_compatible": (Usage(30, 4), "llama3.2"),
    "anthropic": (Usage(27, 6), "claude-3-5-haiku-20241022"),
    "gemini": (Usage(21, 15), "gemini-2.5-flash"),  # 3 candidate + 12 thinking tokens
}


def chat(model: str, **parameters: Any) -> CompletionRequest:
    return CompletionRequest(model, (
        Message("system", "You are a terse assistant."),
        Message("user", "Say hello."),
        Message("assistant", "Hello."),
        Message("user", "Again, in French."),
    ), Parameters(**parameters))


def config(kind: str, *, api_key: str | None = KEY, **options: Any) -> ProviderConfig:
    _, base_url, default_options, *_ = TARGETS[kind]
    return ProviderConfig(kind, base_url, api_key, {**default_options, **options})


class Provider:
    """A MockTransport handler that records requests and answers from a list or a callable."""

    def __init__(self, answer: httpx.Response | Callable[[httpx.Request], httpx.Response]
                 ) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request) if callable(self.answer) else self.answer

    @property
    def body(self) -> Any:
        return json.loads(self.requests[-1].content)


async def run(kind: str, provider: Provider, request: CompletionRequest | None = None,
              cfg: ProviderConfig | None = None) -> CompletionResult:
    model = TARGETS[kind][0]
    async with httpx.AsyncClient(transport=httpx.MockTransport(provider)) as client:
        return await ADAPTERS[kind].complete(request or chat(model), config=cfg or config(kind),
                                             client=client)


async def fail(kind: str, provider: Provider, cfg: ProviderConfig | None = None
               ) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        await run(kind, provider, cfg=cfg)
    return info.value


@pytest.mark.parametrize("kind", KINDS)
async def test_chat_request_is_the_documented_one_and_answer_is_normalised(kind: str) -> None:
    model, _, _, url, auth_header, auth_value = TARGETS[kind]
    provider = Provider(httpx.Response(200, json=sample(kind)["response"]))

    result = await run(kind, provider, chat(model, temperature=0.2, top_p=0.9, max_tokens=50,
                                            stop=("END",)))

    sent = provider.requests[0]
    assert (sent.method, str(sent.url)) == ("POST", url)
    assert sent.headers[auth_header] == auth_value
    assert provider.body == sample(kind)["request"]
    assert result.request == provider.body
    assert sent.extensions["timeout"] == httpx.Timeout(60).as_dict()
    usage, response_model = EXPECTED[kind]
    assert (result.output, result.usage, result.response_model, result.finish_reason) == (
        "Bonjour.", usage, response_model, "stop")
    if kind == "anthropic":
        assert sent.headers["anthropic-version"] == "2023-06-01"
    assert KEY not in str(sent.url)


@pytest.mark.parametrize(("kind", "expected"), [
    ("openai", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}),
    ("azure_openai", {"messages": [{"role": "user", "content": "Hi"}]}),
    ("openai_compatible", {"model": "llama3.2",
                           "messages": [{"role": "user", "content": "Hi"}]}),
    ("anthropic", {"model": "claude-3-5-haiku-latest", "max_tokens": 1024,
                   "messages": [{"role": "user", "content": "Hi"}]}),
    ("gemini", {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}),
])
async def test_text_prompt_sends_one_user_message_and_only_needed_fields(
        kind: str, expected: dict[str, Any]) -> None:
    provider = Provider(httpx.Response(200, json=sample(kind)["response"]))
    await run(kind, provider, CompletionRequest.from_text(TARGETS[kind][0], "Hi"))
    assert provider.body == expected


@pytest.mark.parametrize(("kind", "field", "value"), [
    ("openai", "response_format", {"type": "json_object"}),
    ("azure_openai", "response_format", {"type": "json_object"}),
    ("openai_compatible", "response_format", {"type": "json_object"}),
    ("gemini", "generationConfig", {"responseMimeType": "application/json"}),
])
async def test_json_mode_uses_each_providers_switch(kind: str, field: str, value: Any) -> None:
    provider = Provider(httpx.Response(200, json=sample(kind)["response"]))
    await run(kind, provider, CompletionRequest.from_text(
        TARGETS[kind][0], "Answer in JSON", Parameters(response_format="json")))
    assert provider.body[field] == value
    assert ADAPTERS[kind].supports_json_mode


async def test_anthropic_declares_no_json_mode_and_sends_no_unknown_field() -> None:
    provider = Provider(httpx.Response(200, json=sample("anthropic")["response"]))
    await run("anthropic", provider, CompletionRequest.from_text(
        "claude-3-5-haiku-latest", "Answer in JSON", Parameters(response_format="json")))
    assert not ADAPTERS["anthropic"].supports_json_mode
    assert set(provider.body) == {"model", "max_tokens", "messages"}


@pytest.mark.parametrize("kind", KINDS)
async def test_missing_usage_is_none_not_zero(kind: str) -> None:
    answer = sample(kind)["response"]
    answer.pop("usage", None)
    answer.pop("usageMetadata", None)
    result = await run(kind, Provider(httpx.Response(200, json=answer)))
    assert result.usage == Usage(None, None)
    assert result.output == "Bonjour."


@pytest.mark.parametrize(("kind", "usage", "expected"), [
    ("openai", {"prompt_tokens": -5, "completion_tokens": 3}, Usage(None, 3)),
    ("openai", {"prompt_tokens": 5, "completion_tokens": "3"}, Usage(5, None)),
    ("anthropic", {"input_tokens": 5, "output_tokens": -1}, Usage(5, None)),
    ("gemini", {"promptTokenCount": -5, "candidatesTokenCount": 3}, Usage(None, 3)),
    ("gemini", {"promptTokenCount": 5, "candidatesTokenCount": 3, "thoughtsTokenCount": -2},
     Usage(5, None)),
    ("gemini", {"promptTokenCount": 5}, Usage(5, 0)),  # proto3 JSON leaves out zeros
])
async def test_a_count_that_is_not_one_is_unknown(kind: str, usage: dict[str, object],
                                                  expected: Usage) -> None:
    """Negative or non-integer counts cannot be priced: they are unknown, not 0."""
    answer = sample(kind)["response"]
    answer["usageMetadata" if kind == "gemini" else "usage"] = usage
    result = await run(kind, Provider(httpx.Response(200, json=answer)))
    assert result.usage == expected


@pytest.mark.parametrize(("kind", "change", "output", "reason"), [
    ("openai", lambda a: a["choices"][0].update(finish_reason="length"), "Bonjour.", "length"),
    ("anthropic", lambda a: a.update(stop_reason="max_tokens"), "Bonjour.", "length"),
    ("anthropic", lambda a: a.update(stop_reason="stop_sequence"), "Bonjour.", "stop"),
    ("anthropic", lambda a: a.update(content=[{"type": "thinking", "thinking": "hm"},
                                              {"type": "text", "text": "Bon"},
                                              {"type": "text", "text": "jour."}]),
     "Bonjour.", "stop"),
    ("gemini", lambda a: a["candidates"][0].update(finishReason="MAX_TOKENS"), "Bonjour.",
     "length"),
    ("gemini", lambda a: a["candidates"][0].update(finishReason="SAFETY", content=None), "",
     "content_filter"),
    ("gemini", lambda a: a["candidates"][0]["content"]["parts"].insert(
        0, {"text": "thinking…", "thought": True}), "Bonjour.", "stop"),
    ("azure_openai", lambda a: a["choices"][0].update(
        finish_reason="content_filter", message={"role": "assistant", "content": None}), "",
     "content_filter"),
])
async def test_answers_are_normalised(kind: str, change: Callable[[dict[str, Any]], None],
                                      output: str, reason: str) -> None:
    answer = sample(kind)["response"]
    change(answer)
    result = await run(kind, Provider(httpx.Response(200, json=answer)))
    assert (result.output, result.finish_reason) == (output, reason)


async def test_gemini_blocked_prompt_is_a_clear_non_retryable_error() -> None:
    error = await fail("gemini", Provider(httpx.Response(200, json=sample("gemini")["blocked"])))
    assert error.message == "Gemini blocked the prompt (SAFETY)"
    assert not error.retryable


def documented_message(body: dict[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, dict):
        return str(error["message"])
    return str(error) if isinstance(error, str) else str(body["message"])


ERROR_CASES = [(kind, int(status)) for kind in KINDS for status in sample(kind)["errors"]]
RETRY_AFTER = {("openai", 429): 7.0, ("azure_openai", 429): 1.5, ("anthropic", 429): 12.0,
               ("gemini", 429): 22.0}


@pytest.mark.parametrize(("kind", "status"), ERROR_CASES)
async def test_error_answers_carry_the_providers_message_status_and_retry_hint(
        kind: str, status: int) -> None:
    documented = sample(kind)["errors"][str(status)]
    provider = Provider(httpx.Response(status, json=documented["body"],
                                       headers=documented["headers"]))
    error = await fail(kind, provider)
    assert not isinstance(error, ProviderTimeout)
    assert (error.code, error.http_status, error.status) == ("provider_error", 502, status)
    assert documented_message(documented["body"]) in error.message
    assert error.message.startswith(f"{ADAPTERS[kind].display_name} answered HTTP {status}: ")
    assert error.retryable is (status in {429, 500, 502, 503, 504, 529})
    assert error.retry_after_s == RETRY_AFTER.get((kind, status))


async def test_a_non_json_error_page_is_shortened_and_still_retryable() -> None:
    page = "<html><body><h1>502 Bad Gateway</h1>" + "<p>nginx</p>" * 200 + "</body></html>"
    error = await fail("openai", Provider(httpx.Response(502, text=page)))
    assert error.message.startswith("OpenAI answered HTTP 502: <html><body><h1>502 Bad Gateway")
    assert len(error.message) < 400
    assert error.retryable


async def test_an_empty_error_body_falls_back_to_the_reason_phrase() -> None:
    error = await fail("anthropic", Provider(httpx.Response(529)))
    assert error.retryable
    assert error.status == 529
    error = await fail("gemini", Provider(httpx.Response(404)))
    assert error.message == "Gemini answered HTTP 404: Not Found"
    assert not error.retryable


def test_retry_after_parses_seconds_milliseconds_and_http_dates() -> None:
    now = 1_700_000_000.0  # 2023-11-14 22:13:20 GMT
    assert parse_retry_after(httpx.Headers({"retry-after": "3"}), now=now) == 3.0
    assert parse_retry_after(httpx.Headers({"retry-after": "0.25"}), now=now) == 0.25
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "1500", "retry-after": "9"}),
                             now=now) == 1.5
    assert parse_retry_after(httpx.Headers({"retry-after": "Tue, 14 Nov 2023 22:13:50 GMT"}),
                             now=now) == 30.0
    assert parse_retry_after(httpx.Headers({"retry-after": "Tue, 14 Nov 2023 22:00:00 GMT"}),
                             now=now) == 0.0
    for garbage in ("soon", "-5", "nan", "inf", ""):
        assert parse_retry_after(httpx.Headers({"retry-after": garbage}), now=now) is None
    assert parse_retry_after(httpx.Headers(), now=now) is None


UNREADABLE = [b"not json", b"[]", b"{}", b'{"choices": []}', b"[" * 100_000,
              b'{"choices": [{"message": {"content": 42}}]}', b'{"content": "text"}',
              b'{"candidates": [{"content": {"parts": [{"text": 7}]}}]}',
              b'{"content": [{"type": "text"}]}']


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("body", UNREADABLE, ids=lambda b: b[:30].decode())
async def test_a_2xx_that_is_not_the_documented_shape_is_unreadable(kind: str,
                                                                     body: bytes) -> None:
    error = await fail(kind, Provider(httpx.Response(200, content=body)))
    assert error.message == f"{ADAPTERS[kind].display_name} answered an unreadable response"
    assert not error.retryable


async def test_a_body_over_the_cap_is_refused_by_declared_length() -> None:
    huge = httpx.Response(200, headers={"content-length": str(MAX_RESPONSE_BYTES + 1)},
                          content=b"{}")
    error = await fail("openai", Provider(huge))
    assert error.message == "OpenAI answered a response larger than 10 MB"


async def test_a_streamed_body_over_the_cap_is_refused_without_reading_it_all() -> None:
    sent_chunks = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent_chunks
        for _ in range(100):
            sent_chunks += 1
            yield b" " * (1024 * 1024)

    error = await fail("anthropic", Provider(lambda _: httpx.Response(200, content=endless())))
    assert error.message == "Anthropic answered a response larger than 10 MB"
    assert sent_chunks <= 11


@pytest.mark.parametrize("kind", ["openai", "azure_openai", "anthropic", "gemini"])
async def test_a_missing_key_fails_before_anything_is_sent(kind: str) -> None:
    provider = Provider(httpx.Response(200, json=sample(kind)["response"]))
    error = await fail(kind, provider, config(kind, api_key=None))
    assert "needs an API key" in error.message
    assert provider.requests == []


async def test_openai_compatible_sends_no_auth_and_the_simulator_a_stand_in_key() -> None:
    provider = Provider(httpx.Response(200, json=sample("openai_compatible")["response"]))
    await run("openai_compatible", provider, cfg=config("openai_compatible", api_key=None))
    assert "authorization" not in provider.requests[0].headers

    provider = Provider(httpx.Response(200, json=sample("anthropic")["response"]))
    async with httpx.AsyncClient(transport=httpx.MockTransport(provider)) as client:
        await adapter_for("simulator", "sim-claude-haiku").complete(
            CompletionRequest.from_text("sim-claude-haiku", "Hi"),
            config=ProviderConfig("simulator", "http://127.0.0.1:9"), client=client)
    assert str(provider.requests[0].url) == "http://127.0.0.1:9/v1/messages"
    assert provider.requests[0].headers["x-api-key"] == SIMULATOR_KEY


async def test_extra_headers_are_sent_but_cannot_replace_the_credentials() -> None:
    provider = Provider(httpx.Response(200, json=sample("openai")["response"]))
    cfg = config("openai", headers={"X-Sim-Fault": "status=503", "Authorization": "Bearer x"})
    await run("openai", provider, cfg=cfg)
    assert provider.requests[0].headers["x-sim-fault"] == "status=503"
    assert provider.requests[0].headers.get_list("authorization") == [f"Bearer {KEY}"]


async def test_timeout_option_reaches_the_request() -> None:
    provider = Provider(httpx.Response(200, json=sample("gemini")["response"]))
    await run("gemini", provider, cfg=config("gemini", timeout_s=2.5))
    assert provider.requests[0].extensions["timeout"] == httpx.Timeout(2.5).as_dict()


@pytest.mark.parametrize(("kind", "base_url", "model", "url"), [
    ("openai", "https://proxy.example/v1", "gpt-4o", "https://proxy.example/v1/chat/completions"),
    ("openai", "https://proxy.example/", "gpt-4o", "https://proxy.example/v1/chat/completions"),
    ("openai_compatible", "https://api.groq.com/openai/v1", "llama-3.1-8b-instant",
     "https://api.groq.com/openai/v1/chat/completions"),
    ("openai_compatible", "https://api.deepseek.com", "deepseek-chat",
     "https://api.deepseek.com/chat/completions"),
    ("anthropic", "http://127.0.0.1:8080/", "claude-x", "http://127.0.0.1:8080/v1/messages"),
    ("gemini", "", "models/gemini-2.0-flash", "https://generativelanguage.googleapis.com/"
     "v1beta/models/gemini-2.0-flash:generateContent"),
    ("gemini", "", "a/../b?key=x", "https://generativelanguage.googleapis.com/"
     "v1beta/models/a%2F..%2Fb%3Fkey%3Dx:generateContent"),
    ("azure_openai", "https://contoso.openai.azure.com", "gpt-4o-mini",
     "https://contoso.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions"
     "?api-version=2025-01-01-preview"),
])
async def test_base_url_conventions(kind: str, base_url: str, model: str, url: str) -> None:
    provider = Provider(httpx.Response(200, json=sample(kind)["response"]))
    options = {"api_version": "2025-01-01-preview"} if kind == "azure_openai" else {}
    await run(kind, provider, CompletionRequest.from_text(model, "Hi"),
              ProviderConfig(kind, base_url, KEY, options))
    assert str(provider.requests[0].url) == url


@pytest.mark.parametrize("kind", ["azure_openai", "openai_compatible"])
async def test_kinds_without_a_default_base_url_ask_for_one(kind: str) -> None:
    provider = Provider(httpx.Response(200))
    error = await fail(kind, provider, ProviderConfig(kind, "", KEY))
    assert "needs a base_url" in error.message
    assert provider.requests == []


def test_adapter_for_resolves_kinds_and_simulator_models() -> None:
    for kind in KINDS:
        assert adapter_for(kind, "any-model").kind == kind
    assert adapter_for("simulator", "sim-gpt-mini").kind == "openai"
    assert adapter_for("simulator", "sim-claude-haiku").kind == "anthropic"
    assert adapter_for("simulator", "sim-gemini-flash").kind == "gemini"
    with pytest.raises(ProviderError, match=r"no model 'gpt-4o'.*sim-gpt-\*"):
        adapter_for("simulator", "gpt-4o")
    with pytest.raises(ProviderError, match="unknown provider kind 'cohere'"):
        adapter_for("cohere", "command-r")


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A real TCP server that accepts, reads, and never answers."""
    writers: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(-1)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    for writer in writers:
        writer.close()
    await server.wait_closed()


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def test_a_provider_that_never_answers_is_a_non_retryable_timeout(
        silent_server: str) -> None:
    cfg = ProviderConfig("anthropic", silent_server, KEY, {"timeout_s": 0.2})
    async with provider_http_client() as client:
        with pytest.raises(ProviderTimeout) as info:
            await ADAPTERS["anthropic"].complete(chat("claude-x"), config=cfg, client=client)
    assert info.value.message == "Anthropic did not answer within 0.2 s"
    assert (info.value.code, info.value.http_status) == ("provider_timeout", 504)
    assert not info.value.retryable


async def test_a_refused_connection_is_a_retryable_provider_error() -> None:
    cfg = ProviderConfig("openai_compatible", closed_port_url() + "/v1", None)
    async with provider_http_client() as client:
        with pytest.raises(ProviderError) as info:
            await ADAPTERS["openai_compatible"].complete(chat("m"), config=cfg, client=client)
    assert not isinstance(info.value, ProviderTimeout)
    assert info.value.message == "could not reach OpenAI-compatible provider (ConnectError)"
    assert info.value.retryable
    assert info.value.status is None


async def test_the_key_appears_in_no_error_message_and_no_recorded_request(
        silent_server: str) -> None:
    """Drive every failure path with a key a provider might echo; scan everything we keep."""
    seen: list[str] = []

    def keep(thing: object) -> None:
        seen.append(repr(thing))
        if isinstance(thing, BaseException):
            seen.extend([str(thing), repr(thing.args), repr(vars(thing))])

    echo = {"error": {"message": f"Incorrect API key provided: {KEY}"}}
    for kind in KINDS:
        answers = [httpx.Response(int(s), json=e["body"], headers=e["headers"])
                   for s, e in sample(kind)["errors"].items()]
        answers += [httpx.Response(401, json=echo), httpx.Response(400, text=f"bad key {KEY}"),
                    httpx.Response(200, content=b"nope")]
        for answer in answers:
            error = await fail(kind, Provider(answer))
            keep(error)
            if KEY in answer.text:
                assert "[redacted]" in error.message
        result = await run(kind, Provider(httpx.Response(200, json=sample(kind)["response"])))
        keep(result)
        seen.append(json.dumps(result.request))
        keep(ProviderConfig(kind, "", KEY))
        for cfg in (ProviderConfig(kind, silent_server, KEY, {"timeout_s": 0.05}),
                    ProviderConfig(kind, closed_port_url(), KEY)):
            async with provider_http_client() as client:
                with pytest.raises(ProviderError) as info:
                    await ADAPTERS[kind].complete(chat("m"), config=cfg, client=client)
            keep(info.value)
    assert len(seen) > 50
    assert not [text for text in seen if KEY in text]


async def test_a_connect_timeout_never_reached_the_provider_so_it_is_retryable() -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("timed out", request=request)

    error = await fail("gemini", Provider(unreachable))
    assert isinstance(error, ProviderTimeout)
    assert error.message == "Gemini could not be reached within 60 s"
    assert error.retryable


async def test_a_connection_dropped_before_the_answer_is_retryable() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.close()

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        cfg = ProviderConfig("openai", f"http://127.0.0.1:{port}", KEY)
        async with provider_http_client() as client:
            with pytest.raises(ProviderError) as info:
                await ADAPTERS["openai"].complete(chat("gpt-4o"), config=cfg, client=client)
    finally:
        server.close()
        await server.wait_closed()
    assert info.value.message == "could not reach OpenAI (RemoteProtocolError)"
    assert info.value.retryable


# --- Against the shared doc-derived samples (tests/providers/fixtures/*.json) ------------------
# Written independently of the samples above, from the same references: a second reading.

SHARED = Path(__file__).parent / "fixtures"


def shared(name: str) -> Any:
    return json.loads((SHARED / name).read_text())


@pytest.mark.parametrize(("kind", "name", "output", "usage", "model", "reason"), [
    ("openai", "openai_chat_response.json", "Hello! How can I assist you today?", Usage(19, 10),
     "gpt-4o-2024-08-06", "stop"),
    ("openai", "openai_chat_response_length.json", "Hello! How can", Usage(19, 4),
     "gpt-4o-2024-08-06", "length"),
    ("azure_openai", "azure_openai_chat_response.json", None, Usage(29, 13),
     "gpt-4o-2024-08-06", "stop"),
    ("anthropic", "anthropic_messages_response.json", "Hello!", Usage(12, 6),
     "claude-sonnet-4-5", "stop"),
    ("anthropic", "anthropic_messages_response_max_tokens.json", "Large language models are",
     Usage(22, 5), "claude-sonnet-4-5", "length"),
    ("anthropic", "anthropic_messages_response_stop_sequence.json",
     "Here is the first part of the answer", Usage(25, 9), "claude-sonnet-4-5", "stop"),
    ("gemini", "gemini_generate_content_response.json", None, Usage(4, 15),
     "gemini-2.0-flash", "stop"),
    ("gemini", "gemini_generate_content_response_max_tokens.json", "AI works by learning",
     Usage(4, 4), "gemini-2.0-flash", "length"),
])
async def test_shared_response_samples_parse(kind: str, name: str, output: str | None,
                                             usage: Usage, model: str, reason: str) -> None:
    result = await run(kind, Provider(httpx.Response(200, json=shared(name))))
    if output is None:  # long texts: check the start
        assert len(result.output) > 40
    else:
        assert result.output == output
    assert (result.usage, result.response_model, result.finish_reason) == (usage, model, reason)


SHARED_ERRORS = sorted(p.name for p in SHARED.glob("*_error_*.json"))


@pytest.mark.parametrize("name", SHARED_ERRORS)
async def test_shared_error_samples_carry_the_providers_message(name: str) -> None:
    kind = next(k for k in ("azure_openai", "openai", "anthropic", "gemini")
                if name.startswith(k + "_"))
    status = int(name.split("_error_")[1][:3])
    body = shared(name)
    error = await fail(kind, Provider(httpx.Response(status, json=body)))
    assert error.status == status
    assert error.retryable is (status in {429, 500, 502, 503, 504, 529})
    assert documented_message(body)[:200] in error.message
    if name == "gemini_error_429.json":
        assert error.retry_after_s == 22.0


@pytest.mark.parametrize(("kind", "name", "neutral"), [
    ("anthropic", "anthropic_messages_request.json", CompletionRequest(
        "claude-sonnet-4-5", (Message("system", "You are a concise assistant."),
                              Message("user", "Hello, Claude")),
        Parameters(temperature=0.5, top_p=0.9, max_tokens=1024, stop=("\n\nHuman:",)))),
    ("azure_openai", "azure_openai_chat_request.json", CompletionRequest(
        "gpt-4o", (Message("system", "You are a helpful assistant."),
                   Message("user", "Does Azure OpenAI support customer managed keys?")),
        Parameters(temperature=0.7, max_tokens=800))),
    ("gemini", "gemini_generate_content_request_multiturn.json", CompletionRequest(
        "gemini-2.0-flash", (Message("user", "Hello"), Message(
            "assistant", "Great to meet you. What would you like to know?"), Message(
            "user", "I have two dogs in my house. How many paws are in my house?")))),
    ("openai", "openai_chat_request_json_mode.json", CompletionRequest(
        "gpt-4o-mini", (Message("system", "You are a helpful assistant designed to output JSON."),
                        Message("user", "Who won the world series in 2020?")),
        Parameters(response_format="json"))),
])
async def test_shared_request_samples_are_what_the_adapters_send(
        kind: str, name: str, neutral: CompletionRequest) -> None:
    provider = Provider(httpx.Response(200, json=sample(kind)["response"]))
    await run(kind, provider, neutral)
    assert provider.body == shared(name)


# --- Against the simulator, over real HTTP ---------------------------------------------------
# The simulator serves every format at its real path; faults are chosen per request by the
# x-simulator-* headers, which an adapter sends from options["headers"] like any extra header.

# kind → (model, path appended to the simulator's URL for base_url)
SIM_TARGETS = {
    "openai": ("sim-gpt-mini", ""),
    "azure_openai": ("sim-gpt-mini", ""),
    "openai_compatible": ("sim-gpt-mini", "/v1"),
    "anthropic": ("sim-claude-haiku", ""),
    "gemini": ("sim-gemini-flash", ""),
}
SIM_MODELS = ["sim-gpt-mini", "sim-claude-haiku", "sim-gemini-flash"]


async def on_simulator(simulator_url: str, kind: str, request: CompletionRequest | None = None,
                       *, headers: dict[str, str] | None = None, **options: Any
                       ) -> CompletionResult:
    """One call of ``kind``'s adapter (``simulator``: the sim adapter for the model)."""
    if kind == "simulator":
        model = request.model if request else "sim-gpt-mini"
        adapter, cfg = adapter_for("simulator", model), ProviderConfig("simulator", simulator_url)
    else:
        model, path = SIM_TARGETS[kind]
        adapter, cfg = ADAPTERS[kind], ProviderConfig(kind, simulator_url + path, KEY)
    cfg.options.update(options, headers=headers or {})
    async with provider_http_client() as client:
        return await adapter.complete(request or chat(model), config=cfg, client=client)


def sim_cases() -> list[tuple[str, str]]:
    """(kind, model): every adapter, and the simulator kind for each of its model families."""
    return [(kind, SIM_TARGETS[kind][0]) for kind in KINDS] + [
        ("simulator", model) for model in SIM_MODELS]


@pytest.mark.parametrize(("kind", "model"), sim_cases())
async def test_simulator_chat_and_text_prompts(simulator_url: str, kind: str,
                                               model: str) -> None:
    result = await on_simulator(simulator_url, kind, chat(model, temperature=0.2, top_p=0.9))
    assert result.output.startswith("Simulated answer to: Again, in French.")
    assert result.finish_reason == "stop"
    assert (result.usage.input_tokens or 0) > 10
    assert (result.usage.output_tokens or 0) > 5
    assert result.response_model is not None
    assert model in result.response_model

    text = await on_simulator(simulator_url, kind, CompletionRequest.from_text(model, "Hi there"))
    assert text.output.startswith("Simulated answer to: Hi there")
    assert text.usage.input_tokens is not None
    assert text.usage.input_tokens < result.usage.input_tokens


@pytest.mark.parametrize(("kind", "model"), sim_cases())
async def test_simulator_sees_the_system_message(simulator_url: str, kind: str,
                                                 model: str) -> None:
    """The answer is a function of the system text: changing it must change the answer."""
    def ask(system: str) -> CompletionRequest:
        return CompletionRequest(model, (Message("system", system), Message("user", "Hi")))

    terse = await on_simulator(simulator_url, kind, ask("Be terse."))
    again = await on_simulator(simulator_url, kind, ask("Be terse."))
    wordy = await on_simulator(simulator_url, kind, ask("Be wordy and use many examples."))
    assert terse.output == again.output
    assert terse.output != wordy.output
    assert terse.usage.input_tokens is not None
    assert wordy.usage.input_tokens is not None
    assert wordy.usage.input_tokens > terse.usage.input_tokens


@pytest.mark.parametrize(("kind", "model"), sim_cases())
async def test_simulator_honours_max_tokens_and_stop(simulator_url: str, kind: str,
                                                     model: str) -> None:
    cut = await on_simulator(simulator_url, kind, chat(model, max_tokens=4))
    assert cut.finish_reason == "length"
    assert cut.usage.output_tokens is not None
    assert 0 < cut.usage.output_tokens <= 4
    assert "Simulated answer to: Again, in French.".startswith(cut.output)

    stopped = await on_simulator(simulator_url, kind, chat(model, stop=("answer",)))
    assert (stopped.output.strip(), stopped.finish_reason) == ("Simulated", "stop")


@pytest.mark.parametrize("kind", ["openai", "azure_openai", "openai_compatible", "gemini"])
async def test_simulator_json_mode(simulator_url: str, kind: str) -> None:
    model = SIM_TARGETS[kind][0]
    result = await on_simulator(simulator_url, kind, CompletionRequest.from_text(
        model, "Reply in JSON", Parameters(response_format="json")))
    assert set(json.loads(result.output)) == {"answer", "confidence"}


async def raw_fault_body(simulator_url: str, kind: str, fault: str) -> dict[str, Any]:
    """What the simulator answers for ``fault`` in ``kind``'s format, asked without an adapter."""
    model, path = SIM_TARGETS[kind]
    adapter: Any = ADAPTERS[kind]
    cfg = ProviderConfig(kind, simulator_url + path, KEY)
    async with httpx.AsyncClient() as client:
        url = adapter.url(adapter.base_url(cfg), chat(model), cfg)
        response = await client.post(url, json=adapter.body(chat(model), cfg), headers={
            **adapter.auth_headers(KEY), "x-simulator-fault": fault})
    assert response.status_code >= 400
    return dict(response.json())


FAULT_STATUS = {"429": 429, "500": 500, "503": 503, "529": 503}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", ["429", "500", "503", "529"])
async def test_simulator_http_faults_map_to_provider_errors(simulator_url: str, kind: str,
                                                            fault: str) -> None:
    status = 529 if (kind, fault) == ("anthropic", "529") else FAULT_STATUS[fault]
    headers = {"x-simulator-fault": fault, "x-simulator-retry-after": "3"}
    with pytest.raises(ProviderError) as info:
        await on_simulator(simulator_url, kind, headers=headers)
    error = info.value
    assert not isinstance(error, ProviderTimeout)
    assert (error.status, error.retryable, error.retry_after_s) == (status, True, 3.0)
    name = ADAPTERS[kind].display_name
    assert error.message.startswith(f"{name} answered HTTP {status}: ")
    documented = documented_message(await raw_fault_body(simulator_url, kind, fault))
    assert error.message.endswith(documented)


@pytest.mark.parametrize("kind", [*KINDS, "simulator"])
async def test_simulator_timeout_fault_is_a_provider_timeout(simulator_url: str,
                                                             kind: str) -> None:
    headers = {"x-simulator-fault": "timeout", "x-simulator-delay-ms": "5000"}
    with pytest.raises(ProviderTimeout) as info:
        await on_simulator(simulator_url, kind, headers=headers, timeout_s=0.2)
    assert info.value.message.endswith("did not answer within 0.2 s")
    assert not info.value.retryable


@pytest.mark.parametrize("kind", [*KINDS, "simulator"])
async def test_simulator_body_faults(simulator_url: str, kind: str) -> None:
    with pytest.raises(ProviderError, match=r"answered an unreadable response$"):
        await on_simulator(simulator_url, kind, headers={"x-simulator-fault": "malformed"})

    no_usage = await on_simulator(simulator_url, kind, headers={"x-simulator-fault": "no-usage"})
    assert no_usage.usage == Usage(None, None)
    assert no_usage.output.startswith("Simulated answer to:")

    empty = await on_simulator(simulator_url, kind, headers={"x-simulator-fault": "empty"})
    assert empty.output == ""
    assert empty.usage.output_tokens == 0


@pytest.mark.parametrize("kind", KINDS)
async def test_simulator_rejection_carries_the_providers_message(simulator_url: str,
                                                                 kind: str) -> None:
    with pytest.raises(ProviderError) as info:
        await on_simulator(simulator_url, kind, chat(SIM_TARGETS[kind][0], temperature=-3))
    assert info.value.status == 400
    assert not info.value.retryable
    assert "temperature" in info.value.message.lower()
