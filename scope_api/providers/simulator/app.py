"""The simulator's ASGI app: three wire formats (plus Azure) and a control API.

- ``POST /v1/chat/completions``: OpenAI Chat Completions
- ``POST /openai/deployments/{deployment}/chat/completions?api-version=…``: Azure OpenAI
- ``POST /v1/messages``: Anthropic Messages
- ``POST /v1beta/models/{model}:generateContent`` (and ``/v1/…``): Gemini
- ``GET /_simulator/calls?key=K``: ``{"key", "calls", "in_flight", "answered"}`` for
  that key
- ``POST /_simulator/reset[?key=K]``: forget the call counts (``204``)

Every completion request goes through the same steps: count the call under
its ``x-simulator-key``; check credentials the provider's way; work out the
answer: an HTTP fault, or the body parsed and validated (the provider's ``400``
when invalid), answered deterministically, with any body fault applied
(``malformed``, ``no-usage``, ``empty``); then hold it until the latency (and a
``timeout`` fault's delay) has passed since the request arrived.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from scope_api.providers.simulator.anthropic import AnthropicMessages
from scope_api.providers.simulator.behaviour import answer
from scope_api.providers.simulator.faults import (
    DEFAULT_RETRY_AFTER_S,
    HTTP_FAULTS,
    KEY_HEADER,
    CallLedger,
    OptionError,
    Options,
    hold_until,
)
from scope_api.providers.simulator.gemini import GeminiGenerateContent
from scope_api.providers.simulator.openai import AzureOpenAIChat, OpenAIChat
from scope_api.providers.simulator.wire import Failure, InvalidRequest, WireFormat


@dataclass
class SimulatorState:
    """What one simulator app holds: its settings and its call counters."""

    latency_ms: float
    seed: int
    ledger: CallLedger = field(default_factory=CallLedger)


def _state(request: Request) -> SimulatorState:
    state: SimulatorState = request.app.state.simulator
    return state


async def _complete(fmt: WireFormat, request: Request) -> Response:
    arrived = time.monotonic()
    state = _state(request)
    key = request.headers.get(KEY_HEADER, "")
    number = state.ledger.arrive(key)
    try:
        raw = await request.body()
        try:
            options = Options.from_headers(request.headers)
        except OptionError as exc:
            return fmt.error(Failure.INVALID_REQUEST, str(exc))
        refused = fmt.check_access(request)
        if refused is not None:
            return refused
        fault = options.fault_for(number)
        delay_ms = state.latency_ms + options.latency_ms
        if fault == "timeout":
            delay_ms += options.delay_ms
        # The answer is worked out first and held until the latency has passed since
        # the request arrived: a fixed-latency provider, however busy the simulator is.
        response, billed = _respond(fmt, request, raw, fault, options, state.seed)
        if not await hold_until(arrived + delay_ms / 1000, request.receive):
            return Response(status_code=499)  # the client is gone; nobody reads this
        if billed:
            state.ledger.answered(key)
        return response
    finally:
        state.ledger.leave(key)


def _respond(fmt: WireFormat, request: Request, raw: bytes, fault: str | None,
             options: Options, seed: int) -> tuple[Response, bool]:
    """The answer (an HTTP fault, the provider's ``400``, or a completion) and whether
    it is a billed one."""
    if fault in HTTP_FAULTS:
        return _http_fault(fmt, fault, options), False
    try:
        body = json.loads(raw)
    except ValueError:
        return fmt.error(Failure.INVALID_REQUEST, fmt.bad_json_message), False
    if not isinstance(body, dict):
        return fmt.error(Failure.INVALID_REQUEST,
                         "The request body must be a JSON object."), False
    try:
        prompt = fmt.parse(body, request)
    except InvalidRequest as exc:
        return fmt.error(Failure.INVALID_REQUEST, exc.message, param=exc.param,
                         code=exc.code), False
    result = answer(prompt, seed=seed, empty=fault == "empty", judge=options.judge)
    payload = fmt.render(prompt, result, usage=fault != "no-usage", request=request)
    text = json.dumps(payload, ensure_ascii=False)
    if fault == "malformed":
        return Response(text[:len(text) // 2], media_type="application/json"), False
    return Response(text, media_type="application/json"), True


def _http_fault(fmt: WireFormat, fault: str, options: Options) -> Response:
    failure = HTTP_FAULTS[fault]
    if failure is Failure.OVERLOADED and not isinstance(fmt, AnthropicMessages):
        failure = Failure.UNAVAILABLE  # 529 is Anthropic's; the others say 503
    retry_after = options.retry_after_s
    if failure is Failure.RATE_LIMITED and retry_after is None:
        retry_after = DEFAULT_RETRY_AFTER_S
    response = fmt.error(failure, retry_after_s=retry_after)
    if retry_after is not None:
        response.headers["retry-after"] = str(retry_after)
    return response


def _endpoint(fmt: WireFormat) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await _complete(fmt, request)

    endpoint.__name__ = f"{fmt.name}_endpoint"
    return endpoint


async def _calls(request: Request) -> Response:
    key = request.query_params.get("key", "")
    calls, in_flight, answered = _state(request).ledger.snapshot(key)
    return JSONResponse({"key": key, "calls": calls, "in_flight": in_flight,
                         "answered": answered})


async def _reset(request: Request) -> Response:
    _state(request).ledger.reset(request.query_params.get("key"))
    return Response(status_code=204)


def create_simulator_app(*, latency_ms: float = 0, seed: int = 0) -> Starlette:
    """A simulator of the OpenAI, Anthropic and Gemini HTTP APIs.

    ``latency_ms`` is added to every completion; ``seed`` changes every answer
    (the same seed and request always give the same answer).
    """
    gemini = _endpoint(GeminiGenerateContent())
    app = Starlette(routes=[
        Route("/v1/chat/completions", _endpoint(OpenAIChat()), methods=["POST"]),
        Route("/openai/deployments/{deployment}/chat/completions",
              _endpoint(AzureOpenAIChat()), methods=["POST"]),
        Route("/v1/messages", _endpoint(AnthropicMessages()), methods=["POST"]),
        Route("/v1beta/models/{model}:generateContent", gemini, methods=["POST"]),
        Route("/v1/models/{model}:generateContent", gemini, methods=["POST"]),
        Route("/_simulator/calls", _calls, methods=["GET"]),
        Route("/_simulator/reset", _reset, methods=["POST"]),
    ])
    app.state.simulator = SimulatorState(latency_ms=latency_ms, seed=seed)
    return app
