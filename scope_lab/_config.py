"""Where the client finds Scope and its credentials, and its tunable defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx
from httpx_retries import Retry

from scope_lab.errors import ConfigurationError

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Executions wait for an LLM (and the server's own provider retries): give them longer.
EXECUTION_TIMEOUT = httpx.Timeout(300.0, connect=5.0)
_RETRY_STATUSES = (429, 500, 502, 503, 504)


def default_retry() -> Retry:
    """Retries for idempotent requests: 3 more attempts, exponential backoff, full jitter.

    Connection errors, 429 and 5xx are retried; ``Retry-After`` is honoured up to 30 s.
    """
    return Retry(total=3, backoff_factor=0.5, max_backoff_wait=30.0, backoff_jitter=1.0,
                 status_forcelist=_RETRY_STATUSES,
                 retry_on_exceptions=(httpx.TransportError,))


@dataclass(frozen=True, slots=True)
class Settings:
    base_url: str
    api_key: str

    @property
    def api_url(self) -> str:
        """The versioned API root, e.g. ``http://localhost:8000/api/v1``."""
        return f"{self.base_url}/api/v1"


def resolve(base_url: str | None, api_key: str | None) -> Settings:
    """Arguments first, then ``SCOPE_BASE_URL`` / ``SCOPE_API_KEY``; say how to fix a gap."""
    url = base_url or os.environ.get("SCOPE_BASE_URL")
    key = api_key or os.environ.get("SCOPE_API_KEY")
    if not url:
        raise ConfigurationError(
            "no Scope server given: pass base_url='http://host:8000' or set SCOPE_BASE_URL")
    if not key:
        raise ConfigurationError(
            "no API key given: pass api_key=... or set SCOPE_API_KEY "
            "(create one with `scope keys create --tenant T --role R`)")
    url = url.rstrip("/")
    # Accept the API root too (what the server prints), not only the server's origin.
    url = url.removesuffix("/api/v1")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"base_url must start with http:// or https://, got {url!r}")
    return Settings(base_url=url, api_key=key)
