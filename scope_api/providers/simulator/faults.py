"""Latency and injected faults, chosen per request by ``x-simulator-*`` headers.

Real providers never see these headers, so an adapter under test sends them
through ``ProviderConfig.options`` (or a test adds them to its client) and the
same simulator serves every scenario without a restart.

============================  ==================================================
header                        meaning
============================  ==================================================
``x-simulator-fault``         one of the faults below (default: none)
``x-simulator-fault-rate``    a mix of faults by share of calls, e.g.
                              ``429=0.1,503=0.02``: each call of a key gets one
                              or none, chosen by a hash of the key and the call's
                              number (so a rerun sees the same mix); used when
                              ``x-simulator-fault`` is absent
``x-simulator-fail-times``    K: the fault hits only the first K calls that carry
                              the same ``x-simulator-key``; later calls succeed
                              (default: every call)
``x-simulator-key``           groups calls for ``fail-times`` and for
                              ``GET /_simulator/calls?key=`` (no header: the key
                              ``""``)
``x-simulator-retry-after``   whole seconds for ``Retry-After``; always sent on
                              ``429`` (default 1), on 500/503/529 only if given
``x-simulator-delay-ms``      how long a ``timeout`` holds the request
                              (default 30000)
``x-simulator-latency-ms``    extra latency before any answer, added to the
                              app's ``latency_ms``
``x-simulator-answer``        ``judge``: answer as an LLM judge, with the JSON
                              verdict ``{"reasoning", "score"}`` (see
                              ``behaviour``); set it in a simulator provider's
                              ``options.headers`` to judge runs with it
============================  ==================================================

Faults:

``429``        the provider's rate-limit error with ``Retry-After``
``500``        the provider's internal error
``503``        the provider's unavailable/overloaded error
``529``        Anthropic's ``overloaded_error``; the other formats answer ``503``
``timeout``    hold the request ``x-simulator-delay-ms`` before answering normally
``malformed``  ``200`` whose body is the first half of the JSON answer (invalid JSON)
``no-usage``   a valid answer without its usage fields
``empty``      a valid answer with empty content and zero output tokens

Every call is counted (per key) when it arrives, whatever happens to it next;
calls answered successfully (the ones a real provider would bill) are counted
apart.
Waits end early when the client disconnects, so an abandoned ``timeout`` does
not hold the server.
"""

from __future__ import annotations

import asyncio
import threading
import time
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from starlette.types import Receive

from scope_api.providers.simulator.wire import Failure

FAULTS = ("429", "500", "503", "529", "timeout", "malformed", "no-usage", "empty")
HTTP_FAULTS = {"429": Failure.RATE_LIMITED, "500": Failure.SERVER_ERROR,
               "503": Failure.UNAVAILABLE, "529": Failure.OVERLOADED}
DEFAULT_RETRY_AFTER_S = 1
DEFAULT_TIMEOUT_DELAY_MS = 30_000.0

FAULT_HEADER = "x-simulator-fault"
FAIL_TIMES_HEADER = "x-simulator-fail-times"
FAULT_RATE_HEADER = "x-simulator-fault-rate"
KEY_HEADER = "x-simulator-key"
RETRY_AFTER_HEADER = "x-simulator-retry-after"
DELAY_HEADER = "x-simulator-delay-ms"
LATENCY_HEADER = "x-simulator-latency-ms"
ANSWER_HEADER = "x-simulator-answer"
ANSWERS = ("judge",)


class OptionError(ValueError):
    """An ``x-simulator-*`` header has a value the simulator does not understand."""


def _non_negative(headers: Mapping[str, str], name: str, *, integer: bool) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        value = -1
    if not value >= 0:  # also refuses NaN
        kind = "a whole number" if integer else "a number"
        raise OptionError(f"{name} must be {kind} >= 0, got {raw!r}")
    return value


@dataclass(frozen=True)
class Options:
    """The simulator options of one request."""

    key: str = ""
    fault: str | None = None
    fail_times: int | None = None
    retry_after_s: int | None = None
    delay_ms: float = DEFAULT_TIMEOUT_DELAY_MS
    latency_ms: float = 0.0
    judge: bool = False
    fault_rates: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Options:
        fault = headers.get(FAULT_HEADER)
        if fault is not None:
            fault = fault.strip().lower()
            if fault not in FAULTS:
                raise OptionError(f"{FAULT_HEADER} must be one of {', '.join(FAULTS)}; "
                                  f"got {fault!r}")
        shape = headers.get(ANSWER_HEADER)
        if shape is not None and shape.strip().lower() not in ANSWERS:
            raise OptionError(f"{ANSWER_HEADER} must be one of {', '.join(ANSWERS)}; "
                              f"got {shape!r}")
        fail_times = _non_negative(headers, FAIL_TIMES_HEADER, integer=True)
        retry_after = _non_negative(headers, RETRY_AFTER_HEADER, integer=True)
        delay = _non_negative(headers, DELAY_HEADER, integer=False)
        latency = _non_negative(headers, LATENCY_HEADER, integer=False)
        return cls(key=headers.get(KEY_HEADER, ""), fault=fault,
                   fail_times=None if fail_times is None else int(fail_times),
                   retry_after_s=None if retry_after is None else int(retry_after),
                   delay_ms=DEFAULT_TIMEOUT_DELAY_MS if delay is None else delay,
                   latency_ms=latency or 0.0, judge=shape is not None,
                   fault_rates=_fault_rates(headers.get(FAULT_RATE_HEADER)))

    def fault_for(self, call_number: int) -> str | None:
        """The fault to inject into the ``call_number``-th call (1-based) of this key."""
        if self.fail_times is not None and call_number > self.fail_times:
            return None
        if self.fault is None and self.fault_rates:
            draw = zlib.crc32(f"{self.key}:{call_number}".encode()) / 2**32
            for fault, share in self.fault_rates:
                if draw < share:
                    return fault
                draw -= share
        return self.fault


def _fault_rates(raw: str | None) -> tuple[tuple[str, float], ...]:
    if raw is None:
        return ()
    rates: list[tuple[str, float]] = []
    for part in raw.split(","):
        fault, _, share = part.partition("=")
        fault = fault.strip().lower()
        try:
            value = float(share)
        except ValueError:
            value = -1.0
        if fault not in FAULTS or not 0 <= value <= 1:
            raise OptionError(f"{FAULT_RATE_HEADER} must look like '429=0.1,503=0.02' "
                              f"(faults: {', '.join(FAULTS)}); got {raw!r}")
        rates.append((fault, value))
    if sum(share for _, share in rates) > 1:
        raise OptionError(f"{FAULT_RATE_HEADER}: the shares add up to more than 1")
    return tuple(rates)


class CallLedger:
    """Calls received and calls in flight, per ``x-simulator-key`` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._in_flight: Counter[str] = Counter()
        self._answered: Counter[str] = Counter()

    def arrive(self, key: str) -> int:
        """Count a call; return its 1-based number for this key."""
        with self._lock:
            self._calls[key] += 1
            self._in_flight[key] += 1
            return self._calls[key]

    def leave(self, key: str) -> None:
        with self._lock:
            self._in_flight[key] -= 1

    def answered(self, key: str) -> None:
        """Count a successful answer (what a provider bills)."""
        with self._lock:
            self._answered[key] += 1

    def snapshot(self, key: str) -> tuple[int, int, int]:
        """(calls received, calls still being answered, successful answers) for ``key``."""
        with self._lock:
            return self._calls[key], self._in_flight[key], self._answered[key]

    def reset(self, key: str | None = None) -> None:
        """Forget the call counts of ``key``, or of every key (in-flight calls stay)."""
        with self._lock:
            if key is None:
                self._calls.clear()
                self._answered.clear()
            else:
                self._calls.pop(key, None)
                self._answered.pop(key, None)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _sleep_until(deadline: float) -> None:
    # uvloop rounds a timer to whole milliseconds, so one sleep can end up to half a
    # millisecond early: a provider with 80 ms of latency would then answer in 79.6 ms.
    while (left := deadline - time.monotonic()) > 0:  # noqa: ASYNC110 (a deadline, not a poll)
        await asyncio.sleep(left)


async def hold_until(deadline: float, receive: Receive) -> bool:
    """Wait until ``time.monotonic()`` reaches ``deadline`` unless the client
    disconnects first; ``True`` if it waited.

    Call only after the request body has been read: the next ASGI message is
    then the disconnect.
    """
    if time.monotonic() >= deadline:
        return True
    sleeper = asyncio.ensure_future(_sleep_until(deadline))
    watcher = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait({sleeper, watcher}, return_when=asyncio.FIRST_COMPLETED)
        return sleeper.done()
    finally:
        for task in (sleeper, watcher):
            task.cancel()
        await asyncio.gather(sleeper, watcher, return_exceptions=True)
