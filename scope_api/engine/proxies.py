"""The outbound proxy a provider call goes through, from the usual environment variables.

``HTTPS_PROXY``, ``HTTP_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` (either case), as httpx
and curl read them: behind a corporate egress proxy, provider calls must use it. They
are read once, when the provider client is made. Loopback hosts are never proxied (as
in Go's ``net/http``): the in-process simulator, or a model server on the same machine,
is not behind the proxy.

aiohttp's own ``trust_env`` is not used: it looks both the proxy and ``~/.netrc`` up in
a thread on every request, and a ``.netrc`` entry for a provider's host would clash
with the adapter's ``Authorization`` header.
"""

from __future__ import annotations

import base64
import ipaddress
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field

from yarl import URL


@dataclass(frozen=True)
class Proxy:
    """Where to send a request instead, and the credentials the proxy asks for."""

    url: URL  #: without credentials
    #: ``Proxy-Authorization``, if the URL had credentials (kept out of reprs and logs)
    headers: Mapping[str, str] | None = field(repr=False)


class Proxies:
    """The proxies of the environment (or of ``proxies``, urllib's ``getproxies()`` shape:
    ``{"https": url, "http": url, "all": url, "no": "host,.domain"}``)."""

    def __init__(self, proxies: Mapping[str, str] | None = None) -> None:
        found = urllib.request.getproxies_environment() if proxies is None else proxies
        self._by_scheme = {scheme: _proxy(url) for scheme, url in found.items()
                           if scheme in ("http", "https", "all") and url}
        self._no_proxy = _no_proxy_entries(found.get("no", ""))

    def __bool__(self) -> bool:
        return bool(self._by_scheme)

    def is_proxy_host(self, host: str) -> bool:
        """Whether ``host`` is one of the proxies' own hosts."""
        return any(proxy.url.host == host for proxy in self._by_scheme.values())

    def for_url(self, scheme: str, host: str) -> Proxy | None:
        """The proxy for a request to ``host`` over ``scheme``; ``None``: go direct."""
        proxy = self._by_scheme.get(scheme) or self._by_scheme.get("all")
        if proxy is None or _loopback(host) or self._bypassed(host.lower()):
            return None
        return proxy

    def _bypassed(self, host: str) -> bool:
        # curl's NO_PROXY rules: "*" for every host, else a host and its subdomains.
        return any(entry == "*" or host == entry or host.endswith(f".{entry}")
                   for entry in self._no_proxy)


def _proxy(text: str) -> Proxy:
    url = URL(text if "://" in text else f"http://{text}")
    if url.user is None:
        return Proxy(url, None)
    # Basic credentials (RFC 7617), UTF-8 encoded.
    token = base64.b64encode(f"{url.user}:{url.password or ''}".encode()).decode()
    return Proxy(url.with_user(None), {"Proxy-Authorization": f"Basic {token}"})


def _no_proxy_entries(value: str) -> list[str]:
    """``NO_PROXY``'s hosts and domains: lower-cased, bare (no leading dot, no port, no
    brackets), as ``httpx.URL.host`` gives hosts."""
    entries = []
    for raw in value.split(","):
        entry = raw.strip().lower().lstrip(".")
        if entry.startswith("["):  # [::1] or [::1]:8080
            entry = entry[1:].split("]", 1)[0]
        elif entry.count(":") == 1:  # host:port (a bare IPv6 address has more)
            entry = entry.split(":", 1)[0]
        if entry:
            entries.append(entry)
    return entries


def _loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
