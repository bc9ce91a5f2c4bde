"""Instructions per ``POST /executions``, counted by callgrind: the engine's CPU cost in a
unit the machine's speed does not change.

Not a test: it prints figures. Run it from the repository root (it needs valgrind)::

    .venv/bin/python tests/benchmarks/bench_engine_instructions.py            # ~4 minutes
    .venv/bin/python tests/benchmarks/bench_engine_instructions.py --scope-src ../old --runs 3

This machine's speed drifts by half within minutes and threefold between sessions, so
timings taken at different moments cannot be compared. Instructions can: callgrind
counts what the interpreter executes, whatever the machine is doing meanwhile.

How: the app runs in process (``create_app`` on a fresh SQLite database, the server's
settings) under ``valgrind --tool=callgrind --instr-atstart=no``, with the scenario of
``bench_engine_overhead.py``: prompt ``label: "production"``, the two-message chat
template with four variables, ``max_tokens: 64``. The provider is ``openai_compatible``
at ``scope simulate`` in a process of its own, so the simulator's work is not counted.
Requests go one at a time through ``httpx.ASGITransport``: after ``--warmup`` of them,
counting is switched on (``callgrind_control -i on``) for ``--requests`` and off again.
The count covers every thread of the process: the event loop, the execution recorder's
writes, the checkpoints; spans are not exported. It includes the client's side of
each request (httpx over ASGI, the same for every version measured), so compare the
figures of two versions, not against another server's.

``--scope-src DIR`` (repeatable) measures the ``scope_api`` of other checkouts too, the
sources taking turns within each of ``--runs`` runs; the table gives every run and
each source's median. ``PYTHONHASHSEED`` is fixed: the hash seed alone moved the count
by 3% between runs of the same code. What still varies between runs (the event loop's
polling, collections) is the spread shown, about 1%; between invocations the same code
has moved by 3.5%, so compare sources measured in one invocation.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CONTENT = [{"role": "system", "content": "You are {{ persona }}. Answer in {{ language }}."},
           {"role": "user", "content": "{{ question }} (request {{ rid }})"}]
TOTALS = re.compile(r"^(?:totals|summary):\s+(\d+)\s*$", re.MULTILINE)


# ------------------------------------------------------------------ the counted process

def _wait_for(flag: Path) -> None:
    while not flag.exists():
        time.sleep(0.05)
    flag.unlink()


async def scenario(control: Path | None, simulator_url: str, warmup: int, requests: int) -> int:
    """Run the scenario in this process; with ``control``, pause for the driver before
    and after the counted requests. Returns the executions that succeeded."""
    import httpx

    from scope_api.app import create_app
    from scope_api.config import Settings
    from scope_api.migrate import upgrade
    from scope_api.services import api_keys, tenants

    folder = Path(tempfile.mkdtemp(prefix="scope-instructions-"))
    try:
        url = f"sqlite:///{folder}/scope.db"
        upgrade(url)
        app = create_app(Settings(database_url=url, data_dir=folder / "data",
                                  jwt_keys=["bench:" + "k" * 48],
                                  allow_private_provider_urls=True))
        async with app.router.lifespan_context(app):
            with app.state.context.database.unit_of_work() as session:
                tenant = tenants.get_or_create(session, "bench")
                _, secret = api_keys.create(session, tenant_id=tenant.id, name="bench",
                                            role="admin", created_by="bench")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://scope") as client:
                token = (await client.post("/api/v1/auth/token", json={"api_key": secret})
                         ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                for method, path, body in (
                        ("POST", "/prompts", {"name": "bench"}),
                        ("POST", "/prompts/bench/versions", {"content": CONTENT}),
                        ("POST", "/prompts/bench/versions/1/promote", None),
                        ("POST", "/providers", {"name": "sim", "kind": "openai_compatible",
                                                "base_url": f"{simulator_url}/v1",
                                                "api_key": "sk-bench-instructions"})):
                    answer = await client.request(method, f"/api/v1{path}", json=body,
                                                  headers=headers)
                    assert answer.status_code in (200, 201), answer.text

                async def execute(number: int) -> bool:
                    answer = await client.post("/api/v1/executions", headers=headers, json={
                        "prompt": "bench", "label": "production", "provider": "sim",
                        "model": "sim-gpt-mini", "parameters": {"max_tokens": 64},
                        "variables": {"persona": "a helpful assistant", "language": "English",
                                      "question": "What is the capital of France?",
                                      "rid": number}})
                    return answer.status_code == 201

                for number in range(warmup):
                    await execute(number)
                if control is not None:
                    (control / "ready").touch()
                    _wait_for(control / "go")
                succeeded = [await execute(warmup + number) for number in range(requests)]
                if control is not None:
                    (control / "done").touch()
                    _wait_for(control / "go")
                return sum(succeeded)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------- the driver

def totals(callgrind_out: str) -> int:
    """The instruction count in a callgrind output file's text."""
    found = TOTALS.findall(callgrind_out)
    if not found:
        raise ValueError("no totals in the callgrind output")
    return max(int(value) for value in found)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _poll(flag: Path, process: subprocess.Popen[Any], what: str) -> None:
    while not flag.exists():
        if process.poll() is not None:
            raise SystemExit(f"the counted process exited ({process.returncode}) {what}")
        time.sleep(0.2)
    flag.unlink()


def count(source: Path, simulator_url: str, warmup: int, requests: int) -> int:
    """Instructions for ``requests`` executions with the ``scope_api`` in ``source``."""
    work = Path(tempfile.mkdtemp(prefix="scope-callgrind-"))
    out = work / "callgrind.out"
    environment = {**os.environ, "PYTHONHASHSEED": "0", "SCOPE_GC_FREEZE": "false",
                   "PYTHONPATH": str(source)}
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
               f"--callgrind-out-file={out}", sys.executable, __file__, "--child",
               str(work), simulator_url, str(warmup), str(requests)]
    log = (work / "valgrind.log").open("w")
    process = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    try:
        _poll(work / "ready", process, "before the counted requests")
        subprocess.run(["callgrind_control", "-i", "on", str(process.pid)], check=True,
                       capture_output=True)
        (work / "go").touch()
        _poll(work / "done", process, "during the counted requests")
        subprocess.run(["callgrind_control", "-i", "off", str(process.pid)], check=True,
                       capture_output=True)
        (work / "go").touch()
        if process.wait(timeout=600) != 0:
            raise SystemExit(f"the counted process failed: see {work / 'valgrind.log'}")
        return totals(out.read_text())
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
        if process.returncode == 0:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="counted executions")
    parser.add_argument("--warmup", type=int, default=100, help="executions before counting")
    parser.add_argument("--runs", type=int, default=2, help="runs per source")
    parser.add_argument("--scope-src", type=Path, action="append", default=[],
                        help="another checkout whose scope_api to measure too")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        control, url, warmup, requests = args.child
        done = asyncio.run(scenario(Path(control), url, int(warmup), int(requests)))
        sys.exit(0 if done == int(requests) else 1)
    for tool in ("valgrind", "callgrind_control"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed (apt-get install valgrind)")
    sources = [REPO, *(path.resolve() for path in args.scope_src)]
    for source in sources:
        if not (source / "scope_api" / "__init__.py").exists():
            raise SystemExit(f"{source} has no scope_api package")

    port = _free_port()
    simulator = subprocess.Popen([sys.executable, "-m", "scope_api.cli", "simulate",
                                  "--port", str(port)], cwd=REPO, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or simulator.poll() is not None:
                    raise SystemExit("the simulator did not start") from None
                time.sleep(0.2)
        print(f"instructions per POST /executions (callgrind; {args.requests} counted after "
              f"{args.warmup}; {args.runs} runs per source, taking turns)", flush=True)
        results: dict[Path, list[float]] = {source: [] for source in sources}
        for run in range(1, args.runs + 1):
            for source in sources:
                per_request = count(source, f"http://127.0.0.1:{port}", args.warmup,
                                    args.requests) / args.requests
                results[source].append(per_request)
                print(f"  run {run}  {source}: {per_request:,.0f}", flush=True)
    finally:
        simulator.terminate()
        simulator.wait(timeout=30)
    print()
    print(f"{'source':<50} {'median':>12} {'min':>12} {'max':>12} {'vs first':>9}")
    first = statistics.median(results[sources[0]])
    for source, values in results.items():
        median = statistics.median(values)
        print(f"{str(source)[-50:]:<50} {median:>12,.0f} {min(values):>12,.0f} "
              f"{max(values):>12,.0f} {100 * (median / first - 1):>+8.1f}%")


if __name__ == "__main__":
    main()
