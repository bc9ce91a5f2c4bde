"""The engine's two database moments, each one short transaction in the thread pool.

1. :func:`load_target`: before the call, read the prompt version, the provider
   (decrypting its key) and the model's price. Read-only; committed before the
   provider is called, so no transaction (on SQLite: no lock) is ever held
   while waiting for a provider.
2. :func:`save_rows`: after the call, insert the execution and its span record
   together, succeeded or failed (through ``recorder``, which commits the records
   of concurrent executions together).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError

from scope_api import templating
from scope_api.context import AppContext
from scope_api.db import Writer
from scope_api.errors import NotFound
from scope_api.models import Execution, ExecutionSpan
from scope_api.models.base import utcnow
from scope_api.nul import replace_nul
from scope_api.providers import options as provider_options
from scope_api.providers import url_safety
from scope_api.providers.catalog import Price, load_catalog
from scope_api.providers.types import CompletionResult, ProviderConfig, ProviderError
from scope_api.services import prompts, providers, versions
from scope_api.telemetry import SpanRecord

EXECUTIONS = cast(Table, Execution.__table__)
SPANS = cast(Table, ExecutionSpan.__table__)


@dataclass(frozen=True)
class Target:
    """What an execution needs from the database, read before the call."""

    prompt_id: str
    prompt: str
    version: int
    content: templating.Content
    provider_id: str
    provider: str
    kind: str
    #: The provider's own ``base_url`` (``None``: Scope chooses the URL).
    custom_base_url: str | None
    enabled_models: list[str]
    config: ProviderConfig
    price: Price | None
    #: Why the provider's stored options cannot be used (``providers.options``), if so.
    options_problem: str | None = None

    async def recheck_url(self, *, allow_private: bool) -> None:
        """Check a user-chosen ``base_url`` against the URL policy again, right before a
        call: DNS (or the policy) may have changed since it was saved. Raises
        ``url_safety.UnsafeUrl`` whose message names the provider. The URLs Scope
        chooses (the simulator's, the providers' own) are not checked."""
        if self.kind == "simulator" or self.custom_base_url is None:
            return
        try:
            await url_safety.resolve_checked(self.custom_base_url,
                                             allow_private=allow_private)
        except url_safety.UnsafeUrl as exc:
            raise url_safety.UnsafeUrl(exc.reason,
                                       f"provider '{self.provider}': {exc.message}") from None


def load_target(ctx: AppContext, *, tenant_id: str, prompt: str, version: int | None,
                provider: str, model: str) -> Target:
    """Prompt version (by number, or the published one if ``version`` is None), provider,
    price. ``404`` for a missing prompt, version or provider."""
    with ctx.database.unit_of_work(write=False) as session:
        prompt_row = prompts.get(session, tenant_id=tenant_id, name=prompt)
        if version is None:
            # Not versions.production(): it would read the prompt (and its tags) again.
            published = versions.published(session, prompt=prompt_row)
            if published is None:
                raise NotFound(f"prompt '{prompt}' has no published version")
            version_row = published
        else:
            version_row = versions.get(session, prompt=prompt_row, number=version)
        provider_row = providers.get(session, tenant_id=tenant_id, name=provider)
        price = providers.price_for(session, provider=provider_row, model=model,
                                    catalog=load_catalog())
        config = providers.provider_config(provider_row, ctx.secrets,
                                           simulator_url=ctx.simulator_url)
        return Target(prompt_id=prompt_row.id, prompt=prompt_row.name,
                      version=version_row.number, content=version_row.content,
                      provider_id=provider_row.id, provider=provider_row.name,
                      kind=provider_row.kind, custom_base_url=provider_row.base_url,
                      enabled_models=list(provider_row.enabled_models), config=config,
                      price=price,
                      options_problem=provider_options.problem(provider_row.options))


@dataclass(frozen=True)
class Outcome:
    """What happened, for the record."""

    status: str  # succeeded | failed
    rendered: dict[str, Any]
    output: str | None
    error: dict[str, str] | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float
    cost_usd: Decimal | None
    warnings: list[str]


def outcome(result: CompletionResult | None, failure: ProviderError | None,
            rendered: dict[str, Any], latency_ms: float, cost: Decimal | None, *,
            model: str, priced: bool) -> Outcome:
    """The outcome of a call (``result`` or ``failure``), with the warnings every
    execution record carries, whether ``POST /executions`` or a run made it. It keeps
    ``rendered`` itself, not a copy: callers pass a dict of their own."""
    warnings = [] if priced else [f"model '{model}' is not in the catalog: cost unknown"]
    if result is None:
        assert failure is not None
        return Outcome(status="failed", rendered=rendered, output=None,
                       error={"code": failure.code, "message": failure.message},
                       input_tokens=None, output_tokens=None, latency_ms=latency_ms,
                       cost_usd=None, warnings=warnings)
    usage = result.usage
    if priced and (usage.input_tokens is None or usage.output_tokens is None):
        warnings.append("the provider reported no token usage: cost unknown")
    output, replaced = replace_nul(result.output)
    if replaced:
        warnings.append(f"the output held {replaced} NUL character{'s' * (replaced > 1)} "
                        "(U+0000), which cannot be stored: each was replaced with U+FFFD")
    return Outcome(status="succeeded", rendered=rendered, output=output,
                   error=None, input_tokens=usage.input_tokens,
                   output_tokens=usage.output_tokens, latency_ms=latency_ms,
                   cost_usd=cost, warnings=warnings)


@dataclass(frozen=True, slots=True)
class Recorded:
    """An execution as just recorded, for the response: the inserted row's fields.

    Not an ``Execution``: building an ORM instance (instrumented attributes) cost as
    much as inserting the row."""

    id: str
    prompt: str
    version: int
    provider: str
    model: str
    status: str
    rendered: dict[str, Any]
    output: str | None
    error: dict[str, Any] | None
    input_tokens: int | None
    output_tokens: int | None
    latency_ms: float
    cost_usd: str | None
    warnings: list[str]
    trace_id: str
    span_id: str
    created_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> Recorded:
        return cls(**{name: row[name] for name in cls.__slots__})


def rows(*, execution_id: str, tenant_id: str, target: Target, model: str,
         outcome: Outcome, span: SpanRecord, created_by: str | None
         ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``executions`` and ``execution_spans`` rows recording one call."""
    row: dict[str, Any] = {
        "id": execution_id, "tenant_id": tenant_id, "prompt": target.prompt,
        "prompt_id": target.prompt_id, "version": target.version,
        "provider": target.provider, "provider_id": target.provider_id, "model": model,
        "status": outcome.status, "rendered": outcome.rendered, "output": outcome.output,
        "error": outcome.error, "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens, "latency_ms": outcome.latency_ms,
        "cost_usd": None if outcome.cost_usd is None else str(outcome.cost_usd),
        "warnings": list(outcome.warnings), "trace_id": span.trace_id,
        "span_id": span.span_id, "created_by": created_by, "created_at": utcnow()}
    span_row = {
        "trace_id": span.trace_id, "span_id": span.span_id, "tenant_id": tenant_id,
        "execution_id": execution_id, "name": span.name[:256], "start": span.start,
        "duration_ms": span.duration_ms, "attributes": dict(span.attributes),
        "status": span.status, "prompt": target.prompt, "model": model}
    return row, span_row


def save_rows(writer: Writer, batch: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """Insert executions with their span records, all in one short write transaction."""
    try:
        _insert(writer, batch)
    except IntegrityError:
        for pair in batch:  # find the rows that failed
            try:
                _insert(writer, [pair])
            except IntegrityError:
                # The prompt or provider was deleted during the call: keep the record
                # (by name) without the links, as deleting them later would have done.
                pair[0]["prompt_id"] = pair[0]["provider_id"] = None
                _insert(writer, [pair])


def _insert(writer: Writer, batch: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    # Not the ORM's unit of work nor Core statements: each cost about as much as the
    # database's own work (see scope_api.bulk_insert). The executions first: span rows
    # reference them.
    writer.insert_many([(EXECUTIONS, [row for row, _ in batch]),
                        (SPANS, [span_row for _, span_row in batch])])
