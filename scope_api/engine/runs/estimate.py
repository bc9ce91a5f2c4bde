"""What a run would cost before it starts: calls, tokens, dollars and time.

Input tokens are estimated from the rendered prompts at about 4 characters per
token (the usual rule of thumb for English with current tokenizers); output tokens
are ``parameters.max_tokens`` per call, or 256 when unset: an upper-end guess, so
the cost is more likely over- than under-estimated. Prices are the catalog's (or
the tenant's overrides). The duration is calls × typical latency ÷ concurrency,
with the typical latency taken as the median of the tenant's last 100 executions
of each model (1 s without history).
"""

from __future__ import annotations

import statistics
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from scope_api import templating
from scope_api.models import Execution
from scope_api.providers.catalog import load_catalog
from scope_api.schemas.runs import Estimate, RunCreate
from scope_api.services import providers, runs

CHARS_PER_TOKEN = 4
DEFAULT_OUTPUT_TOKENS = 256
DEFAULT_LATENCY_S = 1.0


def estimate(session: Session, *, tenant_id: str, set_name: str, body: RunCreate,
             max_cells: int) -> Estimate:
    checked = runs.check(session, tenant_id=tenant_id, set_name=set_name, body=body,
                         max_cells=max_cells)
    chosen, items = checked.versions, checked.items
    chars = 0
    for version in chosen:
        for item in items:
            chars += len(_text(templating.render_content(version.content, item.variables)))
    input_per_target = max(1, round(chars / CHARS_PER_TOKEN))
    output_per_call = body.parameters.max_tokens or DEFAULT_OUTPUT_TOKENS
    calls_per_target = len(items) * len(chosen)
    cost: Decimal | None = Decimal(0)
    seconds = 0.0
    for target in body.targets:
        provider = providers.get(session, tenant_id=tenant_id, name=target.provider)
        price = providers.price_for(session, provider=provider, model=target.model,
                                    catalog=load_catalog())
        if price is None or cost is None:
            cost = None
        else:
            cost += (Decimal(input_per_target) * price.input_per_mtok_usd
                     + Decimal(output_per_call * calls_per_target) * price.output_per_mtok_usd
                     ) / Decimal(1_000_000)
        seconds += calls_per_target * _typical_latency_s(session, tenant_id, target.provider,
                                                         target.model)
    judges = sum(1 for s in body.scorers if s.type == "llm_judge")
    calls = calls_per_target * len(body.targets)
    return Estimate(calls=calls, judge_calls=calls * judges,
                    input_tokens=input_per_target * len(body.targets),
                    output_tokens=output_per_call * calls,
                    cost_usd=None if cost is None else float(cost),
                    expected_duration_s=round(seconds / body.concurrency, 3),
                    concurrency=body.concurrency)


def _typical_latency_s(session: Session, tenant_id: str, provider: str, model: str) -> float:
    recent = session.scalars(
        select(Execution.latency_ms)
        .where(Execution.tenant_id == tenant_id, Execution.provider == provider,
               Execution.model == model, Execution.status == "succeeded")
        .order_by(Execution.created_at.desc()).limit(100)).all()
    return statistics.median(recent) / 1000 if recent else DEFAULT_LATENCY_S


def _text(content: templating.Content) -> str:
    return content if isinstance(content, str) else "".join(m["content"] for m in content)
