"""The provider simulator over real HTTP: wire formats, determinism, limits, faults."""

from __future__ import annotations

import asyncio
import copy
import json
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Message

from scope_api.providers.simulator.behaviour import Prompt, answer, count_tokens
from scope_api.providers.simulator.faults import hold_until
from tests.live import base_env, free_port, scope_command
from tests.providers.conftest import load_fixture

Body = dict[str, Any]


def _openai_text(body: Body) -> str:
    content: str = body["choices"][0]["message"]["content"]
    return content


def _openai_usage(body: Body) -> tuple[int, int]:
    return body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]


def _openai_limit(body: Body, limit: int) -> Body:
    return {**body, "max_completion_tokens": limit}


def _anthropic_text(body: Body) -> str:
    return "".join(block["text"] for block in body["content"] if block["type"] == "text")


def _anthropic_usage(body: Body) -> tuple[int, int]:
    return body["usage"]["input_tokens"], body["usage"]["output_tokens"]


def _gemini_text(body: Body) -> str:
    parts = body["candidates"][0]["content"].get("parts", [])
    return "".join(part.get("text", "") for part in parts)


def _gemini_usage(body: Body) -> tuple[int, int]:
    metadata = body["usageMetadata"]
    return metadata["promptTokenCount"], metadata.get("candidatesTokenCount", 0)


def _gemini_config(body: Body, **config: Any) -> Body:
    body = copy.deepcopy(body)
    body.setdefault("generationConfig", {}).update(config)
    return body


@dataclass(frozen=True)
class Wire:
    """How to talk to, and read, one simulated provider."""

    path: str
    headers: dict[str, str]
    request: str
    response: str
    text: Callable[[Body], str]
    usage: Callable[[Body], tuple[int, int]]
    finish: Callable[[Body], str]
    limit: Callable[[Body, int], Body]
    stop: Callable[[Body, list[str]], Body]
    #: finish reasons for (a complete answer, a stop sequence, the token limit)
    finishes: tuple[str, str, str]
    #: the doc-derived error sample for each status it answers
    errors: dict[int, str]
    #: fields the documentation allows to be absent or null
    optional: frozenset[str] = frozenset()


NULLABLE_OPENAI_ERROR = frozenset({"$.error.param", "$.error.code"})
OPENAI_ERRORS = {400: "openai_error_400.json", 401: "openai_error_401.json",
                 429: "openai_error_429.json", 500: "openai_error_500.json",
                 503: "openai_error_503.json"}
WIRES = {
    "openai": Wire(
        "/v1/chat/completions", {"authorization": "Bearer sk-test"},
        "openai_chat_request.json", "openai_chat_response.json", _openai_text, _openai_usage,
        lambda b: b["choices"][0]["finish_reason"], _openai_limit,
        lambda b, stops: {**b, "stop": stops}, ("stop", "stop", "length"), OPENAI_ERRORS),
    "azure_openai": Wire(
        "/openai/deployments/sim-gpt-mini/chat/completions?api-version=2024-10-21",
        {"api-key": "azure-test-key"},
        "azure_openai_chat_request.json", "azure_openai_chat_response.json", _openai_text,
        _openai_usage, lambda b: b["choices"][0]["finish_reason"], _openai_limit,
        lambda b, stops: {**b, "stop": stops}, ("stop", "stop", "length"),
        {**OPENAI_ERRORS, 401: "azure_openai_error_401.json",
         404: "azure_openai_error_404.json", 429: "azure_openai_error_429.json"}),
    "anthropic": Wire(
        "/v1/messages", {"x-api-key": "sk-ant-test", "anthropic-version": "2023-06-01"},
        "anthropic_messages_request.json", "anthropic_messages_response.json",
        _anthropic_text, _anthropic_usage, lambda b: b["stop_reason"],
        lambda b, limit: {**b, "max_tokens": limit},
        lambda b, stops: {**b, "stop_sequences": stops},
        ("end_turn", "stop_sequence", "max_tokens"),
        {400: "anthropic_error_400.json", 401: "anthropic_error_401.json",
         429: "anthropic_error_429.json", 500: "anthropic_error_500.json",
         503: "anthropic_error_529.json", 529: "anthropic_error_529.json"}),
    "gemini": Wire(
        "/v1beta/models/gemini-2.0-flash:generateContent", {"x-goog-api-key": "gemini-test"},
        "gemini_generate_content_request.json", "gemini_generate_content_response.json",
        _gemini_text, _gemini_usage, lambda b: b["candidates"][0]["finishReason"],
        lambda b, limit: _gemini_config(b, maxOutputTokens=limit),
        lambda b, stops: _gemini_config(b, stopSequences=stops), ("STOP", "STOP", "MAX_TOKENS"),
        {400: "gemini_error_400.json", 403: "gemini_error_403.json",
         429: "gemini_error_429.json", 500: "gemini_error_500.json",
         503: "gemini_error_503.json"},
        optional=frozenset({"$.candidates[0].avgLogprobs",
                            "$.usageMetadata.candidatesTokensDetails"})),
}
ALL = pytest.mark.parametrize("wire_name", list(WIRES))


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def assert_shape(actual: Any, documented: Any, optional: frozenset[str] = frozenset(),
                 path: str = "$") -> None:
    """Every field of the documented sample is in ``actual``, with the same JSON type.

    Fields named in ``optional`` (by path, e.g. ``$.error.param``) may be absent or null.
    """
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        for key, value in documented.items():
            if f"{path}.{key}" in optional and actual.get(key) is None:
                continue
            assert key in actual, f"{path}: {key!r} missing from {sorted(actual)}"
            assert_shape(actual[key], value, optional, f"{path}.{key}")
    elif isinstance(documented, list):
        assert isinstance(actual, list), f"{path}: expected an array, got {actual!r}"
        for index, (got, sample) in enumerate(zip(actual, documented, strict=False)):
            assert_shape(got, sample, optional, f"{path}[{index}]")
    elif documented is not None:  # a documented null may be a string when set
        assert _kind(actual) == _kind(documented), f"{path}: {actual!r} vs {documented!r}"


@pytest.fixture
async def sim(simulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=simulator_url, timeout=10) as client:
        yield client


async def call(sim: httpx.AsyncClient, wire: Wire, body: Body | bytes | None = None, /,
               **headers: str) -> httpx.Response:
    """POST ``body`` (default: the wire's doc-derived request) the wire's way."""
    body = load_fixture(wire.request) if body is None else body
    merged = {**wire.headers, **{k.replace("_", "-"): v for k, v in headers.items()}}
    if isinstance(body, bytes):
        return await sim.post(wire.path, content=body,
                              headers={**merged, "content-type": "application/json"})
    return await sim.post(wire.path, json=body, headers=merged)


def _a_later_word(text: str) -> str:
    """The longest word of the answer's last sentence: a stop sequence that cuts it."""
    last_sentence = text.rstrip(".").rsplit(".", 1)[-1]
    return max(last_sentence.split(), key=len)


# --- wire formats ---------------------------------------------------------------------

@ALL
async def test_answers_have_the_documented_shape(sim: httpx.AsyncClient, wire_name: str) -> None:
    wire = WIRES[wire_name]
    response = await call(sim, wire)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert_shape(body, load_fixture(wire.response), wire.optional)
    assert wire.text(body).startswith("Simulated answer to: ")
    assert wire.finish(body) == wire.finishes[0]
    prompt_tokens, output_tokens = wire.usage(body)
    assert prompt_tokens > 0
    assert output_tokens == count_tokens(wire.text(body)) > 0


async def test_answers_echo_the_last_user_message_and_the_model(sim: httpx.AsyncClient) -> None:
    openai = (await call(sim, WIRES["openai"])).json()
    assert _openai_text(openai).startswith("Simulated answer to: Hello! ")
    assert openai["model"] == "gpt-4o"
    blocks = load_fixture("anthropic_messages_request_blocks.json")
    anthropic = (await call(sim, WIRES["anthropic"], blocks)).json()
    assert _anthropic_text(anthropic).startswith(
        "Simulated answer to: Can you explain LLMs in plain English? ")
    assert anthropic["model"] == "claude-haiku-4-5"
    turns = load_fixture("gemini_generate_content_request_multiturn.json")
    gemini = (await call(sim, WIRES["gemini"], turns)).json()
    assert _gemini_text(gemini).startswith(
        "Simulated answer to: I have two dogs in my house. How… ")
    assert gemini["modelVersion"] == "gemini-2.0-flash"
    azure = (await call(sim, WIRES["azure_openai"])).json()
    assert azure["model"] == "sim-gpt-mini"  # no model in the body: the deployment's


@ALL
async def test_the_same_request_gets_the_same_answer_and_tokens(sim: httpx.AsyncClient,
                                                               wire_name: str) -> None:
    wire = WIRES[wire_name]
    first, second = [(await call(sim, wire)).json() for _ in range(2)]
    assert wire.text(first) == wire.text(second)
    assert wire.usage(first) == wire.usage(second)
    other = json.loads(json.dumps(load_fixture(wire.request)).replace(
        "Hello", "Good evening").replace("AI works", "rainbows form").replace(
        "customer managed keys", "private networking"))
    different = (await call(sim, wire, other)).json()
    assert wire.text(different) != wire.text(first)


async def test_input_tokens_follow_the_documented_rule_in_every_format(
        sim: httpx.AsyncClient) -> None:
    # 3 to prime the reply + (4 + 3 for "Be", "brief", ".") + (4 + 2 for "Hello", "world")
    expected = 16
    openai = await call(sim, WIRES["openai"], {"model": "m", "messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello world"}]})
    anthropic = await call(sim, WIRES["anthropic"], {
        "model": "m", "max_tokens": 100, "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hello world"}]})
    gemini = await call(sim, WIRES["gemini"], {
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [{"role": "user", "parts": [{"text": "Hello world"}]}]})
    assert _openai_usage(openai.json())[0] == expected
    assert _anthropic_usage(anthropic.json())[0] == expected
    assert _gemini_usage(gemini.json())[0] == expected
    assert openai.json()["usage"]["total_tokens"] == sum(_openai_usage(openai.json()))
    assert gemini.json()["usageMetadata"]["totalTokenCount"] == sum(_gemini_usage(gemini.json()))


async def test_content_parts_are_read_and_non_text_parts_cost_a_flat_85(
        sim: httpx.AsyncClient) -> None:
    response = await call(sim, WIRES["openai"],
                          load_fixture("openai_chat_request_content_parts.json"))
    assert response.status_code == 200, response.text
    texts = ["You are a terse assistant.", "What is in this image?",
             "A cat sitting on a windowsill.", "What colour is it?"]
    assert _openai_usage(response.json())[0] == 3 + sum(4 + count_tokens(t) for t in texts) + 85
    assert _openai_text(response.json()).startswith("Simulated answer to: What colour is it? ")


# --- limits, stop sequences, JSON mode --------------------------------------------------

@ALL
async def test_max_tokens_truncates_the_same_answer(sim: httpx.AsyncClient,
                                                    wire_name: str) -> None:
    wire = WIRES[wire_name]
    request = load_fixture(wire.request)
    full = (await call(sim, wire, wire.limit(request, 4096))).json()
    cut = (await call(sim, wire, wire.limit(request, 5))).json()
    assert wire.finish(full) == wire.finishes[0]
    assert wire.finish(cut) == wire.finishes[2]
    assert wire.text(full).startswith(wire.text(cut))
    assert len(wire.text(cut)) < len(wire.text(full))
    _, output_tokens = wire.usage(cut)
    assert output_tokens == count_tokens(wire.text(cut)) <= 5
    assert output_tokens >= 4  # it fills the budget up to the last whole word
    assert wire.usage(cut)[0] == wire.usage(full)[0]


@ALL
async def test_a_stop_sequence_cuts_the_answer_where_it_first_appears(
        sim: httpx.AsyncClient, wire_name: str) -> None:
    wire = WIRES[wire_name]
    request = wire.stop(load_fixture(wire.request), [])
    full = wire.text((await call(sim, wire, request)).json())
    stop = _a_later_word(full)
    body = (await call(sim, wire, wire.stop(request, ["never appears", stop]))).json()
    expected = full[:full.index(stop)]
    assert wire.text(body) == expected
    assert wire.finish(body) == wire.finishes[1]
    assert wire.usage(body)[1] == count_tokens(expected)
    if wire_name == "anthropic":
        assert body["stop_sequence"] == stop


@pytest.mark.parametrize(("wire_name", "request_fixture"), [
    ("openai", "openai_chat_request_json_mode.json"),
    ("gemini", "gemini_generate_content_request_json_mode.json"),
])
async def test_json_mode_answers_a_json_object(sim: httpx.AsyncClient, wire_name: str,
                                               request_fixture: str) -> None:
    wire = WIRES[wire_name]
    response = await call(sim, wire, load_fixture(request_fixture))
    assert response.status_code == 200, response.text
    parsed = json.loads(wire.text(response.json()))
    assert isinstance(parsed["answer"], str)
    assert parsed["answer"].startswith("Simulated answer to: ")
    assert 0 <= parsed["confidence"] <= 1


def test_the_seed_changes_answers_and_nothing_else_does() -> None:
    prompt = Prompt(model="m", turns=(("user", "Tell me a story"),))
    assert answer(prompt, seed=7) == answer(prompt, seed=7)
    assert answer(prompt, seed=7).text != answer(prompt, seed=8).text
    assert answer(prompt, seed=7).input_tokens == answer(prompt, seed=8).input_tokens


@pytest.mark.parametrize(("text", "tokens"), [
    ("", 0), ("Hello, world!", 4), ("internationalization", 4), ("a  b\n\tc", 3),
    ("你好", 2), ("café", 2), ('{"answer": 1}', 7),
])
def test_token_counting_rule(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


# --- injected faults ----------------------------------------------------------------------

@pytest.mark.parametrize("fault", ["429", "500", "503", "529"])
@ALL
async def test_http_faults_answer_the_providers_error(sim: httpx.AsyncClient, wire_name: str,
                                                      fault: str) -> None:
    wire = WIRES[wire_name]
    # 529 is Anthropic's own status; the others say 503
    status = 503 if fault == "529" and wire_name != "anthropic" else int(fault)
    response = await call(sim, wire, x_simulator_fault=fault)
    assert response.status_code == status, response.text
    assert_shape(response.json(), load_fixture(wire.errors[status]), NULLABLE_OPENAI_ERROR)
    if status == 429:
        assert response.headers["retry-after"] == "1"
    else:
        assert "retry-after" not in response.headers


@ALL
async def test_retry_after_is_what_the_test_asks_for(sim: httpx.AsyncClient,
                                                     wire_name: str) -> None:
    wire = WIRES[wire_name]
    limited = await call(sim, wire, x_simulator_fault="429", x_simulator_retry_after="7")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    unavailable = await call(sim, wire, x_simulator_fault="503", x_simulator_retry_after="2")
    assert unavailable.status_code == 503
    assert unavailable.headers["retry-after"] == "2"
    if wire_name == "gemini":  # Gemini also says it in the body, as RetryInfo
        details = limited.json()["error"]["details"]
        assert {"@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": "7s"} in details


@ALL
async def test_malformed_fault_is_a_200_with_invalid_json(sim: httpx.AsyncClient,
                                                          wire_name: str) -> None:
    response = await call(sim, WIRES[wire_name], x_simulator_fault="malformed")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.text.startswith("{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


@ALL
async def test_no_usage_fault_drops_only_the_usage(sim: httpx.AsyncClient,
                                                   wire_name: str) -> None:
    wire = WIRES[wire_name]
    normal = (await call(sim, wire)).json()
    bare = (await call(sim, wire, x_simulator_fault="no-usage")).json()
    assert not {"usage", "usageMetadata"} & set(bare)
    assert {"usage", "usageMetadata"} & set(normal)
    assert wire.text(bare) == wire.text(normal)


async def test_empty_fault_answers_nothing_each_providers_way(sim: httpx.AsyncClient) -> None:
    openai = (await call(sim, WIRES["openai"], x_simulator_fault="empty")).json()
    assert openai["choices"][0]["message"]["content"] == ""
    assert openai["usage"]["completion_tokens"] == 0
    anthropic = (await call(sim, WIRES["anthropic"], x_simulator_fault="empty")).json()
    assert anthropic["content"] == []
    assert (anthropic["stop_reason"], anthropic["usage"]["output_tokens"]) == ("end_turn", 0)
    gemini = (await call(sim, WIRES["gemini"], x_simulator_fault="empty")).json()
    assert gemini["candidates"][0]["content"] == {"role": "model"}  # no parts at all
    assert "candidatesTokenCount" not in gemini["usageMetadata"]  # proto3 omits zeros
    assert gemini["usageMetadata"]["totalTokenCount"] == gemini["usageMetadata"][
        "promptTokenCount"]


async def test_timeout_fault_holds_the_call_until_the_client_gives_up(
        simulator_url: str, sim: httpx.AsyncClient, simulator_key: str) -> None:
    wire = WIRES["openai"]
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=simulator_url, timeout=0.3) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await call(impatient, wire, x_simulator_fault="timeout",
                       x_simulator_key=simulator_key)
    assert time.monotonic() - started >= 0.3
    # The simulator notices the client left and stops holding the call (30 s by default).
    calls: Body = {}
    for _ in range(250):
        calls = (await sim.get("/_simulator/calls", params={"key": simulator_key})).json()
        if calls["in_flight"] == 0:
            break
        await asyncio.sleep(0.02)  # polling the simulator's own count
    assert calls == {"key": simulator_key, "calls": 1, "in_flight": 0, "answered": 0}


async def test_timeout_delay_and_latency_are_settable_per_request(
        sim: httpx.AsyncClient) -> None:
    wire = WIRES["gemini"]
    normal = (await call(sim, wire)).json()
    started = time.monotonic()
    slow = await call(sim, wire, x_simulator_fault="timeout", x_simulator_delay_ms="200")
    assert time.monotonic() - started >= 0.2
    assert slow.status_code == 200
    assert _gemini_text(slow.json()) == _gemini_text(normal)
    started = time.monotonic()
    late = await call(sim, wire, x_simulator_latency_ms="150")
    assert time.monotonic() - started >= 0.15
    assert _gemini_text(late.json()) == _gemini_text(normal)


def test_latency_is_held_in_full_on_uvloop() -> None:
    # `scope serve` runs on uvloop, whose timers round to whole milliseconds: one sleep
    # of 10.4 ms ends after ~10.1 ms, and a provider said to take 80 ms took 79.7.
    import uvloop

    async def connected() -> Message:
        await asyncio.Event().wait()  # the client never leaves
        raise AssertionError("unreachable")

    async def holds() -> list[float]:
        held = []
        for _ in range(5):
            started = time.monotonic()
            assert await hold_until(started + 0.0104, connected)
            held.append(time.monotonic() - started)
        return held

    assert min(uvloop.run(holds())) >= 0.0104


@ALL
async def test_fail_times_fails_only_the_first_calls_of_a_key(
        sim: httpx.AsyncClient, wire_name: str, simulator_key: str) -> None:
    wire = WIRES[wire_name]
    headers = {"x_simulator_fault": "503", "x_simulator_fail_times": "2",
               "x_simulator_key": simulator_key}
    statuses = [(await call(sim, wire, **headers)).status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    counted = await sim.get("/_simulator/calls", params={"key": simulator_key})
    assert counted.json() == {"key": simulator_key, "calls": 4, "in_flight": 0,
                              "answered": 2}
    other_key = (await call(sim, wire, **{**headers, "x_simulator_key": simulator_key + "-b"}))
    assert other_key.status_code == 503  # each key counts on its own
    reset = await sim.post("/_simulator/reset", params={"key": simulator_key})
    assert reset.status_code == 204
    assert (await sim.get("/_simulator/calls", params={"key": simulator_key})).json()[
        "calls"] == 0
    assert (await call(sim, wire, **headers)).status_code == 503  # counting starts over


# --- refusals ---------------------------------------------------------------------------

INVALID: list[tuple[str, Body | bytes, str]] = [
    ("openai", b"{not json", "could not parse the JSON body"),
    ("openai", {"model": "gpt-4o"}, "Missing required parameter: 'messages'."),
    ("openai", {"model": "gpt-4o", "messages": "hi"}, "Invalid type for 'messages'"),
    ("openai", {"model": "gpt-4o", "messages": []}, "empty array"),
    ("openai", {"messages": [{"role": "user", "content": "hi"}]}, "must provide a model"),
    ("openai", {"model": "m", "messages": [{"role": "wizard", "content": "hi"}]},
     "Invalid value: 'wizard'"),
    ("openai", {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                "temperature": 3}, "decimal above maximum value"),
    ("openai", {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 0}, "integer below minimum value"),
    ("openai", {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                "stop": ["a", "b", "c", "d", "e"]}, "array too long"),
    ("openai", {"model": "m", "messages": [{"role": "user", "content": "hi"}],
                "response_format": {"type": "json_object"}}, "must contain the word 'json'"),
    ("azure_openai", {"messages": []}, "empty array"),
    ("anthropic", b"[1,", "error parsing the body"),
    ("anthropic", {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
     "max_tokens: Field required"),
    ("anthropic", {"model": "m", "max_tokens": "lots",
                   "messages": [{"role": "user", "content": "hi"}]},
     "max_tokens: Input should be a valid integer"),
    ("anthropic", {"model": "m", "max_tokens": 10,
                   "messages": [{"role": "system", "content": "hi"}]}, "messages.0.role"),
    ("anthropic", {"model": "m", "max_tokens": 10, "temperature": 1.5,
                   "messages": [{"role": "user", "content": "hi"}]},
     "temperature: Input should be between 0 and 1"),
    ("anthropic", {"model": "m", "max_tokens": 10, "messages": []},
     "at least one message is required"),
    ("gemini", b"{", "Invalid JSON payload received"),
    ("gemini", {"contents": []}, "contents is not specified"),
    ("gemini", {"contents": [{"parts": [{"text": "hi"}]}], "generationConfig": {"max_tokens": 5}},
     'Unknown name "max_tokens" at \'generation_config\''),
    ("gemini", {"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]},
     "Please use a valid role: user, model."),
    ("gemini", {"contents": [{"role": "user", "parts": []}]}, "parts must not be empty"),
    ("gemini", {"contents": [{"parts": [{"text": "hi"}]}],
                "generationConfig": {"maxOutputTokens": "ten"}},
     "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32)"),
]


@pytest.mark.parametrize(("wire_name", "body", "message"), INVALID)
async def test_invalid_requests_get_the_providers_400(sim: httpx.AsyncClient, wire_name: str,
                                                      body: Body | bytes, message: str) -> None:
    wire = WIRES[wire_name]
    response = await call(sim, wire, body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert_shape(error, load_fixture(wire.errors[400]), NULLABLE_OPENAI_ERROR)
    assert message in json.dumps(error, ensure_ascii=False).replace('\\"', '"')


async def test_openai_400s_name_the_parameter_and_code(sim: httpx.AsyncClient) -> None:
    response = await call(sim, WIRES["openai"], {
        "model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"})
    assert response.json()["error"] == {
        "message": "Invalid type for 'temperature': expected a decimal, but got string instead.",
        "type": "invalid_request_error", "param": "temperature", "code": "invalid_type"}


@pytest.mark.parametrize(("wire_name", "headers", "path", "status"), [
    ("openai", {}, None, 401),
    ("openai", {"authorization": "Basic abc"}, None, 401),
    ("azure_openai", {}, None, 401),
    ("azure_openai", {"api-key": "k"}, "/openai/deployments/d/chat/completions", 404),
    ("anthropic", {}, None, 401),
    ("anthropic", {"x-api-key": "k"}, None, 400),  # no anthropic-version
    ("gemini", {}, None, 403),
])
async def test_missing_credentials_are_refused_the_providers_way(
        sim: httpx.AsyncClient, wire_name: str, headers: dict[str, str], path: str | None,
        status: int) -> None:
    wire = WIRES[wire_name]
    response = await sim.post(path or wire.path, json=load_fixture(wire.request),
                              headers=headers)
    assert response.status_code == status, response.text
    assert_shape(response.json(), load_fixture(wire.errors[status]), NULLABLE_OPENAI_ERROR)


async def test_gemini_takes_the_key_from_the_query_too(sim: httpx.AsyncClient) -> None:
    wire = WIRES["gemini"]
    response = await sim.post(wire.path, params={"key": "gemini-test"},
                              json=load_fixture(wire.request))
    assert response.status_code == 200, response.text


@ALL
async def test_unknown_simulator_options_are_a_400_naming_the_choices(
        sim: httpx.AsyncClient, wire_name: str) -> None:
    wire = WIRES[wire_name]
    response = await call(sim, wire, x_simulator_fault="explode")
    assert response.status_code == 400
    assert_shape(response.json(), load_fixture(wire.errors[400]), NULLABLE_OPENAI_ERROR)
    assert "429, 500, 503, 529, timeout, malformed, no-usage, empty" in response.text
    negative = await call(sim, wire, x_simulator_latency_ms="-5")
    assert negative.status_code == 400
    assert "x-simulator-latency-ms" in negative.text


# --- the command ------------------------------------------------------------------------

@pytest.mark.slow
def test_scope_simulate_starts_and_answers(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        scope_command("simulate", "--port", str(port), "--latency-ms", "1"),
        env=base_env(None, tmp_path / "data"), cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    wire = WIRES["anthropic"]
    try:
        deadline = time.monotonic() + 30
        response: httpx.Response | None = None
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            while time.monotonic() < deadline and process.poll() is None:
                try:
                    response = client.post(wire.path, json=load_fixture(wire.request),
                                           headers=wire.headers)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)  # polling until the port answers
        assert response is not None, f"scope simulate never answered (exit {process.poll()})"
        assert response.status_code == 200, response.text
        assert_shape(response.json(), load_fixture(wire.response))
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=10)
    assert process.returncode in (0, -signal.SIGTERM), output  # uvicorn re-raises SIGTERM
    assert f"at http://127.0.0.1:{port}" in output
    assert "Traceback" not in output


async def test_a_fault_rate_mixes_faults_into_a_share_of_calls(
        sim: httpx.AsyncClient, simulator_key: str) -> None:
    wire = WIRES["openai"]
    headers = {"x_simulator_fault_rate": "429=0.2,503=0.1", "x_simulator_key": simulator_key,
               "x_simulator_retry_after": "0"}
    statuses = [(await call(sim, wire, **headers)).status_code for _ in range(300)]
    assert 40 <= statuses.count(429) <= 80  # 20% of 300, give or take
    assert 15 <= statuses.count(503) <= 45
    assert statuses.count(200) + statuses.count(429) + statuses.count(503) == 300
    counted = (await sim.get("/_simulator/calls", params={"key": simulator_key})).json()
    assert counted["answered"] == statuses.count(200)
    # The same key and call numbers give the same mix: a rerun is comparable.
    await sim.post("/_simulator/reset", params={"key": simulator_key})
    again = [(await call(sim, wire, **headers)).status_code for _ in range(300)]
    assert again == statuses
    bad = await call(sim, wire, x_simulator_fault_rate="429=2")
    assert bad.status_code == 400
