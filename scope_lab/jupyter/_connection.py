"""Where the panel's proxy sends requests, and the authenticated client it uses.

One ``Connection`` per Jupyter server: the URL and key come from ``SCOPE_BASE_URL`` and
``SCOPE_API_KEY`` at start and may be replaced from the panel's settings form (kept in
memory only). The key is exchanged for short-lived tokens by the SDK's ``ApiKeyAuth``.
"""

from __future__ import annotations

import os

import httpx

from scope_lab._auth import ApiKeyAuth
from scope_lab.errors import ConfigurationError

# The panel waits on these calls: fail fast rather than hang the sidebar.
PROXY_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def normalize_base_url(url: str) -> str:
    """The server's origin, accepting the API root too; refuse anything but http(s)."""
    url = url.strip().rstrip("/").removesuffix("/api/v1")
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"the Scope URL must start with http:// or https://, got {url!r}")
    return url


class Connection:
    """The Scope server and credentials the proxy uses; ``repr`` never shows the key."""

    def __init__(self, base_url: str | None, api_key: str | None) -> None:
        self.base_url: str | None = None
        self._api_key: str | None = None
        self._client: httpx.AsyncClient | None = None
        self.configure(base_url, api_key)

    @classmethod
    def from_env(cls) -> Connection:
        """Settings from ``SCOPE_BASE_URL`` and ``SCOPE_API_KEY`` (either may be missing)."""
        url = os.environ.get("SCOPE_BASE_URL") or None
        try:
            return cls(url, os.environ.get("SCOPE_API_KEY") or None)
        except ConfigurationError:
            # A malformed URL in the environment: start unconfigured, the form can fix it.
            return cls(None, os.environ.get("SCOPE_API_KEY") or None)

    def __repr__(self) -> str:
        return f"Connection(base_url={self.base_url!r}, has_api_key={self.has_api_key})"

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key)

    @property
    def configured(self) -> bool:
        return self.base_url is not None and self.has_api_key

    def configure(self, base_url: str | None,
                  api_key: str | None) -> httpx.AsyncClient | None:
        """Use a new URL and/or key (``None`` keeps the current one); tokens start afresh.

        Returns the previous client, for the caller to close once its requests are done.
        """
        if base_url is not None:
            self.base_url = normalize_base_url(base_url)
        if api_key:
            self._api_key = api_key
        # The old client's tokens belong to the old key or server: never reuse it.
        previous, self._client = self._client, None
        return previous

    def client(self) -> httpx.AsyncClient:
        """The authenticated client for the current settings (made on first use)."""
        if not self.configured:
            raise ConfigurationError("Scope is not configured")
        if self._client is None:
            api_url = f"{self.base_url}/api/v1"
            self._client = httpx.AsyncClient(auth=ApiKeyAuth(str(self._api_key), api_url),
                                             timeout=PROXY_TIMEOUT)
        return self._client

    def public(self) -> dict[str, object]:
        """What the browser may know: the URL and whether a key is set, never the key."""
        return {"base_url": self.base_url, "has_api_key": self.has_api_key}
