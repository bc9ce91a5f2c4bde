"""Providers (admin writes, API keys write-only), the model catalog and price overrides.

Creating or changing a ``base_url`` resolves its host (``providers.url_safety``)
before any database work, so no transaction (on SQLite: the database's write
lock) is held across a DNS lookup: those two routes are ``async`` and run their
unit of work in the thread pool.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from scope_api.context import AppContext
from scope_api.deps import ContextDep, PageDep, PrincipalDep, SessionDep, require
from scope_api.errors import ValidationFailed
from scope_api.models import Provider
from scope_api.pagination import Page, PageRequest, Position
from scope_api.providers import url_safety
from scope_api.providers.catalog import Price, load_catalog
from scope_api.schemas.common import NAME_PATTERN, error_responses
from scope_api.schemas.providers import (
    MODEL_PATTERN,
    ModelOut,
    PriceOverride,
    ProviderCreate,
    ProviderOut,
    ProviderUpdate,
)
from scope_api.security.principal import Principal
from scope_api.services import providers
from scope_api.services.providers import ModelEntry

router = APIRouter(tags=["providers"], responses=error_responses(400, 401, 403, 422))

ProviderReader = Annotated[Principal, Depends(require("providers:read"))]
ProviderAdmin = Annotated[Principal, Depends(require("providers:write"))]
ModelReader = Annotated[Principal, Depends(require("models:read"))]
ProviderName = Annotated[str, Path(pattern=NAME_PATTERN, description="provider name")]
ModelId = Annotated[str, Path(pattern=MODEL_PATTERN, description="model id (may contain '/')")]


def _lookup(ctx: AppContext, principal: Principal, name: str) -> Provider:
    # Resolved as a dependency, in its own short read transaction, so another
    # tenant's (or a missing) provider is a 404 before the body is validated.
    with ctx.database.unit_of_work(write=False) as session:
        return providers.get(session, tenant_id=principal.tenant_id, name=name)


def _by_name(ctx: ContextDep, principal: PrincipalDep, name: ProviderName) -> Provider:
    return _lookup(ctx, principal, name)


def _by_provider(ctx: ContextDep, principal: PrincipalDep,
                 provider: Annotated[str, Path(pattern=NAME_PATTERN)]) -> Provider:
    return _lookup(ctx, principal, provider)


ExistingProvider = Annotated[Provider, Depends(_by_name)]
PricedProvider = Annotated[Provider, Depends(_by_provider)]


def provider_out(p: Provider) -> ProviderOut:
    return ProviderOut.model_validate({
        "name": p.name, "kind": p.kind, "base_url": p.base_url,
        "has_api_key": p.api_key_ciphertext is not None, "api_key_hint": p.api_key_hint,
        "enabled_models": p.enabled_models, "options": p.options,
        "created_at": p.created_at, "updated_at": p.updated_at})


async def _checked_url(ctx: AppContext, url: str) -> str:
    """The URL, without trailing slashes, if the URL policy accepts it; else 422."""
    try:
        await url_safety.resolve_checked(
            url, allow_private=ctx.settings.allow_private_provider_urls)
    except url_safety.UnsafeUrl as exc:
        raise ValidationFailed(exc.message, loc=["body", "base_url"]) from None
    return url.rstrip("/")


@router.get("/providers", response_model=Page[ProviderOut])
def list_providers(principal: ProviderReader, session: SessionDep, ctx: ContextDep,
                   page: PageDep) -> Page[ProviderOut]:
    """The tenant's providers, newest first. Keys are never returned, only a hint."""
    rows, cursor = providers.list_page(session, tenant_id=principal.tenant_id,
                                       codec=ctx.cursors, page=page)
    return Page(data=[provider_out(p) for p in rows], next_cursor=cursor)


@router.post("/providers", status_code=201, response_model=ProviderOut,
             responses=error_responses(409, 413))
async def create_provider(body: ProviderCreate, principal: ProviderAdmin,
                          ctx: ContextDep) -> ProviderOut:
    """Configure a provider. `simulator` needs no key and no URL; `openai`, `anthropic`,
    `gemini` and `azure_openai` need an `api_key`; `azure_openai` and
    `openai_compatible` need a `base_url`. A `base_url` resolving to a link-local or
    metadata address is refused; loopback/private only with
    `SCOPE_ALLOW_PRIVATE_PROVIDER_URLS=true`."""
    key = body.api_key.get_secret_value() if body.api_key is not None else None
    providers.check_kind_rules(body.kind, base_url=body.base_url, has_key=key is not None)
    base_url = await _checked_url(ctx, body.base_url) if body.base_url is not None else None

    def work() -> ProviderOut:
        with ctx.database.unit_of_work() as session:
            return provider_out(providers.create(
                session, box=ctx.secrets, tenant_id=principal.tenant_id, name=body.name,
                kind=body.kind, base_url=base_url, api_key=key,
                enabled_models=body.enabled_models, options=body.options))

    return await run_in_threadpool(work)


@router.get("/providers/{name}", response_model=ProviderOut, responses=error_responses(404))
def get_provider(principal: ProviderReader, provider: ExistingProvider) -> ProviderOut:
    return provider_out(provider)


@router.patch("/providers/{name}", response_model=ProviderOut,
              responses=error_responses(404, 413))
async def update_provider(principal: ProviderAdmin, provider: ExistingProvider,
                          body: ProviderUpdate, ctx: ContextDep) -> ProviderOut:
    """Change the fields present: `api_key` replaces the key (null clears it), `base_url`
    (null clears it), `enabled_models`, `options`. The name and kind are fixed."""
    changes: dict[str, Any] = {name: getattr(body, name) for name in body.model_fields_set}
    if "api_key" in changes and changes["api_key"] is not None:
        changes["api_key"] = changes["api_key"].get_secret_value()
    has_key = (changes["api_key"] is not None if "api_key" in changes
               else provider.api_key_ciphertext is not None)
    providers.check_kind_rules(provider.kind, has_key=has_key,
                               base_url=changes.get("base_url", provider.base_url))
    if changes.get("base_url") is not None:
        changes["base_url"] = await _checked_url(ctx, changes["base_url"])

    def work() -> ProviderOut:
        with ctx.database.unit_of_work() as session:
            return provider_out(providers.update(
                session, box=ctx.secrets, tenant_id=principal.tenant_id, name=provider.name,
                changes=changes, cache=ctx.production_cache))

    return await run_in_threadpool(work)


@router.delete("/providers/{name}", status_code=204, responses=error_responses(404))
def delete_provider(principal: ProviderAdmin, provider: ExistingProvider,
                    session: SessionDep, ctx: ContextDep) -> Response:
    """Delete a provider, its encrypted key and its price overrides."""
    providers.delete(session, tenant_id=principal.tenant_id, name=provider.name,
                     cache=ctx.production_cache)
    return Response(status_code=204)


# --- models ----------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def model_out(entry: ModelEntry) -> ModelOut:
    price = entry.price
    return ModelOut.model_validate({
        "provider": entry.provider, "kind": entry.kind, "model": entry.model,
        "context_window": entry.context_window,
        "input_per_mtok_usd": float(price.input_per_mtok_usd) if price else None,
        "output_per_mtok_usd": float(price.output_per_mtok_usd) if price else None,
        "capabilities": list(entry.capabilities), "price_source": entry.price_source})


def _page(entries: list[ModelEntry], ctx: AppContext, scope: str,
          page: PageRequest) -> tuple[list[ModelEntry], str | None]:
    """Keyset pagination over the sorted (provider, model) list, with a signed cursor."""
    if page.cursor:
        after = json.loads(ctx.cursors.decode(scope, page.cursor).id)
        entries = [e for e in entries if [e.provider, e.model] > after]
    if len(entries) <= page.limit:
        return entries, None
    last = entries[page.limit - 1]
    position = Position(_EPOCH, json.dumps([last.provider, last.model]))
    return entries[: page.limit], ctx.cursors.encode(scope, position)


@router.get("/models", response_model=Page[ModelOut], responses=error_responses(404))
def list_models(principal: ModelReader, session: SessionDep, ctx: ContextDep, page: PageDep,
                provider: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None
                ) -> Page[ModelOut]:
    """Models of the tenant's configured providers (or of `provider` only: 404 if it is
    not configured), sorted by provider then model, with the tenant's price overrides
    applied. A provider with `enabled_models` lists exactly those; a model without a
    known price has null prices (its executions record `cost_usd: null`)."""
    entries = providers.models_for(session, tenant_id=principal.tenant_id,
                                   provider_name=provider, catalog=load_catalog())
    scope = "models:" + json.dumps([principal.tenant_id, provider])
    rows, cursor = _page(entries, ctx, scope, page)
    return Page(data=[model_out(e) for e in rows], next_cursor=cursor)


@router.put("/models/{provider}/{model:path}/price", response_model=ModelOut,
            responses=error_responses(404, 409, 413))
def set_model_price(principal: ProviderAdmin, provider: PricedProvider, model: ModelId,
                    body: PriceOverride, session: SessionDep, ctx: ContextDep) -> ModelOut:
    """Set the tenant's price for one model of one provider; it wins over the catalog
    (also for models the catalog does not list, e.g. self-hosted ones)."""
    price = Price.of(body.input_per_mtok_usd, body.output_per_mtok_usd)
    providers.set_price(session, provider=provider, model=model, price=price,
                        context_window=body.context_window, created_by=principal.subject,
                        cache=ctx.production_cache)
    entries = providers.models_for(session, tenant_id=principal.tenant_id,
                                   provider_name=provider.name, catalog=load_catalog())
    return model_out(next(e for e in entries if e.model == model))


@router.delete("/models/{provider}/{model:path}/price", status_code=204,
               responses=error_responses(404))
def delete_model_price(principal: ProviderAdmin, provider: PricedProvider, model: ModelId,
                       session: SessionDep, ctx: ContextDep) -> Response:
    """Remove the tenant's price override: the catalog price applies again."""
    providers.delete_price(session, provider=provider, model=model, cache=ctx.production_cache)
    return Response(status_code=204)
