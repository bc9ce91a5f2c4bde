"""Fixtures for telemetry tests: a real OTLP/HTTP receiver, and a port nobody listens on."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.telemetry.receiver import OtlpReceiver


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """An OTLP/HTTP receiver on a free port; ``.url`` is what ``SCOPE_OTLP_ENDPOINT`` takes."""
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture
def unreachable_url() -> str:
    """The base URL of a closed local port: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
