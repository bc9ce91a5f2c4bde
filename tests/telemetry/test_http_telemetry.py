"""FastAPI's built-in HTTP telemetry: on only where the process has a global provider
when the app is built (``scope_api.app.http_telemetry``).

Each case runs in a fresh interpreter: a global OpenTelemetry provider can be set once
per process, and would switch FastAPI's telemetry on for every app the suite builds."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import asyncio, json, sys, tempfile
    from pathlib import Path
    import httpx
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from scope_api.app import create_app
    from scope_api.config import Settings

    def build():
        folder = Path(tempfile.mkdtemp())
        return create_app(Settings(database_url=f"sqlite:///{folder}/s.db",
                                   data_dir=folder / "data", jwt_keys=["t:" + "k" * 48]))

    async def call(app):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://s") as c:
                assert (await c.get("/api/v1/health")).status_code == 200

    exporter = InMemorySpanExporter()
    built_before = build()
    if sys.argv[1] == "provider":
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(provider)
    built_after = build()
    counts = []
    for app in (built_before, built_after):
        asyncio.run(call(app))
        counts.append(len(exporter.get_finished_spans()))
        exporter.clear()
    print(json.dumps(counts))
""")


def _span_counts(mode: str) -> list[int]:
    done = subprocess.run([sys.executable, "-c", SCRIPT, mode], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    counts: list[int] = json.loads(done.stdout.strip().splitlines()[-1])
    return counts


def test_an_app_built_under_a_global_provider_traces_its_requests() -> None:
    before, after = _span_counts("provider")
    # Built before the provider was set: off, and not asked on each request (FastAPI left
    # to itself would trace it now).
    assert before == 0
    assert after >= 1  # FastAPI's request span, to the operator's provider

