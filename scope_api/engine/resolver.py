"""DNS answers for provider calls, held to the base-URL policy when the connection is made.

``url_safety`` checks a ``base_url`` when it is saved and again right before each call,
but aiohttp then resolved the host once more to connect: a name that answered a public
address for the check could answer 169.254.169.254 a moment later (DNS rebinding), and
the call, with the provider key, would reach the cloud metadata service. The provider
session's connector resolves through :class:`PolicyResolver`, which judges the very
addresses the connection will use by the same policy, and refuses with
``url_safety.UnsafeUrl`` (the adapters report it as the call's failure).

IP-address hosts never reach a resolver: aiohttp connects to them as written, and the
check before the call judged exactly that address. The proxies the operator configured
(``HTTPS_PROXY`` …) are not judged: they are not a tenant's choice (behind one, it is
the proxy that resolves the provider's host).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from scope_api.providers import url_safety


class PolicyResolver(AbstractResolver):
    """aiohttp's resolver, whose answers must pass ``url_safety.judge``.

    ``allow_private`` is asked on every resolution (the setting it reads can change
    while the server runs, in tests); ``exempt`` names the hosts left unjudged.
    """

    def __init__(self, *, allow_private: Callable[[], bool],
                 exempt: Callable[[str], bool] = lambda host: False,
                 inner: AbstractResolver | None = None) -> None:
        self._allow_private = allow_private
        self._exempt = exempt
        self._inner = DefaultResolver() if inner is None else inner

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        answers = await self._inner.resolve(host, port, family)
        if not self._exempt(host):
            addresses = [ipaddress.ip_address(answer["host"].split("%", 1)[0])
                         for answer in answers]
            url_safety.judge(host, addresses, allow_private=self._allow_private())
        return answers

    async def close(self) -> None:
        await self._inner.close()
