"""Benchmark of the execution engine's overhead: ``POST /api/v1/executions``.

Not a test: it prints figures. Run it from the repository root::

    .venv/bin/python tests/benchmarks/bench_engine_overhead.py [--json results.json]

The overhead is the time an execution spends **outside the provider**: routing,
auth, validation, reading the prompt version and provider, rendering, the adapter
(request building, the HTTP client, response parsing), pricing, the span, the
database write and the response. For SQLite and PostgreSQL (a fresh database each,
PostgreSQL's dropped at the end), the script:

* runs the provider simulator **out of process**, pinned to CPU 1, at zero latency,
  and an ``openai_compatible`` provider pointing at it
  (``SCOPE_ALLOW_PRIVATE_PROVIDER_URLS=true``);
* serves Scope pinned to CPU 0 the way ``scope serve --no-access-log`` does
  (uvicorn, one worker, uvloop + httptools), wrapped in a timing ASGI middleware;
* drives it from CPU 1 with an **open-loop** (fixed-rate) Python asyncio + aiohttp load
  generator at 100 and 500 requests/s;
* exports every execution's span, as production does with ``SCOPE_OTLP_ENDPOINT``, to
  a real OTLP/HTTP receiver (``tests/telemetry/receiver.py``) in its own process on
  CPU 1, and checks at the end that it decoded one span per execution
  (``--no-export`` leaves the endpoint unset: spans are then built and stored but not
  sent);
* times each request at Scope's ASGI boundary and at the simulator's, on the same
  monotonic clock (``time.perf_counter`` is CLOCK_MONOTONIC, shared by all processes),
  matched by a request number carried in the prompt's variables. Per request:
  ``overhead = Scope's time - the simulator's time``.

Each configuration runs with and without ``gc.freeze()`` after start-up (Scope's own
``SCOPE_GC_FREEZE``, on by default, set to ``true`` or ``false``), and full
(generation 2) collections in the server are counted and timed. The server's CPU time
per request answered is reported too, split by thread (the event loop, the execution
recorder, the span exporter, the checkpointer; Linux's ``/proc``), with the collector's
pauses per request: unlike latency, these do not depend on how close to saturation the
run was. Then the same load and
timing for the baseline, ``bare_gateway.py`` (a FastAPI gateway with no database, on
aiohttp and on httpx; backends ``bare-aiohttp`` and ``bare``), which the target is not
applied to. See ``tests/benchmarks/README.md``.

Internally the same file also runs the two timed servers (``--serve scope|simulator``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # run as a script: only tests/benchmarks is on the path
    sys.path.insert(0, str(REPO))

from tests.benchmarks.bench_production_fetch import (  # noqa: E402
    Cpus,
    Processes,
    _raise_interrupt,
    cpu_busy,
    free_port,
    machine,
    plan_cpus,
    postgres_database,
    server_env,
    tail,
    wait_until_serving,
)

TENANT = "bench"
PROMPT = "bench-support"
MODEL = "bench-model"
CONTENT = [{"role": "system", "content": "You are {{ persona }}. Answer briefly."},
           {"role": "user", "content": "Request rid={{ rid }}; customer {{ name }} asks: "
                                       "{{ question }}"}]
VARIABLES = {"persona": "a support assistant for an online shop", "name": "Ada",
             "question": "Where is my order, and when will it arrive?"}
#: A send later than this against its schedule is named in the results' notes.
LATE_NOTE_S = 0.005
TARGET_P99_MS = {500: 3.0}  # from the issue: p99 overhead under 3 ms at 500 requests/s
TIMINGS_PATH = "/_bench/timings"
MODULE = "tests.benchmarks.bench_engine_overhead"
#: The baseline gateway's "backends": bare_gateway.py on httpx's own client, or on aiohttp.
BARE = {"bare": "httpx", "bare-aiohttp": "aiohttp"}
RID = re.compile(rb"rid=(\d+);")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Scope]]
Send = Callable[[Scope], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


# --------------------------------------------------------------------------- timed servers

class Timed:
    """ASGI middleware: (request number, start, end) per request on ``perf_counter``.

    The number comes from an ``x-bench-id`` header (Scope) or from ``rid=N;`` in the
    request body (the simulator, which sees the rendered prompt). ``GET /_bench/timings``
    returns and forgets what was recorded, with the full GC pauses seen meanwhile.
    """

    def __init__(self, app: Asgi, *, from_body: bool) -> None:
        self.app, self.from_body = app, from_body
        self.records: list[tuple[bytes, float, float]] = []
        self.gc_pauses: list[tuple[int, float]] = []
        self._gc_started = 0.0
        self._cpu_mark, self._process_mark = thread_cpu(), time.process_time()
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_pauses.append((info["generation"], time.perf_counter() - self._gc_started))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == TIMINGS_PATH:
            await self._dump(send)
            return
        started = time.perf_counter()
        chunks: list[bytes] = []
        key = b""
        if self.from_body:
            async def receive_body() -> Scope:
                message = await receive()
                chunks.append(message.get("body", b""))
                return message
            inner_receive: Receive = receive_body
        else:
            key = dict(scope["headers"]).get(b"x-bench-id", b"")
            inner_receive = receive

        async def timed_send(message: Scope) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.records.append((b"".join(chunks) if self.from_body else key, started,
                                     time.perf_counter()))

        await self.app(scope, inner_receive, timed_send)

    async def _dump(self, send: Send) -> None:
        records, self.records = self.records, []
        pauses, self.gc_pauses = self.gc_pauses, []
        mark, self._cpu_mark = self._cpu_mark, thread_cpu()
        process, self._process_mark = self._process_mark, time.process_time()
        cpu = dict.fromkeys(CPU_GROUPS, 0.0)
        for tid, (group, seconds) in self._cpu_mark.items():
            cpu[group] += seconds - mark.get(tid, (group, 0.0))[1]
        cpu["all"] = self._process_mark - process
        out: dict[str, Any] = {"pid": os.getpid(), "timings": {}, "cpu_s": cpu,
                               "gc": [[g, round(s * 1000, 3)] for g, s in pauses]}
        for raw, start, end in records:
            if self.from_body:
                match = RID.search(raw)
                raw = match.group(1) if match else b""
            if raw:
                out["timings"][raw.decode()] = [start, end]
        body = json.dumps(out).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


#: Scope's threads by name prefix, grouped for the CPU figures; the rest is "other".
THREAD_GROUPS = (("MainThread", "loop"), ("scope-recorder", "recorder"),
                 ("OtelBatch", "export"), ("scope-checkpoints", "checkpoints"))
CPU_GROUPS = ("loop", "recorder", "export", "checkpoints", "other")


def thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds each live thread of this process has used, with its group (Linux:
    ``/proc``). A thread that ends between two readings drops out of the split (the
    process's total, ``time.process_time``, still counts it)."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[int, tuple[str, float]] = {}
    for thread in threading.enumerate():
        tid = thread.native_id
        if tid is None:  # not started yet
            continue
        group = next((g for prefix, g in THREAD_GROUPS if thread.name.startswith(prefix)),
                     "other")
        with contextlib.suppress(OSError):  # a thread that has just ended
            fields = Path(f"/proc/self/task/{tid}/stat").read_text()
            utime, stime = fields.rsplit(")", 1)[1].split()[11:13]
            used[tid] = (group, (int(utime) + int(stime)) / tick)
    return used


def timed_scope() -> Timed:
    """Scope's app in the timing middleware (the factory each worker process calls)."""
    from scope_api.app import create_app

    return Timed(create_app(), from_body=False)


def timed_bare() -> Timed:
    """The baseline gateway (``bare_gateway.py``) in the timing middleware."""
    from tests.benchmarks.bare_gateway import create_app

    return Timed(create_app(CONTENT), from_body=False)


def serve(kind: str, port: int, workers: int = 1) -> None:
    """Run Scope (as ``scope serve --no-access-log [--workers N]`` runs it), the baseline
    gateway or the simulator, timed."""
    import uvicorn

    app: Asgi
    if kind in ("scope", "bare"):
        # uvicorn starts several workers only from an import string.
        uvicorn.run(f"{MODULE}:timed_{kind}",
                    factory=True, host="127.0.0.1", port=port, workers=workers,
                    loop="uvloop", http="httptools", log_level="warning",
                    proxy_headers=False, server_header=False, access_log=False)
    else:
        from scope_api.providers.simulator import create_simulator_app

        app = Timed(create_simulator_app(latency_ms=0), from_body=True)
        uvicorn.run(app, host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                    log_level="warning", server_header=False, access_log=False)


# --------------------------------------------------------------------------- set-up

def seed(url: str) -> str:
    """Migrate ``url``; a tenant, an admin API key, one prompt with a published version."""
    from scope_api.db import Database, build_engine
    from scope_api.migrate import upgrade
    from scope_api.production_cache import ProductionCache
    from scope_api.services import api_keys, prompts, tenants, versions

    upgrade(url)
    database = Database(build_engine(url, pool_size=1))
    try:
        with database.unit_of_work() as session:
            tenant = tenants.get_or_create(session, TENANT)
            _, secret = api_keys.create(session, tenant_id=tenant.id, name="bench app",
                                        role="admin", created_by="bench")
            prompts.create(session, tenant_id=tenant.id, name=PROMPT, description="bench",
                           tags=["bench"], created_by="bench")
            version = versions.create(session, tenant_id=tenant.id, name=PROMPT,
                                      content=CONTENT, metadata={}, message="bench",
                                      created_by="bench")
            versions.promote(session, tenant_id=tenant.id, name=PROMPT,
                             number=version.number, reason=None, actor="bench",
                             cache=ProductionCache(0))
    finally:
        database.dispose()
    return secret


def configure(base_url: str, api_key: str, simulator_url: str) -> str:
    """An access token, and the ``openai_compatible`` provider pointing at the simulator."""
    import httpx

    token: str = httpx.post(f"{base_url}/api/v1/auth/token", json={"api_key": api_key},
                            timeout=10).raise_for_status().json()["access_token"]
    response = httpx.post(f"{base_url}/api/v1/providers", timeout=10,
                          headers={"authorization": f"Bearer {token}"},
                          json={"name": "sim", "kind": "openai_compatible",
                                "base_url": f"{simulator_url}/v1", "api_key": "sk-bench"})
    if response.status_code == 409:  # made for an earlier simulator: point it at this one
        response = httpx.patch(f"{base_url}/api/v1/providers/sim", timeout=10,
                               headers={"authorization": f"Bearer {token}"},
                               json={"base_url": f"{simulator_url}/v1"})
    response.raise_for_status()
    return token


# --------------------------------------------------------------------------- load

@dataclass
class Sent:
    rid: int
    start: float
    end: float
    status: int
    latency_ms: float | None


async def open_loop(base_url: str, token: str, rate: float, seconds: float,
                    first_rid: int) -> tuple[list[Sent], float]:
    """``rate`` requests/s for ``seconds``, each sent on schedule whatever the responses
    (open loop); the requests, and the worst lateness of a send against its schedule.

    aiohttp, not httpx: httpcore's pool does work quadratic in its connections on every
    request, so once the server fell behind and connections piled up, an httpx generator
    spun at 100% CPU and could no longer send on schedule (or finish)."""
    import aiohttp

    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    results: list[Sent] = []
    failures: list[str] = []
    late = 0.0
    connector = aiohttp.TCPConnector(limit=2000)
    async with aiohttp.ClientSession(base_url, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=30)) as client:
        async def one(rid: int) -> None:
            body = json.dumps({"prompt": PROMPT, "label": "production", "provider": "sim",
                               "model": MODEL, "variables": {**VARIABLES, "rid": rid},
                               "parameters": {"max_tokens": 64}})
            start = time.perf_counter()
            try:
                async with client.post("/api/v1/executions", data=body,
                                       headers={**headers, "x-bench-id": str(rid)}) as response:
                    text = await response.text()
            except (aiohttp.ClientError, TimeoutError):
                results.append(Sent(rid, start, time.perf_counter(), 0, None))
                return
            end = time.perf_counter()
            latency = json.loads(text).get("latency_ms") if response.status == 201 else None
            if response.status != 201 and not failures:
                failures.append(f"{response.status} {text[:300]}")
            results.append(Sent(rid, start, end, response.status, latency))

        count = int(rate * seconds)
        tasks = []
        origin = time.perf_counter() + 0.05
        for i in range(count):
            due = origin + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            late = max(late, time.perf_counter() - due)
            tasks.append(asyncio.create_task(one(first_rid + i)))
        await asyncio.gather(*tasks)
    if failures:
        print(f"  first failure: {failures[0]}", flush=True)
    return results, late


def run_load(*args: Any) -> tuple[list[Sent], float]:
    """:func:`open_loop` with the generator's garbage collector off while it sends.

    Its own full collections took up to 85 ms (it keeps every task and record): the
    requests due meanwhile went out late, all at once, and the server's queueing of
    that burst counted in the server's p99.
    """
    try:
        import uvloop
        run: Callable[..., Any] = uvloop.run
    except ImportError:
        run = asyncio.run
    gc.collect()
    gc.disable()
    try:
        result: tuple[list[Sent], float] = run(open_loop(*args))
        return result
    finally:
        gc.enable()


def timings(base_url: str, workers: int = 1) -> dict[str, Any]:
    """What the server's processes recorded (and forgot): with several workers, asked
    on new connections until each worker has answered (the kernel picks the worker)."""
    import httpx

    merged: dict[str, Any] = {"timings": {}, "gc": [], "cpu_s": {}}
    seen: set[int] = set()
    for _ in range(200):
        part = httpx.get(f"{base_url}{TIMINGS_PATH}", timeout=30,
                         headers={"connection": "close"}).json()
        seen.add(part["pid"])  # a worker asked again answers what it recorded since
        merged["timings"].update(part["timings"])
        merged["gc"] += part["gc"]
        for group, seconds in part["cpu_s"].items():
            merged["cpu_s"][group] = merged["cpu_s"].get(group, 0.0) + seconds
        if len(seen) == workers:
            return merged
    raise RuntimeError(f"heard from {len(seen)} of {workers} workers")


# --------------------------------------------------------------------------- results

@dataclass
class Measurement:
    backend: str
    gc_freeze: bool
    rate: int
    requests: int
    errors: int
    achieved_rate: float  # requests sent per second
    completed_rate: float  # responses per second, first send to last response
    overhead_p50_ms: float
    overhead_p99_ms: float
    overhead_max_ms: float
    outside_latency_ms_p50: float  # Scope's time minus the record's latency_ms
    outside_latency_ms_p99: float
    server_p50_ms: float
    server_p99_ms: float
    provider_p50_ms: float
    client_p50_ms: float
    client_p99_ms: float
    send_late_max_ms: float
    full_gcs: int
    full_gc_max_ms: float
    gc_pauses_over_1ms: int
    cpu_us_per_request: float  # the server's CPU (every thread) over the requests answered
    gc_us_per_request: float  # the collector's pauses (every generation), likewise
    cpu_us_by_thread: dict[str, float] = field(default_factory=dict)  # CPU_GROUPS
    target_met: bool | None = None
    notes: list[str] = field(default_factory=list)
    round: int = 1


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def analyse(backend: str, freeze: bool, rate: int, sent: list[Sent], late_s: float,
            scope_t: dict[str, Any], sim_t: dict[str, Any], seconds: float) -> Measurement:
    server = scope_t["timings"]
    provider = sim_t["timings"]
    ok = [s for s in sent if s.status == 201]
    overhead, outside, server_ms, provider_ms = [], [], [], []
    missing = 0
    for s in ok:
        key = str(s.rid)
        if key not in server or key not in provider:
            missing += 1
            continue
        total = (server[key][1] - server[key][0]) * 1000
        inside = (provider[key][1] - provider[key][0]) * 1000
        server_ms.append(total)
        provider_ms.append(inside)
        overhead.append(total - inside)
        if s.latency_ms is not None:
            outside.append(total - s.latency_ms)
    client_ms = [(s.end - s.start) * 1000 for s in ok]
    starts = [s.start for s in sent]
    span = max(starts) - min(starts) if len(starts) > 1 else seconds
    full = [ms for generation, ms in scope_t["gc"] if generation == 2]

    def per_request(total: float) -> float:
        return total / len(ok) if ok else float("nan")

    result = Measurement(
        backend=backend, gc_freeze=freeze, rate=rate, requests=len(sent),
        errors=len(sent) - len(ok), achieved_rate=(len(sent) - 1) / span if span else 0,
        completed_rate=len(ok) / (max((s.end for s in ok), default=0) - min(starts))
        if ok else 0.0,
        overhead_p50_ms=pct(overhead, 0.50), overhead_p99_ms=pct(overhead, 0.99),
        overhead_max_ms=max(overhead, default=float("nan")),
        outside_latency_ms_p50=pct(outside, 0.50), outside_latency_ms_p99=pct(outside, 0.99),
        server_p50_ms=pct(server_ms, 0.50), server_p99_ms=pct(server_ms, 0.99),
        provider_p50_ms=pct(provider_ms, 0.50),
        client_p50_ms=pct(client_ms, 0.50), client_p99_ms=pct(client_ms, 0.99),
        send_late_max_ms=late_s * 1000, full_gcs=len(full),
        full_gc_max_ms=max(full, default=0.0),
        gc_pauses_over_1ms=sum(1 for _, ms in scope_t["gc"] if ms > 1.0),
        cpu_us_per_request=per_request(scope_t["cpu_s"]["all"] * 1e6),
        gc_us_per_request=per_request(sum(ms for _, ms in scope_t["gc"]) * 1000),
        cpu_us_by_thread={group: per_request(scope_t["cpu_s"][group] * 1e6)
                          for group in CPU_GROUPS})
    if late_s > LATE_NOTE_S:
        result.notes.append(f"the load generator sent up to {late_s * 1000:.0f} ms late: "
                            "a burst of requests")
    if result.errors:
        result.notes.append(f"{result.errors} failed requests")
    if missing:
        result.notes.append(f"{missing} requests without both timings")
    if rate in TARGET_P99_MS and backend not in BARE:  # the baseline is not held to it
        result.target_met = result.overhead_p99_ms < TARGET_P99_MS[rate] and not result.errors
    return result


def table(results: list[Measurement]) -> str:
    header = (f"{'backend':<13} {'round':>5} {'gc.freeze':>9} {'req/s':>6} {'done/s':>6} "
              f"{'overhead p50':>12} "
              f"{'p99':>6} {'max':>6} {'excl. call p50':>14} {'p99':>6} {'server p50':>10} "
              f"{'p99':>6} {'provider p50':>12} {'full GCs':>8} {'max':>6} "
              f"{'CPU µs/req':>10} {'loop':>5} {'rec.':>5} {'GC':>4}  target")
    lines = [header, "-" * len(header)]
    for r in results:
        verdict = "-" if r.target_met is None else ("yes" if r.target_met else "NO")
        if r.notes:
            verdict += f" ({'; '.join(r.notes)})"
        lines.append(
            f"{r.backend:<13} {r.round:>5} {'yes' if r.gc_freeze else 'no':>9} "
            f"{r.achieved_rate:>6.0f} "
            f"{r.completed_rate:>6.0f} "
            f"{r.overhead_p50_ms:>12.2f} {r.overhead_p99_ms:>6.2f} {r.overhead_max_ms:>6.1f} "
            f"{r.outside_latency_ms_p50:>14.2f} {r.outside_latency_ms_p99:>6.2f} "
            f"{r.server_p50_ms:>10.2f} {r.server_p99_ms:>6.2f} {r.provider_p50_ms:>12.2f} "
            f"{r.full_gcs:>8} {r.full_gc_max_ms:>6.1f} "
            f"{r.cpu_us_per_request:>10.0f} {r.cpu_us_by_thread['loop']:>5.0f} "
            f"{r.cpu_us_by_thread['recorder']:>5.0f} {r.gc_us_per_request:>4.0f}  {verdict}")
    return "\n".join(lines)


Config = tuple[str, bool, int]  # backend, gc.freeze, rate


def by_config(results: list[Measurement]) -> dict[Config, list[Measurement]]:
    grouped: dict[Config, list[Measurement]] = {}
    for r in results:
        grouped.setdefault((r.backend, r.gc_freeze, r.rate), []).append(r)
    return grouped


def verdicts(results: list[Measurement]) -> dict[Config, bool | None]:
    """Per configuration: the target met by the median p99 over rounds (and no errors),
    ``None`` where no target applies."""
    out: dict[Config, bool | None] = {}
    for config, rounds in by_config(results).items():
        if all(r.target_met is None for r in rounds):
            out[config] = None
        else:
            median = statistics.median(r.overhead_p99_ms for r in rounds)
            out[config] = median < TARGET_P99_MS[config[2]] and not any(
                r.errors for r in rounds)
    return out


def summary(results: list[Measurement]) -> str:
    header = (f"{'backend':<13} {'gc.freeze':>9} {'req/s':>6} {'rounds':>6} "
              f"{'overhead p50':>12} {'p99':>6} {'p99 range':>15} "
              f"{'CPU µs/req':>10} {'loop':>5} {'rec.':>5} {'GC':>4}  target")
    lines = [header, "-" * len(header)]
    met = verdicts(results)
    for config, rounds in by_config(results).items():
        backend, freeze, rate = config
        p99s = [r.overhead_p99_ms for r in rounds]
        verdict = "-" if met[config] is None else ("yes" if met[config] else "NO")
        lines.append(
            f"{backend:<13} {'yes' if freeze else 'no':>9} {rate:>6} {len(rounds):>6} "
            f"{statistics.median(r.overhead_p50_ms for r in rounds):>12.2f} "
            f"{statistics.median(p99s):>6.2f} {min(p99s):>7.2f}-{max(p99s):<7.2f} "
            f"{statistics.median(r.cpu_us_per_request for r in rounds):>10.0f} "
            f"{statistics.median(r.cpu_us_by_thread['loop'] for r in rounds):>5.0f} "
            f"{statistics.median(r.cpu_us_by_thread['recorder'] for r in rounds):>5.0f} "
            f"{statistics.median(r.gc_us_per_request for r in rounds):>4.0f}  {verdict}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- driver

class SpanReceiver:
    """The OTLP/HTTP receiver Scope exports to, in its own process (``prefix``: its CPU)."""

    def __init__(self, prefix: list[str]) -> None:
        self._process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "tests.telemetry.receiver"], cwd=REPO, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._stdin, self._stdout = self._process.stdin, self._process.stdout
        self.url = self._stdout.readline().strip()
        if not self.url:
            raise RuntimeError("the OTLP receiver did not start")

    def count(self) -> tuple[int, int]:
        """Spans decoded so far, and the export requests they came in."""
        self._stdin.write("count\n")
        self._stdin.flush()
        spans, requests = map(int, self._stdout.readline().split())
        return spans, requests

    def close(self) -> None:
        self._stdin.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def start(processes: Processes, prefix: list[str], kind: str, env: dict[str, str],
          work_dir: Path, name: str, workers: int = 1) -> tuple[str, Any, Path]:
    port = free_port()
    log = work_dir / f"{name}.log"
    argv = [*prefix, sys.executable, str(Path(__file__).resolve()), "--serve", kind,
            "--port", str(port), "--workers", str(workers)]
    process = processes.start(argv, env=env, cwd=work_dir, log=log)
    base_url = f"http://127.0.0.1:{port}"
    wait_until_serving(process, base_url, log)
    return base_url, process, log


def measure(args: argparse.Namespace, processes: Processes, cpus: Cpus, backend: str,
            url: str, api_key: str, work_dir: Path, rid: list[int], round_: int,
            otlp_url: str | None, executions: list[int]) -> list[Measurement]:
    """Scope on ``url`` (seeded, ``api_key``) with and without ``gc.freeze()``; for
    ``bare``, the baseline. ``executions[0]`` counts the requests sent to Scope."""
    bare = backend in BARE
    results = []
    for freeze in (False,) if bare else (False, True):  # fresh servers for each
        sim_url, sim_process, sim_log = start(processes, cpus.loader, "simulator",
                                              server_env({}), work_dir,
                                              f"simulator-{backend}-{freeze}-{round_}")
        if bare:
            secret = os.urandom(32).hex()
            env = server_env({"BENCH_JWT_SECRET": secret,
                              "BENCH_PROVIDER_URL": f"{sim_url}/v1",
                              "BENCH_HTTP_CLIENT": BARE[backend]})
        else:
            env = server_env({"SCOPE_DATABASE_URL": url,
                              "SCOPE_DATA_DIR": str(work_dir / f"data-{backend}"),
                              "SCOPE_ALLOW_PRIVATE_PROVIDER_URLS": "true",
                              "SCOPE_GC_FREEZE": "true" if freeze else "false",
                              **({"SCOPE_OTLP_ENDPOINT": otlp_url} if otlp_url else {})})
        base_url, process, log = start(processes, cpus.server, "bare" if bare else "scope",
                                       env, work_dir, f"{backend}-{freeze}-{round_}",
                                       workers=args.workers)
        try:
            if bare:
                from tests.benchmarks.bare_gateway import access_token

                token = access_token(secret)
            else:
                token = configure(base_url, api_key, sim_url)
            for rate in args.rates:
                warm, _ = run_load(base_url, token, rate, args.warmup, rid[0])
                rid[0] += int(rate * args.warmup)
                timings(base_url, args.workers), timings(sim_url)  # forget the warm-up
                sent, late = run_load(base_url, token, rate, args.duration, rid[0])
                rid[0] += len(sent)
                if not bare:
                    executions[0] += len(warm) + len(sent)
                if process.poll() is not None:
                    raise RuntimeError(f"Scope died during the run:\n{tail(log)}")
                result = analyse(backend, freeze, rate, sent, late,
                                 timings(base_url, args.workers), timings(sim_url),
                                 args.duration)
                result.round = round_
                print(f"  {backend:<10} gc.freeze {'yes' if freeze else 'no ':<3} "
                      f"{rate:>4}/s: overhead p50 {result.overhead_p50_ms:5.2f} ms "
                      f"p99 {result.overhead_p99_ms:5.2f} ms (max "
                      f"{result.overhead_max_ms:.1f}); completed {result.completed_rate:.0f}/s;"
                      f" full GCs {result.full_gcs} (max {result.full_gc_max_ms:.1f} ms)"
                      + (f"  [{'; '.join(result.notes)}]" if result.notes else ""),
                      flush=True)
                results.append(result)
        finally:
            processes.stop(process)
            processes.stop(sim_process)
            if sim_process.returncode not in (0, -signal.SIGTERM):
                print(tail(sim_log), file=sys.stderr)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="100,500",
                        help="comma-separated requests/s (default: 100,500)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each")
    parser.add_argument("--backends", default="sqlite,postgresql,bare-aiohttp,bare",
                        help="sqlite and postgresql (Scope), bare-aiohttp and bare (the "
                             "baseline gateway, bare_gateway.py, on aiohttp or httpx)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="measure every backend this many times, interleaved; the "
                             "verdict uses the median p99 over rounds (default: 1)")
    parser.add_argument("--workers", type=int, default=1,
                        help="Scope's worker processes (scope serve --workers N); with more "
                             "than one, nothing is pinned: Scope, the simulator and the "
                             "load generator share the CPUs")
    parser.add_argument("--export", action=argparse.BooleanOptionalAction, default=True,
                        help="export Scope's spans to an OTLP/HTTP receiver on the load "
                             "generator's CPU, as with SCOPE_OTLP_ENDPOINT (default: on)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--serve", choices=["scope", "bare", "simulator"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port, args.workers)
        return 0
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    args.rates = [int(r) for r in args.rates.split(",")]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql", *BARE}
    if unknown:
        parser.error(f"unknown backends {sorted(unknown)}: choose from sqlite, postgresql, "
                     f"{', '.join(BARE)}")

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    export = args.export and any(b not in BARE for b in backends)
    cpus = plan_cpus() if args.workers == 1 else Cpus(
        [], [], f"NOT pinned: {args.workers} Scope workers, the simulator and the load "
                "generator share the CPUs")  # plan before this process pins itself
    if cpus.loader:  # the load generator shares CPU 1 with the simulator
        os.sched_setaffinity(0, {int(cpus.loader[-1])})
    print(f"engine overhead benchmark: POST /api/v1/executions at {args.rates} requests/s, "
          f"Scope with {args.workers} worker{'s' if args.workers > 1 else ''}, "
          f"{args.duration:g} s each after {args.warmup:g} s warm-up\n  {cpus.note} "
          "(the simulator too)\n  load generator: Python asyncio + aiohttp, open loop "
          "(fixed rate)\n  spans: " + ("exported over OTLP/HTTP to a receiver (the "
                                         "simulator's CPU)" if export else "not exported"),
          flush=True)
    busy = cpu_busy()
    if busy is not None and busy > 0.10:
        print(f"  WARNING: the CPUs were {busy:.0%} busy before starting: figures will be "
              "noisy", flush=True)
    processes = Processes()
    results: list[Measurement] = []
    rid, executions = [1], [0]
    spans: tuple[int, int] | None = None  # decoded by the receiver, and its requests
    try:
        with contextlib.ExitStack() as stack:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(
                prefix="scope-bench-engine-")))
            seeded: dict[str, tuple[str, str]] = {}  # backend: (url, api key)
            for backend in backends:
                if backend in BARE:
                    seeded[backend] = ("", "")
                    continue
                if backend == "sqlite":
                    (work_dir / "sqlite").mkdir()
                    url = f"sqlite:///{work_dir / 'sqlite' / 'scope.db'}"
                else:
                    url = stack.enter_context(postgres_database())
                seeded[backend] = (url, seed(url))
            receiver = None
            if export:
                receiver = SpanReceiver(cpus.loader)
                stack.callback(receiver.close)
            stack.callback(processes.stop_all)  # before the databases are dropped
            for round_ in range(1, args.rounds + 1):  # rounds interleave the backends
                if args.rounds > 1:
                    print(f"round {round_} of {args.rounds}", flush=True)
                for backend in backends:
                    url, api_key = seeded[backend]
                    results += measure(args, processes, cpus, backend, url, api_key,
                                       work_dir, rid, round_,
                                       receiver.url if receiver else None, executions)
            if receiver is not None:  # every server has stopped, exporting what it held
                spans = receiver.count()
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()

    print("\n" + table(results))
    if args.rounds > 1:
        print(f"\nmedians over {args.rounds} rounds (p99: lowest-highest)\n"
              + summary(results))
    print("\noverhead = Scope's time for the request minus the simulator's (ASGI boundaries, "
          "same clock); 'excl. call' = Scope's time minus the record's latency_ms (which "
          "covers the adapter call, retries included). 'CPU µs/req' = the server's CPU "
          "time (every thread) per request answered; of it, 'loop' is the event loop's "
          "thread and 'rec.' the execution recorder's (the --json output has every "
          "thread group); 'GC' = the garbage collector's pauses per request. Target: "
          "overhead p99 < "
          + ", ".join(f"{ms:g} ms at {r}/s" for r, ms in TARGET_P99_MS.items()))
    spans_lost = spans is not None and spans[0] != executions[0]
    if spans is not None:
        print(f"spans: the OTLP receiver decoded {spans[0]:,} in {spans[1]:,} export "
              f"requests, for {executions[0]:,} executions"
              + (": SPANS LOST" if spans_lost else ", one each"))
    if args.json:
        payload = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                   "machine": machine(), "pinning": cpus.note, "cpu_busy_before": busy,
                   "duration_s": args.duration, "warmup_s": args.warmup,
                   "workers": args.workers, "export": args.export,
                   "executions": executions[0], "spans_received": spans and spans[0],
                   "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"results written to {args.json}")
    met = all(verdict is not False for verdict in verdicts(results).values())
    return 0 if met and not spans_lost else 1


if __name__ == "__main__":
    sys.exit(main())
