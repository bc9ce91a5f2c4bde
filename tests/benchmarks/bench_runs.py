"""Benchmark of golden-set runs: wall time against the ideal, and billing under faults.

Not a test: it prints figures. Run it from the repository root::

    .venv/bin/python tests/benchmarks/bench_runs.py [--items 1000] [--latency-ms 200]

A real ``scope serve`` (SQLite, or ``--database-url``) and a standalone simulator
(``scope simulate --latency-ms 200``) run as separate processes; one
``openai_compatible`` provider points at the simulator. A golden set of ``--items``
items runs on one version × 3 targets (three model names) at concurrency 64:

* **clean**: every call succeeds. Wall time from ``POST …/runs`` to the run's end
  (polled every 100 ms, as a client would) against the ideal, calls × latency ÷ concurrency
  (3,000 × 0.2 s ÷ 64 = 9.4 s). Target: within 115% of ideal.
* **faults**: the simulator answers 10% of calls 429 (``Retry-After: 1``) and 2% 503.
  The run must still complete every cell, with exactly one billed (successful) call
  per cell: the simulator counts its successful answers.

With two CPUs or more, the server runs on CPU 0 and the simulator with this script on
CPU 1 (see :func:`pin`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.live import free_port, scope_command, serve  # noqa: E402

TARGETS = ("bench-model-a", "bench-model-b", "bench-model-c")
CONCURRENCY = 64


PINNED = len(os.sched_getaffinity(0)) >= 2  # read once: pin() narrows it


def pin(cpu: int) -> None:
    """Run this process (and the processes it starts from now on) on ``cpu`` only.

    The server gets CPU 0; the simulator and this script share CPU 1, as in the
    engine-overhead benchmark: three busy processes left to the scheduler on two cores
    move between them and the figures with them (about ±5% from run to run)."""
    if PINNED:
        os.sched_setaffinity(0, {cpu})


def start_simulator(latency_ms: float) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(scope_command("simulate", "--port", str(port),
                                             "--latency-ms", str(latency_ms)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(400):
        try:
            httpx.get(f"{url}/_simulator/calls", timeout=1)
            return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the simulator did not start")


def scenario(api: httpx.Client, sim: str, name: str, items: int,
             headers: dict[str, str]) -> dict[str, Any]:
    key = f"bench-{name}"
    provider = f"sim-{name}"
    api.post("/providers", json={
        "name": provider, "kind": "openai_compatible", "base_url": f"{sim}/v1",
        "api_key": "sk-bench-0000", "options": {"headers": {"x-simulator-key": key,
                                                             **headers}}}).raise_for_status()
    started = time.perf_counter()
    run = api.post("/golden-sets/bench/runs", json={
        "prompt": "bench", "versions": [1], "concurrency": CONCURRENCY,
        "targets": [{"provider": provider, "model": m} for m in TARGETS]}).json()
    in_flight: list[int] = []
    while run["status"] in ("queued", "running"):
        time.sleep(0.1)
        run = api.get(f"/runs/{run['id']}").json()
        in_flight.append(httpx.get(f"{sim}/_simulator/calls",
                                   params={"key": key}).json()["in_flight"])
    wall = time.perf_counter() - started
    counts = httpx.get(f"{sim}/_simulator/calls", params={"key": key}).json()
    return {"wall_s": wall, "run": run, "calls": counts["calls"],
            "answered": counts["answered"],
            "in_flight": sum(in_flight) / max(1, len(in_flight))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--database-url", default=None, help="default: embedded SQLite")
    args = parser.parse_args()
    cells = args.items * len(TARGETS)
    ideal = cells * args.latency_ms / 1000 / CONCURRENCY
    pin(1)
    sim_process, sim = start_simulator(args.latency_ms)
    env = {"SCOPE_ALLOW_PRIVATE_PROVIDER_URLS": "true", "SCOPE_LOG_LEVEL": "warning"}
    pin(0)  # inherited by the server started next (and by all its threads)
    try:
        with serve(args.database_url, env=env) as server, httpx.Client(
                base_url=f"{server.base_url}/api/v1", headers=server.headers(),
                timeout=60) as api:
            pin(1)
            api.post("/prompts", json={"name": "bench"}).raise_for_status()
            api.post("/prompts/bench/versions",
                     json={"content": "Summarise item {{ n }} in one line."}
                     ).raise_for_status()
            api.post("/golden-sets", json={"name": "bench"}).raise_for_status()
            api.post("/golden-sets/bench/items", json=[
                {"variables": {"n": i}, "expected": None} for i in range(args.items)]
                     ).raise_for_status()
            print(f"{cells:,} cells ({args.items:,} items × {len(TARGETS)} targets), "
                  f"latency {args.latency_ms:g} ms, concurrency {CONCURRENCY}, "
                  f"database {args.database_url or 'sqlite (embedded)'}")
            print("server pinned to CPU 0, simulator and this script to CPU 1" if PINNED
                  else "one CPU: nothing pinned")
            print(f"ideal (calls × latency ÷ concurrency): {ideal:.2f} s")
            clean = scenario(api, sim, "clean", args.items, {})
            ratio = clean["wall_s"] / ideal
            print(f"clean : {clean['wall_s']:6.2f} s = {ratio:.0%} of ideal (target ≤ 115%); "
                  f"status {clean['run']['status']}, progress {clean['run']['progress']}, "
                  f"calls {clean['calls']}, billed {clean['answered']}, mean calls in "
                  f"flight at the provider {clean['in_flight']:.1f}, provider latency p50 "
                  f"{statistics.median(e['latency_ms_p50'] for e in clean['run']['summary']):.0f}"
                  " ms as Scope measured it")
            faults = scenario(api, sim, "faults", args.items,
                              {"x-simulator-fault-rate": "429=0.10,503=0.02"})
            succeeded = faults["run"]["progress"]["done"] - faults["run"]["progress"]["failed"]
            duplicates = faults["answered"] - succeeded
            print(f"faults: {faults['wall_s']:6.2f} s = {faults['wall_s'] / ideal:.0%} of "
                  f"ideal; status {faults['run']['status']}, progress "
                  f"{faults['run']['progress']}, calls {faults['calls']} (incl. 429/503), "
                  f"billed {faults['answered']} → duplicate billed calls: {duplicates}")
    finally:
        sim_process.terminate()
        sim_process.wait(10)


if __name__ == "__main__":
    main()
