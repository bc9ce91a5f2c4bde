"""The model calls ``llm_judge`` scorers make, and what they cost.

One :class:`Judge` per cell: it calls the judge target (no retries beyond the
adapter's single attempt, temperature 0) and adds each call's catalog cost to
``spent``, which the run's spend (and budget) includes. Judge calls are not recorded
as executions: they grade a cell, they are not part of what is being compared.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from starlette.concurrency import run_in_threadpool

from scope_api.context import AppContext
from scope_api.engine import requests
from scope_api.errors import ScopeError
from scope_api.providers.catalog import Price, cost_usd, load_catalog
from scope_api.providers.types import ProviderError
from scope_api.schemas.executions import ExecutionParameters
from scope_api.scorers import JudgeMessage
from scope_api.services import providers


class Judge:
    """The ``complete`` callable of :func:`scope_api.scorers.judge`, for one cell."""

    def __init__(self, ctx: AppContext, tenant_id: str) -> None:
        self.ctx = ctx
        self.tenant_id = tenant_id
        self.spent = Decimal(0)

    async def __call__(self, provider: str, model: str, messages: list[JudgeMessage]) -> str:
        ctx = self.ctx
        config, kind, price = await run_in_threadpool(_target, ctx, self.tenant_id,
                                                      provider, model)
        adapter = requests.choose_adapter(kind=kind, provider=provider, model=model,
                                          enabled_models=[])
        chat = [{"role": m["role"], "content": m["content"]} for m in messages]
        parameters = requests.parameters_of(ExecutionParameters(temperature=0))
        request = requests.completion_request(model, chat, parameters, adapter,
                                              provider=provider)
        assert ctx.http is not None
        try:
            result = await adapter.complete(request, config=config, client=ctx.http)
        except ProviderError as exc:
            raise ScopeError(f"judge call failed: {exc.message}") from None
        cost = cost_usd(result.usage.input_tokens, result.usage.output_tokens, price)
        self.spent += cost or Decimal(0)
        output: str = result.output
        return output


def _target(ctx: AppContext, tenant_id: str, name: str, model: str
            ) -> tuple[Any, str, Price | None]:
    with ctx.database.unit_of_work(write=False) as session:
        provider = providers.get(session, tenant_id=tenant_id, name=name)
        config = providers.provider_config(provider, ctx.secrets,
                                           simulator_url=ctx.simulator_url)
        if provider.kind == "simulator":
            config = requests.simulator_config(config)
        price = providers.price_for(session, provider=provider, model=model,
                                    catalog=load_catalog())
        return config, provider.kind, price
