"""What the app builds once at start-up and every request can reach."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import httpx

from scope_api.config import Settings
from scope_api.db import Database
from scope_api.pagination import CursorCodec
from scope_api.production_cache import ProductionCache
from scope_api.security.crypto import SecretBox
from scope_api.security.tokens import TokenService
from scope_api.services.run_summary import LiveSummaries
from scope_api.telemetry import Telemetry

if TYPE_CHECKING:
    from scope_api.checkpoints import Checkpointer
    from scope_api.engine.recorder import ExecutionRecorder
    from scope_api.engine.runs.worker import RunWorker
    from scope_api.engine.target_cache import TargetCache


@dataclass
class AppContext:
    settings: Settings
    database: Database
    tokens: TokenService
    cursors: CursorCodec
    production_cache: ProductionCache
    secrets: SecretBox
    """Encrypts and decrypts provider API keys (``security.crypto``)."""
    telemetry: Telemetry
    """Execution spans: Scope's own record and the OTLP export (``telemetry``)."""
    http: httpx.AsyncClient | None = None
    """The one HTTP client for provider calls; opened and closed by the lifespan."""
    simulator_url: str | None = None
    """Base URL of the in-process provider simulator (``engine.simulator_server``)."""
    targets: TargetCache | None = None
    """What executions read before their call, cached (``engine.target_cache``)."""
    recorder: ExecutionRecorder | None = None
    """Commits execution records in groups (``engine.recorder``); started by the lifespan."""
    run_worker: RunWorker | None = None
    """Executes golden-set run cells in the background (``engine.runs``)."""
    checkpointer: Checkpointer | None = None
    """Checkpoints SQLite's log off the commit path (``checkpoints``); None on PostgreSQL."""
    run_summaries: LiveSummaries = field(default_factory=LiveSummaries)
    """Recent summaries of runs still going on (``GET /runs/{id}`` is polled)."""
