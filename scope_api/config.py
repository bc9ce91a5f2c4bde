"""Settings, read from ``SCOPE_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Access tokens never live longer than this, whatever the configuration says.
MAX_ACCESS_TOKEN_TTL_S = 15 * 60


def _otel(variable: str) -> AliasChoices:
    # Read from OpenTelemetry's own variable (not SCOPE_…); code may pass the field name,
    # which is the same name in lower case (environment names match case-insensitively).
    return AliasChoices(variable, variable.lower())


def _default_data_dir() -> Path:
    return Path.home() / ".scope"


class Settings(BaseSettings):
    """Everything an operator can configure; see the README for the full table."""

    model_config = SettingsConfigDict(env_prefix="SCOPE_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    """``sqlite:///path`` or ``postgresql+psycopg://…``; default: SQLite in ``data_dir``."""

    bootstrap_api_key: str | None = Field(default=None, min_length=32, repr=False)

    jwt_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    """Comma-separated ``kid:secret`` (HS256, secret ≥ 32 bytes) or ``kid:es256:/path/key.pem``.

    The first key signs; every key listed verifies, so a key can be rotated by
    putting the new one first and dropping the old one after the token lifetime.
    Empty: a random HS256 key is created once and kept in ``data_dir``.
    """
    jwt_issuer: str = "scope"
    jwt_audience: str = "scope-api"
    access_token_ttl_s: int = Field(default=MAX_ACCESS_TOKEN_TTL_S, ge=30,
                                    le=MAX_ACCESS_TOKEN_TTL_S)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, ge=60)

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """Request bodies above this size get ``413 payload_too_large``."""

    # Golden-set uploads: bulk item uploads are large by nature, so that one route has
    # its own body limit; the counts are checked after decoding (422 naming the limit).
    golden_set_max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    """Body limit of ``POST /golden-sets/{name}/items`` (instead of ``max_body_bytes``)."""
    golden_set_max_items_per_request: int = Field(default=100_000, ge=1)
    golden_set_max_items: int = Field(default=1_000_000, ge=1)
    """Items one golden set may hold."""
    golden_set_max_item_bytes: int = Field(default=64 * 1024, ge=256)
    """Largest item, measured as its JSON encoding (variables, expected and metadata)."""

    run_lease_s: float = Field(default=30.0, ge=1)
    """How long a claimed run cell stays reserved without renewal; the worker renews it
    every third of this while the call is in flight. After a crash, another worker
    (or this one, restarted) resumes the cell once the lease has run out."""
    run_poll_s: float = Field(default=1.0, gt=0)
    """How often an idle run worker looks for cells (creating a run wakes it at once)."""
    run_max_cells: int = Field(default=100_000, ge=1)
    """Cells (items × versions × targets) one run may have. Creating a run inserts its
    cells in one transaction (on SQLite, other writers wait for it) and first renders
    each item with each version: 100,000 cells took 7 s on a 2-core machine in a slow
    spell, 600,000 took 28 s and 570 MB in a faster one."""
    run_max_in_flight: int = Field(default=128, ge=1)
    """Cells one server process executes at once, across all runs."""
    run_provider_concurrency: int = Field(default=64, ge=1)
    """Concurrent calls to one provider per process, at most; lowered on 429s."""
    run_provider_max_attempts: int = Field(default=8, ge=1, le=20)
    """Provider calls per run cell at most (the first and retries on 429, 5xx, connection
    errors). Higher than for a single execution: nobody is waiting on one cell, and a
    cell that fails on a transient error spoils the comparison."""

    gc_freeze: bool = True
    """Move everything built at start-up out of the garbage collector's reach
    (``gc.freeze()``). The server holds hundreds of thousands of long-lived objects
    (modules, routes, models); without it each full collection walks them all and
    stalls the event loop for ~230 ms, every provider call in flight with it. Undone
    at shutdown. Off for apps embedded in a longer-lived process (the test suite)."""

    production_cache_ttl_s: float = Field(default=300.0, ge=0)
    """Upper bound on how long a replica serves a cached production version.

    Promotions on this replica (and, on PostgreSQL, on every replica via
    LISTEN/NOTIFY) invalidate the cache at once; the TTL only bounds staleness
    if a notification is ever lost. Long by default: expiries of entries filled
    together arrive together, and each reload is a database round trip.
    """

    master_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    """Comma-separated ``kid:base64key`` (32-byte keys) that encrypt provider API keys.

    The first key encrypts, every key listed decrypts; ``scope secrets rotate``
    re-encrypts to the first (see ``security.crypto``). Empty: a random key is
    created once and kept in ``data_dir/master-keys.json``.
    """
    allow_private_provider_urls: bool = False
    provider_max_attempts: int = Field(default=4, ge=1, le=10)
    """Calls per execution at most (the first and retries; ``providers.retry``)."""
    provider_retry_base_delay_s: float = Field(default=0.5, ge=0, le=60)
    provider_retry_max_delay_s: float = Field(default=20.0, ge=0, le=300)
    """Cap on any one wait between attempts, also on a provider's ``Retry-After``."""
    otlp_endpoint: str | None = None
    """OTLP/HTTP base URL (``/v1/traces`` is appended); unset: spans are not exported."""
    otel_capture_content: bool = False
    """Put prompt and completion text on spans (``gen_ai.input/output.messages``)."""
    otel_service_name: str = "scope"
    # How spans are batched for export, under OpenTelemetry's standard names (read here
    # rather than by the SDK, so that a bad value stops the start with one clear line).
    # Scope's defaults are smaller and more frequent than OpenTelemetry's (5000 ms,
    # 512): the export thread encodes and sends a batch holding the interpreter lock,
    # which the event loop gets back only every 5 ms. With the SDK's encoder (~60-90 µs
    # per span), a 500 ms batch (~250 spans at 500 executions/s) stalled executions
    # again and again, a 100 ms one (~50) about once. Scope's encoder (~14 µs) made
    # larger batches no worse, but not better either (tests/benchmarks/README.md,
    # "Engine overhead").
    otel_bsp_schedule_delay: int = Field(default=100, gt=0,
                                         validation_alias=_otel("OTEL_BSP_SCHEDULE_DELAY"))
    """Milliseconds between span exports (sooner when a batch is full)."""
    otel_bsp_max_export_batch_size: int = Field(
        default=128, gt=0, validation_alias=_otel("OTEL_BSP_MAX_EXPORT_BATCH_SIZE"))
    """Spans per export request at most (at most the queue size)."""
    otel_bsp_max_queue_size: int = Field(default=20_000, gt=0,
                                         validation_alias=_otel("OTEL_BSP_MAX_QUEUE_SIZE"))
    """Spans waiting for export at most; beyond it spans are dropped (and counted)."""
    log_level: str = "info"

    @field_validator("otlp_endpoint", mode="before")
    @classmethod
    def _otlp_url(cls, value: object) -> object:
        # Refused at start-up: a URL without its scheme ("localhost:4318") would otherwise
        # fail every export, seen only as a once-a-minute warning about lost spans.
        if not isinstance(value, str):
            return value
        url = value.strip()
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL, e.g. "
                             "http://localhost:4318 (the collector's OTLP/HTTP port)")
        return url

    @field_validator("jwt_keys", "master_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to an SQLite file inside ``data_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'scope.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """Settings from the environment, read once per process."""
    return Settings()
