"""Benchmark of execution spans: the cost of ``Telemetry.record_execution`` and drops.

Not a test: it prints figures. Run it from the repository root::

    .venv/bin/python tests/benchmarks/bench_spans.py [--rate 1000] [--duration 5]

A real OTLP/HTTP receiver (``tests/telemetry/receiver.py``) runs in its own
process, pinned to CPU 1 (this process to CPU 0). Scope's ``Telemetry`` exports
to it with its production settings (batch processor, 20,000-span queue, 100 ms
schedule, 128-span batches: the ``OTEL_BSP_*`` defaults, which this process's
environment may change). Each phase follows a warm-up:

* **pacing loop**: the loop alone (sleep until the next tick), to subtract.
* **paced, no exporter** and **paced, exporting**: ``--rate`` spans/s for
  ``--duration`` s, one ``record_execution`` per tick; ``--rounds`` (3) rounds of
  these three phases, interleaved, and the summary gives medians. The issue's target: at most
  50 µs per span and zero dropped at 1,000 spans/s, judged both on the request path and
  counting the export thread's CPU. Reported: the call's wall
  time (mean/p50/p99/max: what an execution waits) and the process CPU time per
  span, which also counts the export thread's encoding and HTTP work. The
  difference between the two paced phases is what the export costs.
* **burst**, with and without the exporter: as many spans as possible for 2 s
  (the hot-loop cost, and the ceiling).

Then it flushes and checks that the receiver got every span exported. See
``tests/benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from scope_api.config import Settings  # noqa: E402
from scope_api.providers.types import (  # noqa: E402
    CompletionRequest,
    CompletionResult,
    Message,
    Parameters,
    Usage,
)
from scope_api.telemetry import ExecutionInfo, Telemetry  # noqa: E402

TARGET_US = 50.0
EXECUTION = ExecutionInfo(
    execution_id="exe_01JDBENCH000000000000000", tenant="bench", prompt_name="greeting",
    prompt_version=3, provider_name="openai-main", provider_kind="openai",
    base_url="https://api.openai.com/v1",
    request=CompletionRequest(
        model="gpt-4o-mini",
        messages=(Message("system", "You greet people."), Message("user", "Say hi to Ada")),
        parameters=Parameters(temperature=0.2, max_tokens=256, top_p=0.9, stop=("END",))))
RESULT = CompletionResult(output="Hi Ada!", usage=Usage(21, 4),
                          response_model="gpt-4o-mini-2024-07-18", finish_reason="stop",
                          request={})


@dataclass
class Phase:
    name: str
    spans: int
    seconds: float
    call_us: list[float]
    cpu_s: float

    def line(self) -> str:
        calls = sorted(self.call_us)
        p99 = calls[min(len(calls) - 1, int(len(calls) * 0.99))]
        return (f"{self.name:<19} {self.spans:>7,} spans {self.spans / self.seconds:>8,.0f}/s  "
                f"call mean {statistics.fmean(calls):5.1f} µs  p50 {calls[len(calls) // 2]:5.1f}"
                f"  p99 {p99:6.1f}  max {calls[-1]:7.1f}  "
                f"CPU/span {self.cpu_s / self.spans * 1e6:5.1f} µs")


def record(telemetry: Telemetry) -> float:
    """One span, as the engine records it after a call; returns the call's time in µs."""
    started = time.perf_counter_ns()
    now = time.time_ns()
    telemetry.record_execution(EXECUTION, start_ns=now - 800_000, end_ns=now, result=RESULT,
                               cost_usd=0.0000055)
    return (time.perf_counter_ns() - started) / 1000


def nothing(telemetry: Telemetry | None) -> float:
    """The pacing loop's own cost, to subtract: a call that records no span."""
    started = time.perf_counter_ns()
    return (time.perf_counter_ns() - started) / 1000


def paced(telemetry: Telemetry | None, rate: float, duration_s: float, name: str,
          call: Callable[[Any], float] = record) -> Phase:
    count = int(rate * duration_s)
    calls: list[float] = []
    cpu, started = time.process_time(), time.perf_counter()
    for i in range(count):
        due = started + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        calls.append(call(telemetry))
    return Phase(name, count, time.perf_counter() - started, calls,
                 time.process_time() - cpu)


def burst(telemetry: Telemetry, duration_s: float, name: str) -> Phase:
    calls: list[float] = []
    cpu, started = time.process_time(), time.perf_counter()
    while time.perf_counter() - started < duration_s:
        calls.append(record(telemetry))
    return Phase(name, len(calls), time.perf_counter() - started, calls,
                 time.process_time() - cpu)


def pin(cpu: int) -> str:
    """Keep this process on one CPU (the receiver gets the other), if the machine has two."""
    if (os.cpu_count() or 1) < 2 or not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu}, receiver on CPU {cpu + 1}"


def receiver_affinity() -> None:
    if (os.cpu_count() or 1) >= 2 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {1})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="spans/s in the paced phase")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds of paced phase")
    parser.add_argument("--content", action="store_true", help="capture prompt/completion text")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved paced rounds")
    args = parser.parse_args()
    rate, duration = args.rate, args.duration

    receiver = subprocess.Popen(  # its own process: decoding must not share our GIL
        [sys.executable, "-m", "tests.telemetry.receiver"], cwd=REPO, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, preexec_fn=receiver_affinity)
    assert receiver.stdin is not None
    assert receiver.stdout is not None
    rounds: list[tuple[Phase, Phase, Phase]] = []
    try:
        url = receiver.stdout.readline().strip()
        print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs "
              f"(load average {os.getloadavg()[0]:.2f}), {pin(0)}, content capture "
              f"{'on' if args.content else 'off'}")
        bare = Telemetry(Settings(otlp_endpoint=None, otel_capture_content=args.content))
        telemetry = Telemetry(Settings(otlp_endpoint=url, otel_capture_content=args.content))
        paced(bare, rate, 1.0, "warm-up")
        paced(telemetry, rate, 1.0, "warm-up")
        assert telemetry.flush(timeout_s=30)
        before = telemetry.stats()
        for _ in range(args.rounds):  # interleaved, so that drift hits every phase alike
            rounds.append((paced(None, rate, min(duration, 2.0), "pacing loop", nothing),
                           paced(bare, rate, duration, "paced, no exporter"),
                           paced(telemetry, rate, duration, "paced, exporting")))
        assert telemetry.flush(timeout_s=30)
        paced_stats = {k: v - before[k] for k, v in telemetry.stats().items()}
        burst_export = burst(telemetry, 2.0, "burst, exporting")
        assert telemetry.flush(timeout_s=60)
        stats = telemetry.stats()
        telemetry.shutdown()
        burst_bare = burst(bare, 2.0, "burst, no exporter")

        receiver.stdin.write("count\n")
        receiver.stdin.flush()
        received, requests = map(int, receiver.stdout.readline().split())
    finally:
        receiver.stdin.close()
        receiver.wait(timeout=10)

    for phases in rounds:
        for phase in phases:
            print(phase.line())
    print(burst_export.line())
    print(burst_bare.line())
    print(f"paced rounds: exported {paced_stats['exported']:,}, failed "
          f"{paced_stats['failed']}, dropped {paced_stats['dropped']}")
    print(f"whole run: exported {stats['exported']:,}, failed {stats['failed']}, dropped "
          f"{stats['dropped']}; the receiver got {received:,} spans in {requests:,} requests")

    def net_cpu_us(loop: Phase, phase: Phase) -> float:
        return (phase.cpu_s / phase.spans - loop.cpu_s / loop.spans) * 1e6

    call_us = statistics.median(statistics.fmean(r[2].call_us) for r in rounds)
    bare_us = statistics.median(statistics.fmean(r[1].call_us) for r in rounds)
    cpu_us = statistics.median(net_cpu_us(r[0], r[2]) for r in rounds)
    export_us = statistics.median(net_cpu_us(r[0], r[2]) - net_cpu_us(r[0], r[1])
                                  for r in rounds)
    print(f"at {rate:,.0f} spans/s (medians of {len(rounds)} rounds): record_execution takes "
          f"{call_us:.1f} µs on the request path ({bare_us:.1f} µs without an exporter); CPU "
          f"per span with its export {cpu_us:.1f} µs, of which the export {export_us:.1f} µs")
    lossless = (paced_stats["dropped"] == 0 and paced_stats["failed"] == 0
                and received == stats["exported"])
    ok = lossless and call_us <= TARGET_US

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    print(f"target (≤ {TARGET_US:.0f} µs per span, zero dropped at {rate:,.0f} spans/s): "
          f"on the request path {verdict(ok)}; counting the export thread's CPU too "
          f"({cpu_us:.1f} µs) {verdict(lossless and cpu_us <= TARGET_US)}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
