"""Runs survive kill -9 and share work between replicas, with real server processes.

Provider calls go to a standalone simulator process (``scope simulate``) through an
``openai_compatible`` provider, so its call count survives the Scope servers being
killed and tells exactly how many calls were made.
"""

from __future__ import annotations

import base64
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from scope_api.models import Execution, RunCell
from tests.live import LiveServer, free_port, scope_command, serve

# Replicas share the master key (they decrypt each other's provider keys), as in production.
ENV = {"SCOPE_ALLOW_PRIVATE_PROVIDER_URLS": "true", "SCOPE_RUN_LEASE_S": "2",
       "SCOPE_RUN_POLL_S": "0.1", "SCOPE_PROVIDER_RETRY_BASE_DELAY_S": "0.01",
       "SCOPE_MASTER_KEYS": "test:" + base64.b64encode(b"m" * 32).decode()}


@contextmanager
def simulator(latency_ms: float) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(scope_command("simulate", "--port", str(port), "--latency-ms",
                                             str(latency_ms)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{url}/_simulator/calls", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def calls(simulator_url: str) -> int:
    count: int = httpx.get(f"{simulator_url}/_simulator/calls", params={"key": ""}).json()[
        "calls"]
    return count


def setup_run(server: LiveServer, simulator_url: str, items: int, concurrency: int) -> str:
    """A prompt, an openai_compatible provider on the simulator, a golden set; start a run."""
    with httpx.Client(base_url=f"{server.base_url}/api/v1", headers=server.headers(),
                      timeout=30) as api:
        def ok(response: httpx.Response) -> Any:
            assert response.status_code < 300, response.text
            return response.json()

        ok(api.post("/providers", json={"name": "sim-http", "kind": "openai_compatible",
                                        "base_url": f"{simulator_url}/v1",
                                        "api_key": "sk-simulated-0000"}))
        ok(api.post("/prompts", json={"name": "capital"}))
        ok(api.post("/prompts/capital/versions", json={"content": "Capital of {{ n }}?"}))
        ok(api.post("/golden-sets", json={"name": "numbers"}))
        ok(api.post("/golden-sets/numbers/items",
                    json=[{"variables": {"n": i}, "expected": None} for i in range(items)]))
        run = ok(api.post("/golden-sets/numbers/runs", json={
            "prompt": "capital", "versions": [1], "concurrency": concurrency,
            "targets": [{"provider": "sim-http", "model": "sim-model"}]}))
        run_id: str = run["id"]
        return run_id


def progress(server: LiveServer, run_id: str) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/api/v1/runs/{run_id}", headers=server.headers(),
                         timeout=10)
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    return run


def wait_for(server: LiveServer, run_id: str, done: int, timeout_s: float = 60
             ) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        run = progress(server, run_id)
        if run["progress"]["done"] >= done or run["status"] not in ("queued", "running"):
            return run
        assert time.monotonic() < deadline, f"run stuck: {run}"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_killed_server_resumes_the_missing_cells_only(tmp_path: Any) -> None:
    total = 60
    data = tmp_path / "data"
    port = free_port()
    key = "bootstrap-" + "r" * 40
    env = {**ENV, "SCOPE_BOOTSTRAP_API_KEY": key}
    with simulator(latency_ms=100) as sim:
        with serve(None, port=port, data_dir=data, env=env) as server:
            run_id = setup_run(server, sim, total, concurrency=4)
            wait_for(server, run_id, done=20)
            server.process.kill()  # kill -9: no clean shutdown, leases stay taken
            server.process.wait(10)
        engine = create_engine(f"sqlite:///{data / 'scope.db'}")
        with engine.connect() as conn:
            recorded = conn.scalar(select(func.count()).select_from(RunCell).where(
                RunCell.status.in_(("succeeded", "failed"))))
            in_flight = conn.scalar(select(func.count()).select_from(RunCell).where(
                RunCell.status == "running"))
        assert recorded is not None
        assert in_flight is not None
        assert 20 <= recorded < total
        calls_at_kill = calls(sim)

        with serve(None, port=port, data_dir=data, env=env) as server:
            run = wait_for(server, run_id, done=total)
            assert run["status"] == "succeeded"
            assert run["progress"] == {"done": total, "total": total, "failed": 0}
        made = calls(sim)
        # Each cell's call was made once, except those in flight at the kill, whose
        # results were never recorded: those (and only those) were made again.
        assert calls_at_kill <= recorded + in_flight
        assert total <= made <= total + in_flight
        with engine.connect() as conn:
            executions = conn.scalar(select(func.count()).select_from(Execution))
            per_cell = conn.execute(select(RunCell.execution_id).where(
                RunCell.run_id == run_id)).scalars().all()
        engine.dispose()
        assert executions == total  # one recorded execution per cell, none twice
        assert len(set(per_cell)) == total
        assert None not in per_cell


@pytest.mark.slow
def test_two_replicas_execute_each_cell_exactly_once(database_url: str) -> None:
    total = 80
    key = "bootstrap-" + "s" * 40
    env = {**ENV, "SCOPE_BOOTSTRAP_API_KEY": key}
    with simulator(latency_ms=50) as sim, serve(database_url, env=env) as first, \
            serve(database_url, env=env) as second:
        run_id = setup_run(first, sim, total, concurrency=8)
        run = wait_for(second, run_id, done=total)
        assert run["status"] in ("running", "succeeded")
        run = wait_for(first, run_id, done=total + 1, timeout_s=10)  # until it ends
        assert run["status"] == "succeeded"
        assert run["progress"] == {"done": total, "total": total, "failed": 0}
        assert calls(sim) == total
