"""``POST /executions``: resolve, render, call, measure, record.

The steps, and what each failure is:

1. Read the prompt version (``version`` or ``label: "production"``), the
   provider (its key decrypted) and the model's price, in one short read
   transaction (``record.load_target``), or take them from the cache that any
   registry change clears (``target_cache``): ``404`` for a missing prompt,
   version or provider.
2. Render the content with the variables: ``422`` naming every missing
   variable. Check the model against the provider's ``enabled_models`` and the
   simulator's model families, and JSON mode against the adapter: ``422``.
   A user-chosen ``base_url`` is re-checked against the URL policy right
   before the call (``url_safety``; DNS may have changed since it was saved):
   ``422``. Up to here nothing is recorded and the provider is not called.
3. Call the adapter with retries (``providers.retry``; attempts and waits from
   the ``SCOPE_PROVIDER_*`` settings) inside the execution's span, timing the
   call on a monotonic clock (``latency_ms``, retries included).
4. Price the call (tenant override, else catalog; exact decimals) and record the
   execution and its span in one short write transaction, shared with the executions
   that finished meanwhile (``recorder``); the answer waits for the commit.

A provider failure is recorded too (``status: "failed"``, ``error: {code,
message}`` with the provider's own message) and then answered ``502
provider_error`` or ``504 provider_timeout`` whose ``details.execution_id`` is
the recorded execution. No database transaction is open while the provider is
awaited.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from scope_api.context import AppContext
from scope_api.engine import record, requests
from scope_api.engine.call import recorded, timed_call
from scope_api.errors import ProviderFailed, ProviderTimedOut, ValidationFailed
from scope_api.models.base import new_id
from scope_api.providers import url_safety
from scope_api.providers.types import CompletionResult, ProviderTimeout
from scope_api.schemas.executions import ExecutionCreate
from scope_api.security.principal import Principal


async def execute(ctx: AppContext, principal: Principal,
                  body: ExecutionCreate) -> record.Recorded:
    """Run ``body`` for ``principal``'s tenant; the recorded execution, or an error."""
    if ctx.http is None or ctx.recorder is None:
        raise RuntimeError("the provider HTTP client and the recorder are opened by the "
                           "app's lifespan")
    target = await _target(ctx, principal.tenant_id, body)
    prepared = requests.prepare(target, model=body.model, variables=body.variables,
                                parameters=body.parameters)
    await _recheck_url(ctx, target)

    client = ctx.http

    async def call() -> CompletionResult:
        return await prepared.adapter.complete(prepared.request, config=prepared.config,
                                               client=client)

    execution_id = new_id()
    called = await timed_call(ctx, prepared, execution_id=execution_id,
                              tenant=principal.tenant_name, attempt=call,
                              max_attempts=ctx.settings.provider_max_attempts)
    _, rows = recorded(prepared, called, execution_id=execution_id,
                       tenant_id=principal.tenant_id, created_by=principal.subject)
    await ctx.recorder.save(rows)
    execution = record.Recorded.of(rows[0])
    failure = called.failure
    if failure is not None:
        error = ProviderTimedOut if isinstance(failure, ProviderTimeout) else ProviderFailed
        raise error(failure.message, details={"execution_id": execution.id,
                                              "trace_id": execution.trace_id})
    return execution


async def _target(ctx: AppContext, tenant_id: str, body: ExecutionCreate) -> record.Target:
    """The execution's target, from the cache when the registry has not changed."""
    key = (tenant_id, body.prompt, body.version, body.provider, body.model)
    cache = ctx.targets
    if cache is not None:
        target = cache.get(key)
        if target is not None:
            return target
        epoch = cache.epoch()
    target = await run_in_threadpool(
        record.load_target, ctx, tenant_id=tenant_id, prompt=body.prompt,
        version=body.version, provider=body.provider, model=body.model)
    if cache is not None:
        cache.put(key, target, epoch)
    return target


async def _recheck_url(ctx: AppContext, target: record.Target) -> None:
    try:
        await target.recheck_url(allow_private=ctx.settings.allow_private_provider_urls)
    except url_safety.UnsafeUrl as exc:
        raise ValidationFailed(exc.message, loc=["body", "provider"]) from None

