"""The provider-neutral request and result every adapter speaks.

An adapter turns a :class:`CompletionRequest` into one provider's wire format,
sends it over the shared ``httpx.AsyncClient``, and turns the answer (or the
failure) into a :class:`CompletionResult` (or a :class:`ProviderError`).
Secrets travel only in :class:`ProviderConfig` and never into results, errors
or ``CompletionResult.request``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

import httpx

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True)
class Parameters:
    """Common generation parameters; ``None`` means "provider default"."""

    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    response_format: Literal["text", "json"] | None = None


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    messages: tuple[Message, ...]
    parameters: Parameters = field(default_factory=Parameters)

    @classmethod
    def from_text(cls, model: str, text: str, parameters: Parameters | None = None
                  ) -> CompletionRequest:
        """A text prompt is sent as one user message."""
        return cls(model, (Message("user", text),), parameters or Parameters())


@dataclass(frozen=True)
class Usage:
    input_tokens: int | None
    output_tokens: int | None


@dataclass(frozen=True)
class CompletionResult:
    output: str
    usage: Usage
    response_model: str | None
    finish_reason: str | None
    #: The JSON body that was sent (no headers, so no credentials), for the record.
    request: dict[str, Any]


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach one configured provider. ``api_key`` is plaintext in memory only."""

    kind: str
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    options: dict[str, Any] = field(default_factory=dict)  # e.g. azure api_version


class ProviderError(Exception):
    """The provider failed or answered something unusable (``502 provider_error``).

    ``message`` is safe to show: it carries the provider's own message, never a
    credential. ``status`` is the provider's HTTP status, if there was one.
    """

    code = "provider_error"
    http_status = 502

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after_s: float | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after_s = retry_after_s
        self.retryable = retryable


class ProviderTimeout(ProviderError):
    """The provider did not answer in time (``504 provider_timeout``)."""

    code = "provider_timeout"
    http_status = 504


class Adapter(Protocol):
    """One provider wire format. Capabilities are class attributes."""

    kind: ClassVar[str]
    supports_json_mode: ClassVar[bool]

    async def complete(self, request: CompletionRequest, *, config: ProviderConfig,
                       client: httpx.AsyncClient) -> CompletionResult:
        """Send one request (no retries here; see ``providers.retry``)."""
        ...
