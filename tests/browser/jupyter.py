"""Real Jupyter servers for the panel's tests, isolated from the real home directory.

The lab extension and the server extension's config are found through ``sys.prefix``
(the venv's ``share/jupyter`` and ``etc/jupyter``), which the temporary
``JUPYTER_*`` directories leave on the search paths.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.live import free_port, stop_process

STARTUP_TIMEOUT_S = 60.0


@dataclass
class JupyterServer:
    url: str
    token: str
    root: Path
    log_path: Path

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def run_jupyter(tmp: Path, *, app: str = "server", scope_url: str | None = None,
                api_key: str | None = None, args: tuple[str, ...] = ()) -> Iterator[JupyterServer]:
    """Run ``jupyter <app>`` on a free port with the Scope settings given, until the block ends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCOPE_", "JUPYTER_"))}
    for name in ("config", "data", "runtime"):
        (tmp / name).mkdir(parents=True, exist_ok=True)
        env[f"JUPYTER_{name.upper()}_DIR"] = str(tmp / name)
    if scope_url is not None:
        env["SCOPE_BASE_URL"] = scope_url
    if api_key is not None:
        env["SCOPE_API_KEY"] = api_key
    root = tmp / "notebooks"
    root.mkdir(exist_ok=True)
    token = secrets.token_hex(16)
    port = free_port()
    log_path = tmp / f"jupyter-{app}.log"
    command = [sys.executable, "-m", "jupyter", app, "--no-browser", "--ip", "127.0.0.1",
               "--port", str(port), f"--IdentityProvider.token={token}", "--allow-root",
               f"--ServerApp.root_dir={root}", *args]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=tmp)
    server = JupyterServer(url=f"http://127.0.0.1:{port}", token=token, root=root,
                           log_path=log_path)
    try:
        _wait_ready(server, process)
        yield server
    finally:
        stop_process(process, grace_s=15)


def _wait_ready(server: JupyterServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{server.url}/api/status", headers=server.headers(),
                         timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a condition, not synchronising on time
    raise RuntimeError(f"jupyter not ready after {STARTUP_TIMEOUT_S:.0f}s:\n{server.output()}")
