"""Real ``scope serve`` processes, for tests that need several replicas or the CLI.

Usage::

    with serve(database_url) as server:
        httpx.get(f"{server.base_url}/api/v1/health")
        headers = {"Authorization": f"Bearer {server.token()}"}
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

JWT_KEY = "test:" + "k" * 48
STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def scope_command(*args: str) -> list[str]:
    """The ``scope`` CLI of this virtualenv, run as a module of the interpreter running tests."""
    return [sys.executable, "-m", "scope_api.cli", *args]


def base_env(database_url: str | None, data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment for a scope process: no ``SCOPE_*`` leaking from the caller."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCOPE_")}
    env.update({"SCOPE_DATA_DIR": str(data_dir), "SCOPE_JWT_KEYS": JWT_KEY,
                "SCOPE_LOG_LEVEL": "warning"})
    if database_url is not None:
        env["SCOPE_DATABASE_URL"] = database_url
    env.update(extra)
    return env


@dataclass
class LiveServer:
    base_url: str
    api_key: str | None
    process: subprocess.Popen[str]
    log_path: Path
    _token: str | None = field(default=None, repr=False)

    def output(self) -> str:
        """Everything the process wrote to stdout and stderr so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def token(self, api_key: str | None = None) -> str:
        """An access token for ``api_key`` (default: the bootstrap admin key)."""
        secret = api_key or self.api_key
        if secret is None:
            raise RuntimeError("this server was started without a bootstrap API key")
        if api_key is None and self._token is not None:
            return self._token
        response = httpx.post(f"{self.base_url}/api/v1/auth/token", json={"api_key": secret},
                              timeout=10)
        response.raise_for_status()
        access: str = response.json()["access_token"]
        if api_key is None:
            self._token = access
        return access

    def headers(self, api_key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(api_key)}"}


def _wait_healthy(server: LiveServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last_error = "no attempt"
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"scope serve exited with {server.process.returncode} "
                                   f"before becoming healthy:\n{server.output()}")
            try:
                response = client.get(f"{server.base_url}/api/v1/health")
                if response.status_code == 200:
                    return
                last_error = f"HTTP {response.status_code}: {response.text}"
            except httpx.TransportError as exc:
                last_error = repr(exc)
            time.sleep(0.05)  # polling a condition, not synchronising on time
    raise RuntimeError(f"scope serve not healthy after {timeout_s:.0f}s ({last_error}):\n"
                       f"{server.output()}")


def stop_process(process: subprocess.Popen[Any], *, grace_s: float = 10) -> None:
    """SIGTERM, then SIGKILL if it is still there after ``grace_s``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def serve(database_url: str | None, *, env: Mapping[str, str] | None = None,
          port: int | None = None, data_dir: Path | None = None,
          bootstrap: bool = True) -> Iterator[LiveServer]:
    """Run ``scope serve`` on ``database_url`` until the block ends.

    ``bootstrap`` sets ``SCOPE_BOOTSTRAP_API_KEY`` to a fresh secret (``server.api_key``);
    ``env`` overrides or adds variables (an empty string value removes one).
    """
    with tempfile.TemporaryDirectory(prefix="scope-live-") as tmp:
        data = data_dir or Path(tmp) / "data"
        api_key = "bootstrap-" + secrets.token_urlsafe(32) if bootstrap else None
        extra: dict[str, str] = {}
        if api_key is not None:
            extra["SCOPE_BOOTSTRAP_API_KEY"] = api_key
        full_env = base_env(database_url, data, **extra)
        for key, value in (env or {}).items():
            if value == "":
                full_env.pop(key, None)
            else:
                full_env[key] = value
        api_key = full_env.get("SCOPE_BOOTSTRAP_API_KEY")
        chosen = port or free_port()
        log_path = Path(tmp) / "server.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                scope_command("serve", "--host", "127.0.0.1", "--port", str(chosen)),
                env=full_env, stdout=log, stderr=subprocess.STDOUT, text=True,
                cwd=tmp)
        server = LiveServer(base_url=f"http://127.0.0.1:{chosen}", api_key=api_key,
                            process=process, log_path=log_path)
        try:
            _wait_healthy(server, STARTUP_TIMEOUT_S)
            yield server
        finally:
            stop_process(process)
