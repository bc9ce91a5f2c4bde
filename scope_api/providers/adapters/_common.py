"""What every wire-format adapter shares: sending, reading, and error mapping.

:class:`HttpAdapter` runs the one flow all adapters follow: build the body, POST
it with the caller's ``httpx.AsyncClient`` (never one of our own), read at most
:data:`MAX_RESPONSE_BYTES`, and turn the answer into a :class:`CompletionResult`.
A subclass supplies only what differs: URL, auth headers, body, the parse of a
success body and the message inside an error body.

Failures map to the provider-neutral errors of ``providers.types``:

=============================================  ===============================  =========
what happened                                  raised                           retryable
=============================================  ===============================  =========
HTTP 429, 500, 502, 503, 504, 529              ``ProviderError`` (+ status,     yes
                                               ``Retry-After`` as seconds)
any other non-2xx                              ``ProviderError`` (+ status)     no
could not connect / connection dropped         ``ProviderError``                yes
connect timeout                                ``ProviderTimeout``              yes
read/write/pool timeout                        ``ProviderTimeout``              no
2xx that is not JSON, or lacks a field we need ``ProviderError`` "unreadable"   no
body over the size cap                         ``ProviderError``                no
no API key where the provider needs one        ``ProviderError`` (nothing sent) no
=============================================  ===============================  =========

A read timeout is not retried: the provider may still be working (and billing)
on the first request, and a retry multiplies the wait a caller already found too
long. A connect timeout never reached the provider, so it is safe to retry.

Threat model for secrets: the API key lives only in the request headers built
here. Headers never appear in an error message or in ``CompletionResult.request``
(the JSON body only), and every message taken from a provider's answer is passed
through :func:`redact` because a misbehaving proxy may echo the key back.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import re
import time
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, NoReturn

import httpx

from scope_api import __version__
from scope_api.providers import url_safety
from scope_api.providers.types import (
    CompletionRequest,
    CompletionResult,
    ProviderConfig,
    ProviderError,
    ProviderTimeout,
    Usage,
)

MAX_RESPONSE_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_S = 60.0
USER_AGENT = f"scope/{__version__}"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
_MAX_MESSAGE_CHARS = 300


# A JSON escape of a UTF-16 surrogate (``\ud83d``): half of a character unless its pair
# follows. A lone one is what a server that cut a string in the middle of an emoji sends.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def loads(raw: bytes) -> Any:
    """A provider's JSON body, with every lone UTF-16 surrogate replaced by U+FFFD, as an
    invalid byte is when text is decoded: Python's parser keeps them, and a string
    holding one can be neither stored, nor answered, nor sent as a span."""
    data = json.loads(raw)
    return _whole_characters(data) if _SURROGATE_ESCAPE.search(raw) else data


def _whole_characters(value: Any) -> Any:
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_whole_characters(item) for item in value]
    if isinstance(value, dict):
        return {_whole_characters(key): _whole_characters(item)
                for key, item in value.items()}
    return value


class Unreadable(Exception):
    """A 2xx body lacked what the adapter needs (raised by ``parse``, mapped here)."""


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` masked."""
    if secret and len(secret) >= 4:
        return text.replace(secret, "[redacted]")
    return text


def short(text: str, limit: int = _MAX_MESSAGE_CHARS) -> str:
    """Whitespace collapsed and cut to ``limit`` characters, for error messages."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def parse_retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _finite_nonnegative(millis)
        if seconds is not None:
            return seconds / 1000
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite_nonnegative(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; a naive parse means "-0000"
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _finite_nonnegative(value: str) -> float | None:
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def as_int(value: object) -> int | None:
    """A token count, or ``None`` when the provider left it out or sent something else
    (a negative count too: it cannot be priced)."""
    return value if isinstance(value, int) and not isinstance(value, bool) \
        and value >= 0 else None


def need(value: object, kind: type, what: str) -> Any:
    """``value`` if it is a ``kind``; else the body is unreadable."""
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise Unreadable(what)
    return value


@functools.lru_cache(maxsize=1024)
def _url(url: str) -> httpx.URL:
    # A provider's few URLs are parsed once, not on every call (``httpx.URL`` is
    # immutable, and parsing one was ~3% of an execution's CPU); an invalid one raises
    # ``httpx.InvalidURL`` each time.
    return httpx.URL(url)


@functools.lru_cache(maxsize=1024)
def _host(url: str) -> str:
    # The Host header as httpx would set it (the default port left out).
    return _url(url).netloc.decode("ascii")


# The options are checked before any call (``providers.options``, when saved and
# when loaded for a call): here they are only read.

def timeout_s(config: ProviderConfig) -> float:
    """The per-request timeout: ``options["timeout_s"]`` or 60 s."""
    return float(config.options.get("timeout_s") or DEFAULT_TIMEOUT_S)


def extra_headers(config: ProviderConfig) -> dict[str, str]:
    """``options["headers"]``: extra request headers (e.g. a proxy's, or simulator faults)."""
    return dict(config.options.get("headers") or {})


class HttpAdapter:
    """The shared request/response flow; subclasses describe one wire format."""

    kind: ClassVar[str]
    #: Human name used in messages ("OpenAI answered HTTP 429: …").
    display_name: ClassVar[str]
    supports_json_mode: ClassVar[bool] = False
    #: Used when the provider was configured without a base URL ("" = one is required).
    default_base_url: ClassVar[str] = ""

    def __init__(self, *, require_key: bool = True, stand_in_key: str | None = None) -> None:
        self.require_key = require_key
        # The simulator kind has no key, but its server checks for one like the real
        # provider does: its adapters send this non-secret stand-in instead.
        self.stand_in_key = stand_in_key

    # What a subclass supplies -------------------------------------------------

    def url(self, base_url: str, request: CompletionRequest, config: ProviderConfig) -> str:
        raise NotImplementedError

    def auth_headers(self, api_key: str) -> dict[str, str]:
        raise NotImplementedError

    def body(self, request: CompletionRequest, config: ProviderConfig) -> dict[str, Any]:
        raise NotImplementedError

    def parse(self, data: Any) -> tuple[str, Usage, str | None, str | None]:
        """``(output, usage, response_model, finish_reason)``; raise :class:`Unreadable`."""
        raise NotImplementedError

    def error_details(self, data: Any) -> tuple[str | None, float | None]:
        """The provider's own message in an error body, and any retry delay it names."""
        return None, None

    # The flow -------------------------------------------------------------------

    def base_url(self, config: ProviderConfig) -> str:
        base = (config.base_url or self.default_base_url).rstrip("/")
        if not base:
            raise ProviderError(f"{self.display_name} needs a base_url: set it on the provider")
        return base

    async def complete(self, request: CompletionRequest, *, config: ProviderConfig,
                       client: httpx.AsyncClient) -> CompletionResult:
        """Send ``request`` once and return the parsed answer (no retries here)."""
        body = self.body(request, config)
        # One plain dict, lower-cased so later entries replace earlier ones whatever
        # their case: httpx.Headers' update and the client's header merge are quadratic
        # in the header count, and were a tenth of a run cell's event-loop time.
        headers = {name.lower(): value for name, value in extra_headers(config).items()}
        api_key = config.api_key or self.stand_in_key
        if api_key:
            headers.update((name.lower(), value)
                           for name, value in self.auth_headers(api_key).items())
        elif self.require_key:
            raise ProviderError(f"{self.display_name} needs an API key: "
                                "set api_key on the provider")
        headers["content-type"] = "application/json"
        headers["accept"] = "application/json"
        headers.setdefault("user-agent", USER_AGENT)
        # What httpx decodes itself (the transport leaves bodies as sent), whatever
        # optional codecs aiohttp would otherwise advertise.
        headers.setdefault("accept-encoding", "gzip, deflate")
        url = self.url(self.base_url(config), request, config)
        data = await self._post(client, url, body, headers, config)
        try:
            output, usage, response_model, finish_reason = self.parse(data)
        except (Unreadable, KeyError, IndexError, TypeError, AttributeError):
            self._unreadable()
        return CompletionResult(output=output, usage=usage, response_model=response_model,
                                finish_reason=finish_reason, request=body)

    async def _post(self, client: httpx.AsyncClient, url: str, body: dict[str, Any],
                    headers: dict[str, str], config: ProviderConfig) -> Any:
        seconds = timeout_s(config)
        name = self.display_name
        try:
            # Built here rather than by client.build_request: the request carries every
            # header it needs, so the client's defaults (and their merge) are skipped. The
            # body goes as a stream with its length set here: given as ``content``, httpx
            # looks up the content type and sets the length and host itself, re-reading
            # every header for its encoding first, which doubled the request's cost.
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                                 allow_nan=False).encode()
            headers.setdefault("host", _host(url))
            headers["content-length"] = str(len(content))
            http_request = httpx.Request(
                "POST", _url(url), headers=headers, stream=httpx.ByteStream(content),
                extensions={"timeout": httpx.Timeout(seconds).as_dict()})
        except httpx.InvalidURL:
            raise ProviderError(f"{name}: the provider's base_url is not a valid URL") from None
        try:
            response = await client.send(http_request, stream=True)
            try:
                raw = await self._read_capped(response)
            finally:
                await response.aclose()
        except httpx.ConnectTimeout:
            raise ProviderTimeout(f"{name} could not be reached within {seconds:g} s",
                                  retryable=True) from None
        except httpx.TimeoutException:
            raise ProviderTimeout(f"{name} did not answer within {seconds:g} s") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise ProviderError(f"could not reach {name} ({type(exc).__name__})",
                                retryable=True) from None
        except httpx.TransportError as exc:
            raise ProviderError(f"could not reach {name} ({type(exc).__name__})") from None
        except url_safety.UnsafeUrl as exc:  # the host's address, judged as it connects
            raise ProviderError(f"{name}: {exc.message}") from None

        if not 200 <= response.status_code < 300:
            self._raise_for_status(response, raw, config)
        try:
            return loads(raw)
        except (ValueError, RecursionError):
            self._unreadable()

    async def _read_capped(self, response: httpx.Response) -> bytes:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
            self._too_large(response.status_code)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                self._too_large(response.status_code)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, status: int) -> NoReturn:
        raise ProviderError(f"{self.display_name} answered a response larger than "
                            f"{MAX_RESPONSE_BYTES // (1024 * 1024)} MB", status=status)

    def _unreadable(self) -> NoReturn:
        raise ProviderError(f"{self.display_name} answered an unreadable response")

    def _raise_for_status(self, response: httpx.Response, raw: bytes,
                          config: ProviderConfig) -> NoReturn:
        status = response.status_code
        message: str | None = None
        hinted_delay: float | None = None
        with contextlib.suppress(ValueError, RecursionError, KeyError, IndexError, TypeError,
                                 AttributeError):
            message, hinted_delay = self.error_details(loads(raw))
        if not isinstance(message, str) or not message.strip():
            message = raw.decode("utf-8", "replace").strip() or response.reason_phrase
        retry_after = parse_retry_after(response.headers)
        raise ProviderError(
            f"{self.display_name} answered HTTP {status}: {short(redact(message, config.api_key))}",
            status=status,
            retry_after_s=retry_after if retry_after is not None else hinted_delay,
            retryable=status in RETRYABLE_STATUSES)


def openai_style_error(data: Any) -> tuple[str | None, float | None]:
    """``{"error": {"message": …}}``: OpenAI, Azure OpenAI and most compatible servers.

    Also the variants compatible servers use: ``{"error": "…"}`` (proxies, Ollama)
    and ``{"object": "error", "message": "…"}`` (vLLM).
    """
    if not isinstance(data, dict):
        return None, None
    error = data.get("error")
    if isinstance(error, dict):
        return error.get("message"), None
    if isinstance(error, str):
        return error, None
    return data.get("message"), None
