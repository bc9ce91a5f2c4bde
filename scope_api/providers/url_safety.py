"""Which provider base URLs the server may call (server-side request forgery guard).

A tenant admin chooses a provider's ``base_url``, and the server then sends
requests (with the provider key) to it. Without a check, that is a way to make
the server reach what only it can reach. The policy (API.md, start-up contract):

* only ``http`` and ``https``, with a host, without credentials, query or fragment;
* **always refused**: link-local addresses (169.254.0.0/16, fe80::/10), which
  hold every cloud's instance-metadata service, the known metadata addresses
  and names (169.254.169.254, fd00:ec2::254, 100.100.100.200,
  metadata.google.internal, …) and multicast;
* **refused unless** ``SCOPE_ALLOW_PRIVATE_PROVIDER_URLS=true``: every other
  address that is not globally routable (loopback 127/8 and ::1, private
  10/8, 172.16/12, 192.168/16, fc00::/7, carrier-grade NAT, 0.0.0.0, …), for a
  self-hosted model or an internal proxy;
* the host is resolved (``getaddrinfo``, in a thread, with a timeout) and
  **every** address it resolves to must pass, IPv4-in-IPv6 forms (mapped,
  6to4, Teredo, NAT64) judged by the IPv4 address inside. A host that does not
  resolve is refused too.

DNS rebinding: a check when the URL is saved proves nothing about what the
name resolves to later, when the call is made (a hostile DNS server can answer
a public address now and 169.254.169.254 then). The call path therefore
re-checks with :func:`resolve_checked` right before the call (a clear ``422``),
and the provider HTTP client judges, with :func:`judge`, the addresses it
actually connects to (``engine.resolver``), so an answer that changes between
the two is caught too. URLs Scope itself chooses (the providers' official
endpoints, the in-process simulator) are not re-checked before the call; the
client still judges every host name it connects to, except the proxies the
operator configured.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

RESOLVE_TIMEOUT_S = 5.0
MAX_URL_LENGTH = 2048

METADATA_HOSTS = frozenset({
    "metadata.google.internal", "metadata.goog", "metadata", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.internal", "metadata.platformequinix.com",
})
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, OCI, DigitalOcean, OpenStack…
    "169.254.170.2",  # AWS ECS task metadata
    "169.254.169.123",  # AWS time sync
    "fd00:ec2::254",  # AWS IMDS over IPv6
    "fd00:ec2::23",
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud (legacy)
))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UnsafeUrl(ValueError):
    """A base URL the policy refuses. ``reason`` is a stable code, ``message`` says why.

    Reasons: ``scheme``, ``malformed``, ``metadata``, ``link_local``, ``reserved``,
    ``private``, ``dns``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, IPv4-compatible, 6to4, Teredo
    client, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if int(address) >> 32 == 0 and int(address) > 1:
        # ::a.b.c.d, IPv4-compatible (deprecated by RFC 4291, still parsed); :: and ::1
        # are the unspecified and loopback addresses, classified as themselves.
        return ipaddress.IPv4Address(int(address))
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@functools.lru_cache(maxsize=4096)
def classify(address: IPAddress) -> str:
    """``public``, ``private`` (allowed with the flag), or a reason it is always refused."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        verdict = classify(inner)
        if verdict != "public":
            return verdict
    if address in METADATA_ADDRESSES:
        return "metadata"
    if address.is_link_local:
        return "link_local"
    if address.is_multicast:
        return "reserved"
    if address.is_loopback or address.is_unspecified or not address.is_global:
        return "private"
    return "public"


_EXPLAIN = {
    "metadata": "a cloud metadata address; always refused",
    "link_local": "a link-local address (169.254.0.0/16, fe80::/10); always refused",
    "reserved": "a multicast address; always refused",
    "private": "a loopback or private address; allowed only when "
               "SCOPE_ALLOW_PRIVATE_PROVIDER_URLS=true",
}


@dataclass(frozen=True)
class Target:
    """A parsed base URL: where a request would go."""

    url: str
    host: str
    port: int


def parse(url: str) -> Target:
    """Check the URL's shape (no network); ``UnsafeUrl`` if it is not acceptable."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeUrl("malformed", f"base_url is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise UnsafeUrl("malformed", "base_url must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl("malformed", "base_url is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeUrl("scheme", "base_url must start with http:// or https://")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise UnsafeUrl("malformed", "base_url has no host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("malformed", "base_url must not carry credentials (user:pass@); "
                                     "use the provider's api_key")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise UnsafeUrl("malformed", "base_url must not have a query string or fragment")
    if host in METADATA_HOSTS:
        raise UnsafeUrl("metadata", f"base_url host '{host}' is {_EXPLAIN['metadata']}")
    default_port = 443 if parts.scheme.lower() == "https" else 80
    return Target(url=url, host=host, port=port or default_port)


def _resolve(target: Target) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeUrl("dns", f"base_url host '{target.host}' could not be resolved") from None
    addresses: list[IPAddress] = []
    for info in infos:
        text = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise UnsafeUrl("dns", f"base_url host '{target.host}' could not be resolved")
    return addresses


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def _parsed(url: str) -> tuple[Target, IPAddress | None]:
    # Pure, and asked again before every provider call: cached (a refusal raises, and
    # is not).
    target = parse(url)
    return target, _literal(target.host)


def judge(host: str, addresses: Sequence[IPAddress], *, allow_private: bool) -> None:
    """``UnsafeUrl`` unless every address ``host`` resolves to may be called."""
    for address in addresses:
        verdict = classify(address)
        if verdict == "public" or (verdict == "private" and allow_private):
            continue
        shown = "" if host == str(address) else f" resolves to {address}, which"
        raise UnsafeUrl(verdict, f"base_url host '{host}'{shown} is {_EXPLAIN[verdict]}")


def resolve_checked_sync(url: str, *, allow_private: bool) -> list[IPAddress]:
    """Check ``url`` and every address its host resolves to; return the addresses."""
    target = parse(url)
    addresses = _resolve(target)
    judge(target.host, addresses, allow_private=allow_private)
    return addresses


async def resolve_checked(url: str, *, allow_private: bool,
                          timeout_s: float = RESOLVE_TIMEOUT_S) -> list[IPAddress]:
    """:func:`resolve_checked_sync` without blocking the event loop; bounded in time.

    The call path re-checks with this right before each provider call (see the
    module docstring on DNS rebinding) and can connect to the returned addresses.
    """
    target, literal = _parsed(url)  # cheap refusals first, with no thread and no DNS
    if literal is not None:  # an IP address resolves to itself: no thread, no DNS
        judge(target.host, [literal], allow_private=allow_private)
        return [literal]
    try:
        addresses = await asyncio.wait_for(asyncio.to_thread(_resolve, target), timeout_s)
    except TimeoutError:
        raise UnsafeUrl("dns", f"base_url host '{target.host}' did not resolve within "
                               f"{timeout_s:g} s") from None
    judge(target.host, addresses, allow_private=allow_private)
    return addresses
