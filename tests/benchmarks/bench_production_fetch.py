"""Benchmark of the production fetch, ``GET /api/v1/prompts/{name}/production``.

Not a test: it prints figures. Run it from the repository root::

    .venv/bin/python tests/benchmarks/bench_production_fetch.py [--json results.json]

For SQLite and for PostgreSQL it seeds 1,000 prompts (each with a published
version), serves Scope with ``scope serve --no-access-log`` (uvicorn, one
worker, uvloop + httptools) pinned to CPU 0, and drives it from CPU 1 with
``wrk`` (random prompt name per request, a valid access token). The same is
done for ``bare_app.py`` (FastAPI + a JWT check, no database), so the report
can give Scope's throughput as a ratio of the bare endpoint's. The servers are
measured in turn, round after round (3 rounds of 10 s by default), and the
table gives medians. Figures are steady state: a warm-up fetches every prompt
once, so the production cache is full when the measurement starts, and the
cache TTL is raised (``--cache-ttl``, 600 s; Scope's default is 300 s) so that
no entry expires during a measurement: the figures are cache-hit performance.
See ``tests/benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
PG_ADMIN_URL = os.environ.get("SCOPE_BENCH_POSTGRES_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
TENANT = "bench"
PATH = "/api/v1/prompts/{name}/production"

# Targets (from the issue): Scope ≥ 0.9x the bare endpoint; p99 under these at N connections.
TARGET_RATIO = 0.9
TARGET_P99_MS = {4: 5.0, 32: 30.0}


# --------------------------------------------------------------------------- results


@dataclass
class Measurement:
    target: str  # "bare", "sqlite", "postgresql"
    connections: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx responses + socket errors
    duration_s: float
    ratio_to_bare: float | None = None
    targets_met: bool | None = None
    notes: list[str] = field(default_factory=list)
    rounds: list[dict[str, float]] = field(default_factory=list)


# --------------------------------------------------------------------------- processes


class Processes:
    """Servers this script started; all are stopped on exit, Ctrl-C or failure."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen[bytes]] = []

    def start(self, argv: list[str], *, env: dict[str, str], cwd: Path,
              log: Path) -> subprocess.Popen[bytes]:
        with open(log, "wb") as handle:
            # A session of its own: a terminal's Ctrl-C reaches only this script, which
            # then stops the server itself (and a server never outlives the script).
            process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=handle,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self._running.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes]) -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process in self._running:
            self._running.remove(process)

    def stop_all(self) -> None:
        for process in list(self._running):
            self.stop(process)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cpus:
    server: list[str]  # command prefix: taskset for the server, or nothing
    loader: list[str]
    note: str


def plan_cpus() -> Cpus:
    cpus = sorted(os.sched_getaffinity(0))
    taskset = shutil.which("taskset")
    if len(cpus) < 2 or taskset is None:
        why = "fewer than 2 CPUs" if len(cpus) < 2 else "taskset not found"
        return Cpus([], [], f"NOT pinned ({why}): server and load generator share CPUs")
    server, loader = cpus[0], cpus[1]
    return Cpus([taskset, "-c", str(server)], [taskset, "-c", str(loader)],
                f"server pinned to CPU {server}, load generator to CPU {loader} "
                f"(of {os.cpu_count()} CPUs)")


def wait_until_serving(process: subprocess.Popen[bytes], base_url: str, log: Path,
                       timeout_s: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{tail(log)}")
        try:
            httpx.get(f"{base_url}/", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not start within {timeout_s:.0f} s:\n{tail(log)}")


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------- data


def prompt_names(count: int) -> list[str]:
    return [f"bench-prompt-{i:04d}" for i in range(count)]


def seed(url: str, names: list[str]) -> str:
    """Migrate ``url``, create the prompts (each with one published version); an API key."""
    if str(REPO) not in sys.path:  # run as a script: only tests/benchmarks is on the path
        sys.path.insert(0, str(REPO))
    from scope_api.db import Database, build_engine
    from scope_api.migrate import upgrade
    from scope_api.production_cache import ProductionCache
    from scope_api.services import api_keys, prompts, tenants, versions
    from tests.benchmarks.bare_app import PROMPT_CONTENT, PROMPT_MESSAGE, PROMPT_METADATA

    upgrade(url)
    database = Database(build_engine(url, pool_size=1))
    unused_cache = ProductionCache(0)
    try:
        with database.unit_of_work() as session:
            tenant = tenants.get_or_create(session, TENANT)
            _, secret = api_keys.create(session, tenant_id=tenant.id, name="bench app",
                                        role="viewer", created_by="bench")
            for name in names:
                prompts.create(session, tenant_id=tenant.id, name=name,
                               description="Support assistant (benchmark data)",
                               tags=["bench", "support"], created_by="bench")
                version = versions.create(session, tenant_id=tenant.id, name=name,
                                          content=PROMPT_CONTENT, metadata=PROMPT_METADATA,
                                          message=PROMPT_MESSAGE, created_by="api_key:bench")
                versions.promote(session, tenant_id=tenant.id, name=name,
                                 number=version.number, reason=None, actor="api_key:bench",
                                 cache=unused_cache)
    finally:
        database.dispose()
    return secret


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    from sqlalchemy import create_engine, pool, text
    from sqlalchemy.engine import make_url

    name = f"scope_bench_{secrets.token_hex(6)}"
    admin = create_engine(PG_ADMIN_URL, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bare_token(secret: str) -> str:
    """An access token shaped like Scope's, for the bare app."""
    import jwt

    now = datetime.now(UTC)
    claims = {"iss": "scope", "aud": "scope-api", "sub": "api_key:bench", "typ": "access",
              "tid": "bench-tenant", "tnm": TENANT, "role": "viewer",
              "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=15)).timestamp()),
              "jti": secrets.token_hex(8)}
    return jwt.encode(claims, secret.encode(), algorithm="HS256", headers={"kid": "bench"})


def scope_token(base_url: str, api_key: str) -> str:
    import httpx

    response = httpx.post(f"{base_url}/api/v1/auth/token", json={"api_key": api_key},
                          timeout=10)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def fetch_all(base_url: str, token: str, names: list[str]) -> int:
    """GET every prompt once (fills the production cache); check them; the body size."""
    import httpx

    size = 0
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"},
                      timeout=10) as client:
        for name in names:
            response = client.get(PATH.format(name=name))
            if response.status_code != 200:
                raise RuntimeError(f"{name}: HTTP {response.status_code}: {response.text}")
            body = response.json()
            if body["prompt"] != name or body["status"] != "published":
                raise RuntimeError(f"{name}: unexpected body {body}")
            size = len(response.content)
    return size


# --------------------------------------------------------------------------- load


LUA = """\
local names = {%(names)s}
local headers = {["Authorization"] = "Bearer %(token)s"}
math.randomseed(%(seed)d)
request = function()
  local name = names[math.random(#names)]
  return wrk.format("GET", "/api/v1/prompts/" .. name .. "/production", headers)
end
"""

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"cannot parse wrk latency {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, p50, p99 (ms), request and error counts from ``wrk --latency`` output."""
    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, output, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk output lacks /{pattern}/:\n{output}")
        return match

    errors = 0
    if non_2xx := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        errors += int(non_2xx[1])
    if sock := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                         r"timeout (\d+)", output):
        errors += sum(int(n) for n in sock.groups())
    done = find(r"^\s*(\d+) requests in ([\d.]+)(\w+)")
    return {"requests_per_s": float(find(r"^Requests/sec:\s+([\d.]+)")[1]),
            "p50_ms": _ms(find(r"^\s+50%\s+(\S+)")[1]),
            "p99_ms": _ms(find(r"^\s+99%\s+(\S+)")[1]),
            "requests": int(done[1]), "errors": errors,
            "duration_s": _ms(done[2] + done[3]) / 1000}


def run_wrk(base_url: str, token: str, names: list[str], connections: int, duration_s: float,
            loader: list[str], work_dir: Path) -> dict[str, float]:
    script = work_dir / "production.lua"
    script.write_text(LUA % {"names": ", ".join(f'"{n}"' for n in names), "token": token,
                             "seed": random.randrange(2**31)})
    argv = [*loader, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
            "--latency", "--timeout", "5s", "-s", str(script), base_url]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_wrk(done.stdout)


def run_python_load(base_url: str, token: str, names: list[str], connections: int,
                    duration_s: float) -> dict[str, float]:
    """Fallback when wrk is missing: asyncio + httpx, closed loop, one request per connection."""
    import httpx

    async def main() -> dict[str, float]:
        latencies: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=connections,
                              max_keepalive_connections=connections)
        async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=5,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            started = time.perf_counter()
            deadline = started + duration_s

            async def worker() -> None:
                nonlocal errors
                while (now := time.perf_counter()) < deadline:
                    try:
                        response = await client.get(PATH.format(name=random.choice(names)))
                        ok = response.status_code < 400
                    except httpx.HTTPError:
                        ok = False
                    latencies.append(time.perf_counter() - now)
                    errors += not ok

            await asyncio.gather(*(worker() for _ in range(connections)))
            elapsed = time.perf_counter() - started
        latencies.sort()

        def pct(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000

        return {"requests_per_s": len(latencies) / elapsed, "p50_ms": pct(0.50),
                "p99_ms": pct(0.99), "requests": len(latencies), "errors": errors,
                "duration_s": elapsed}

    return asyncio.run(main())


# --------------------------------------------------------------------------- runs


@dataclass
class Config:
    connections: list[int]
    duration_s: float
    warmup_s: float
    rounds: int
    names: list[str]
    use_wrk: bool
    cache_ttl_s: float
    scope_src: Path
    cpus: Cpus
    work_dir: Path
    processes: Processes


@dataclass
class Server:
    target: str
    base_url: str
    process: subprocess.Popen[bytes]
    log: Path
    token: Callable[[], str]
    body_bytes: int = 0


def server_env(extra: dict[str, str], source: Path = REPO) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SCOPE_", "BENCH_", "UVICORN_"))}
    env["PYTHONPATH"] = str(source)
    return {**env, **extra}


def start_bare(config: Config, jwt_secret: str) -> Server:
    port = free_port()
    log = config.work_dir / "bare.log"
    argv = [*config.cpus.server, sys.executable, "-m", "uvicorn", "--app-dir", str(BENCH_DIR),
            "--factory", "bare_app:create_app", "--host", "127.0.0.1", "--port", str(port),
            "--loop", "uvloop", "--http", "httptools", "--workers", "1", "--no-access-log",
            "--no-server-header"]
    process = config.processes.start(argv, env=server_env({"BENCH_JWT_SECRET": jwt_secret}),
                                     cwd=config.work_dir, log=log)
    return Server("bare", f"http://127.0.0.1:{port}", process, log,
                  lambda: bare_token(jwt_secret))


def start_scope(config: Config, target: str, url: str, jwt_secret: str) -> Server:
    started = time.perf_counter()
    api_key = seed(url, config.names)
    print(f"  {target}: seeded {len(config.names)} prompts in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = config.work_dir / f"scope-{target}.log"
    argv = [*config.cpus.server, sys.executable, "-m", "scope_api.cli", "serve",
            "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--no-access-log"]
    env = server_env({"SCOPE_DATABASE_URL": url, "SCOPE_JWT_KEYS": f"bench:{jwt_secret}",
                      "SCOPE_DATA_DIR": str(config.work_dir / f"data-{target}"),
                      "SCOPE_PRODUCTION_CACHE_TTL_S": f"{config.cache_ttl_s:g}"},
                     source=config.scope_src)
    process = config.processes.start(argv, env=env, cwd=config.work_dir, log=log)
    return Server(target, base_url, process, log, lambda: scope_token(base_url, api_key))


def measure_once(config: Config, server: Server, connections: int) -> dict[str, float]:
    # A fresh token for each measurement: a long run never outlives a token.
    token = server.token()

    def load(seconds: float) -> dict[str, float]:
        if config.use_wrk:
            return run_wrk(server.base_url, token, config.names, connections, seconds,
                           config.cpus.loader, config.work_dir)
        return run_python_load(server.base_url, token, config.names, connections, seconds)

    load(config.warmup_s)
    figures = load(config.duration_s)
    if server.process.poll() is not None:
        raise RuntimeError(f"{server.target} server died during the run:\n{tail(server.log)}")
    print(f"  {server.target:<11} {connections:>3} connections: "
          f"{figures['requests_per_s']:8.0f} req/s  p50 {figures['p50_ms']:6.2f} ms  "
          f"p99 {figures['p99_ms']:6.2f} ms"
          + (f"  ({figures['errors']:.0f} errors!)" if figures["errors"] else ""), flush=True)
    return figures


def summarize(target: str, connections: int, runs: list[dict[str, float]]) -> Measurement:
    """The median of each figure over the rounds."""
    result = Measurement(
        target=target, connections=connections,
        requests_per_s=statistics.median(r["requests_per_s"] for r in runs),
        p50_ms=statistics.median(r["p50_ms"] for r in runs),
        p99_ms=statistics.median(r["p99_ms"] for r in runs),
        requests=int(sum(r["requests"] for r in runs)),
        errors=int(sum(r["errors"] for r in runs)),
        duration_s=sum(r["duration_s"] for r in runs),
        rounds=[{k: round(v, 3) for k, v in r.items()} for r in runs])
    if result.errors:
        result.notes.append(f"{result.errors} failed requests: figures not valid")
    return result


def run_all(config: Config, servers: list[Server]) -> list[Measurement]:
    """Each connection count, round after round, every server in turn (so that any
    drift in the machine's speed affects every server alike); medians per server."""
    for server in servers:
        wait_until_serving(server.process, server.base_url, server.log)
        server.body_bytes = fetch_all(server.base_url, server.token(), config.names)
    results = []
    for connections in config.connections:
        runs: dict[str, list[dict[str, float]]] = {s.target: [] for s in servers}
        for number in range(config.rounds):
            if config.rounds > 1:
                print(f"{connections} connections, round {number + 1}/{config.rounds}",
                      flush=True)
            for server in servers:
                runs[server.target].append(measure_once(config, server, connections))
        results += [summarize(s.target, connections, runs[s.target]) for s in servers]
    return results


def judge(results: list[Measurement]) -> None:
    bare = {r.connections: r for r in results if r.target == "bare"}
    for result in results:
        if result.target == "bare":
            continue
        base = bare.get(result.connections)
        if base is not None and base.requests_per_s > 0:
            result.ratio_to_bare = result.requests_per_s / base.requests_per_s
        checks = []
        if result.ratio_to_bare is not None:
            checks.append(result.ratio_to_bare >= TARGET_RATIO)
        if result.connections in TARGET_P99_MS:
            checks.append(result.p99_ms < TARGET_P99_MS[result.connections])
        result.targets_met = all(checks) and not result.errors if checks else None


def table(results: list[Measurement]) -> str:
    header = (f"{'backend':<11} {'conns':>5} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'x bare':>7}  target met?")
    lines = [header, "-" * len(header)]
    for r in results:
        ratio = f"{r.ratio_to_bare:.2f}" if r.ratio_to_bare is not None else "-"
        if r.targets_met is None:
            verdict = "(baseline)" if r.target == "bare" else "-"
        else:
            wanted = [f">= {TARGET_RATIO}x bare"] if r.ratio_to_bare is not None else []
            if r.connections in TARGET_P99_MS:
                wanted.append(f"p99 < {TARGET_P99_MS[r.connections]:g} ms")
            verdict = ("yes" if r.targets_met else "NO") + f" ({', '.join(wanted)})"
        if r.errors:
            verdict += f" [{r.errors} errors]"
        lines.append(f"{r.target:<11} {r.connections:>5} {r.requests_per_s:>8.0f} "
                     f"{r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {ratio:>7}  {verdict}")
    return "\n".join(lines)


def cpu_busy(seconds: float = 1.0) -> float | None:
    """Fraction of all CPUs busy over ``seconds`` (from /proc/stat), or None if unknown."""
    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return None if total <= 0 else 1 - (idle1 - idle0) / total


def machine() -> dict[str, Any]:
    model = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for package in ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pyjwt",
                    "sqlalchemy", "psycopg"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[package] = version(package)
    return {"cpus": os.cpu_count(), "cpu_model": model, "python": platform.python_version(),
            "kernel": platform.release(), "packages": versions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--connections", default="4,32",
                        help="comma-separated connection counts (default: 4,32)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0,
                        help="seconds of load before each measurement")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measurements per server and connection count, interleaved "
                             "across servers; the table shows medians (default 3)")
    parser.add_argument("--backends", default="sqlite,postgresql",
                        help="comma-separated: sqlite, postgresql (default: both)")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare FastAPI baseline")
    parser.add_argument("--load-generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--cache-ttl", type=float, default=600.0,
                        help="SCOPE_PRODUCTION_CACHE_TTL_S for the Scope server (default 600: "
                             "no entry expires during a run; Scope's own default is 30)")
    parser.add_argument("--scope-src", type=Path, default=REPO,
                        help="directory holding the scope_api to serve (to compare two "
                             "checkouts; default: this repository)")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown backend(s): {', '.join(sorted(unknown))}")
    use_wrk = args.load_generator == "wrk" or (args.load_generator == "auto"
                                               and shutil.which("wrk") is not None)
    if use_wrk and shutil.which("wrk") is None:
        parser.error("wrk not found (apt-get install wrk)")

    for signum in (signal.SIGTERM, signal.SIGHUP):  # stop the servers on these too
        signal.signal(signum, _raise_interrupt)
    processes = Processes()
    cpus = plan_cpus()
    if cpus.loader:  # this script (and the Python load generator) stays off the server's CPU
        os.sched_setaffinity(0, {int(cpus.loader[-1])})
    loadgen = ("wrk (1 thread, closed loop)" if use_wrk
               else "Python asyncio + httpx (wrk NOT available; this generator is slower "
                    "than wrk and may saturate before the server does)")
    print(f"production fetch benchmark: {args.prompts} prompts, connections "
          f"{args.connections}, {args.rounds} round(s) of {args.duration:g} s per measurement "
          f"after {args.warmup:g} s warm-up (table: medians)\n  {cpus.note}\n"
          f"  load generator: {loadgen}\n"
          "  steady state: every prompt is fetched once before measuring, so requests are "
          f"answered from the production cache (TTL {args.cache_ttl:g} s)", flush=True)
    busy_before = cpu_busy()
    if busy_before is not None and busy_before > 0.10:
        print(f"  WARNING: the CPUs were {busy_before:.0%} busy before starting: other "
              "processes compete for them and the figures will be noisy", flush=True)

    results: list[Measurement] = []
    sizes: dict[str, int] = {}
    jwt_secret = secrets.token_urlsafe(48)  # 64 characters, like Scope's generated key
    try:
        with contextlib.ExitStack() as stack:
            work_dir = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="scope-bench-")))
            config = Config(connections=[int(c) for c in args.connections.split(",")],
                            duration_s=args.duration, warmup_s=args.warmup, rounds=args.rounds,
                            names=prompt_names(args.prompts), use_wrk=use_wrk,
                            cache_ttl_s=args.cache_ttl, scope_src=args.scope_src.resolve(),
                            cpus=cpus, work_dir=work_dir, processes=processes)
            urls = {backend: f"sqlite:///{work_dir / 'sqlite' / 'scope.db'}"
                    if backend == "sqlite" else stack.enter_context(postgres_database())
                    for backend in backends}
            stack.callback(processes.stop_all)  # runs before the databases are dropped
            servers = [] if args.no_bare else [start_bare(config, jwt_secret)]
            servers += [start_scope(config, backend, url, jwt_secret)
                        for backend, url in urls.items()]
            expected_s = (len(servers) * len(config.connections) * config.rounds
                          * (config.warmup_s + config.duration_s + 1))
            if expected_s > config.cache_ttl_s:
                print(f"  note: the run takes about {expected_s:.0f} s, longer than the cache "
                      f"TTL ({config.cache_ttl_s:g} s): entries expire and reload during it",
                      flush=True)
            results = run_all(config, servers)
            sizes = {s.target: s.body_bytes for s in servers}
    except KeyboardInterrupt:
        print("\ninterrupted; servers stopped", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()

    judge(results)
    print("\n" + table(results))
    print("\nresponse body bytes: " + ", ".join(f"{k} {v}" for k, v in sizes.items()))
    print(f"targets: Scope >= {TARGET_RATIO}x the bare endpoint's req/s; p99 < "
          + ", ".join(f"{ms:g} ms at {c}" for c, ms in TARGET_P99_MS.items()) + " connections")
    if args.json:
        payload = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                   "machine": machine(), "pinning": cpus.note, "load_generator": loadgen,
                   "cpu_busy_before": busy_before, "cache_ttl_s": args.cache_ttl,
                   "prompts": args.prompts, "duration_s": args.duration,
                   "rounds": args.rounds,
                   "warmup_s": args.warmup, "body_bytes": sizes,
                   "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
