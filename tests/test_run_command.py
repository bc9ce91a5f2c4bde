"""The README's first command, ``make run`` (``scripts/run.sh``), as a newcomer runs it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.live import free_port

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]


def _until(check: Callable[[], bool], what: str, process: subprocess.Popen[bytes],
           log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make run exited with {process.returncode} before "
                                 f"{what} was up:\n{log.read_text()[-3000:]}")
        try:
            if check():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polling a condition, not synchronising on time
    raise AssertionError(f"{what} not up after {timeout_s:.0f}s:\n{log.read_text()[-3000:]}")


def test_make_run_serves_the_api_and_jupyterlab_with_a_working_admin_key(
        tmp_path: Path) -> None:
    api_port, lab_port = free_port(), free_port()
    data = tmp_path / "scope-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPE_")}
    env.update({"SCOPE_PORT": str(api_port), "SCOPE_LAB_PORT": str(lab_port),
                "SCOPE_DATA_DIR": str(data)})
    log = tmp_path / "run.log"
    with open(log, "w") as out:
        # Its own process group: the script, the API and JupyterLab stop together.
        process = subprocess.Popen(["bash", "scripts/run.sh"], cwd=REPO, env=env,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    api = f"http://127.0.0.1:{api_port}/api/v1"
    try:
        _until(lambda: httpx.get(f"{api}/health").status_code == 200, "the API", process,
               log)
        # JupyterLab starts once the API answers (as root it needs --allow-root).
        _until(lambda: httpx.get(f"http://127.0.0.1:{lab_port}/lab").status_code in (200, 302),
               "JupyterLab", process, log)

        key_file = data / "dev-api-key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        token = httpx.post(f"{api}/auth/token",
                           json={"api_key": key_file.read_text().strip()}).json()
        headers = {"authorization": f"Bearer {token['access_token']}"}
        # Offline, against the built-in simulator: what the quickstart does first.
        for url, body in [("providers", {"name": "sim", "kind": "simulator"}),
                          ("prompts", {"name": "hello"}),
                          ("prompts/hello/versions", {"content": "Hello {{ who }}"})]:
            created = httpx.post(f"{api}/{url}", json=body, headers=headers)
            assert created.status_code == 201, created.text
        executed = httpx.post(f"{api}/executions", headers=headers, timeout=30, json={
            "prompt": "hello", "version": 1, "provider": "sim", "model": "sim-gpt-mini",
            "variables": {"who": "newcomer"}})
        assert executed.status_code == 201, executed.text
        assert executed.json()["rendered"]["content"] == "Hello newcomer"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
