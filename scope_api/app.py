"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from opentelemetry import metrics, trace
from opentelemetry._logs import get_logger_provider
from sqlalchemy.engine import make_url

from scope_api import __version__
from scope_api.checkpoints import Checkpointer
from scope_api.config import Settings, get_settings
from scope_api.context import AppContext
from scope_api.db import Database, build_engine
from scope_api.engine.http import provider_http_client
from scope_api.engine.recorder import ExecutionRecorder
from scope_api.engine.runs.worker import RunWorker
from scope_api.engine.simulator_server import InProcessSimulator
from scope_api.engine.target_cache import TargetCache
from scope_api.errors import install_error_handlers
from scope_api.middleware import RequestGuardMiddleware, RequestIdMiddleware
from scope_api.notify_listener import NotifyListener
from scope_api.pagination import CursorCodec
from scope_api.production_cache import ProductionCache
from scope_api.routes import (
    api_keys,
    auth,
    executions,
    golden_sets,
    health,
    prompts,
    providers,
    runs,
    traces,
    users,
    versions,
)
from scope_api.security.crypto import SecretBox
from scope_api.security.tokens import KeyRing, TokenService
from scope_api.telemetry import Telemetry

if TYPE_CHECKING:
    from fastapi.telemetry import TelemetryConfig

API_PREFIX = "/api/v1"
log = logging.getLogger("scope_api")


def _sqlite_marker(settings: Settings) -> Path | None:
    """The file that carries cache invalidations between processes on one SQLite file."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(f"{Path(url.database).expanduser()}.promotions")


def build_context(settings: Settings) -> AppContext:
    """Everything a request needs, built once per process."""
    keyring = KeyRing.from_settings(settings)
    tokens = TokenService(keyring, issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                          ttl_s=settings.access_token_ttl_s)
    # Cursors are signed with material derived from the JWT keys: no extra secret to manage.
    cursor_keys = [keyring.active.secret_material,
                   *(k.secret_material for k in keyring.by_kid.values() if k != keyring.active)]
    production_cache = ProductionCache(settings.production_cache_ttl_s,
                                       marker=_sqlite_marker(settings))
    # The lifespan checkpoints SQLite's log on a thread (scope_api.checkpoints).
    return AppContext(settings=settings, database=Database(build_engine(
                          settings.resolved_database_url, background_checkpoints=True)),
                      tokens=tokens, cursors=CursorCodec(*cursor_keys),
                      production_cache=production_cache,
                      secrets=SecretBox.from_settings(settings), telemetry=Telemetry(settings),
                      targets=TargetCache(production_cache, settings.production_cache_ttl_s))


_UNSET_PROVIDERS = frozenset({"ProxyTracerProvider", "_ProxyMeterProvider",
                              "ProxyLoggerProvider"})


def http_telemetry() -> TelemetryConfig:
    """FastAPI's own HTTP telemetry (request spans, metrics, error logs): on for each
    signal whose global OpenTelemetry provider is set when the app is built, as under
    ``opentelemetry-instrument scope serve``; off for the others. Left to itself, FastAPI
    asks the global providers on every request whether one has appeared, reading the
    environment each time: 1.5% of an execution's CPU for nothing. Scope's execution
    spans have a provider of their own and do not depend on this."""
    def is_set(provider: object) -> bool:
        return type(provider).__name__ not in _UNSET_PROVIDERS

    return {"tracing": is_set(trace.get_tracer_provider()),
            "metrics": is_set(metrics.get_meter_provider()),
            "logs": is_set(get_logger_provider())}


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; the database and keys are opened by the lifespan, not here."""
    resolved = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = build_context(resolved)
        app.state.context = context
        listener = NotifyListener.start_if_postgres(context)
        checkpointer = context.checkpointer = Checkpointer.start_if_sqlite(
            context.database.engine)
        simulator = InProcessSimulator()
        context.http = provider_http_client(
            allow_private=lambda: context.settings.allow_private_provider_urls)
        worker = context.run_worker = RunWorker(context)
        recorder = context.recorder = ExecutionRecorder(context)
        try:
            context.simulator_url = await simulator.start()
            recorder.start()
            worker.start()
            if resolved.gc_freeze:  # see Settings.gc_freeze
                gc.collect()
                gc.freeze()
            yield
        finally:
            if resolved.gc_freeze:
                gc.unfreeze()
            await recorder.stop()  # requests have finished: their records are written
            await worker.stop()  # before the HTTP client: its calls are cancelled first
            await context.http.aclose()  # first: the simulator then has no idle connections
            await simulator.stop()
            await asyncio.to_thread(context.telemetry.shutdown)  # flushes queued spans
            if listener is not None:
                listener.stop()
            if checkpointer is not None:
                checkpointer.stop()
            context.database.dispose()

    app = FastAPI(title="Scope API", version=__version__, lifespan=lifespan,
                  openapi_url=f"{API_PREFIX}/openapi.json", docs_url=f"{API_PREFIX}/docs",
                  redoc_url=None, telemetry=http_telemetry())
    install_error_handlers(app)
    # Routes match in order: the two hot paths first, the production fetch (versions)
    # and POST /executions (it was in the seventh router: ~30 failed matches per call).
    for module in (versions, executions, prompts, auth, api_keys, users, providers, traces,
                   golden_sets, runs, health):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(auth.jwks_router)
    app.add_middleware(RequestGuardMiddleware, max_bytes=resolved.max_body_bytes,
                       overrides=[(API_PREFIX + golden_sets.UPLOAD_PATH_PATTERN,
                                   resolved.golden_set_max_body_bytes)])
    app.add_middleware(RequestIdMiddleware)
    return app
