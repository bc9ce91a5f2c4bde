"""Providers (API keys encrypted at rest), the tenant's model catalog, price overrides,
and re-encryption of stored keys under a new master key."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scope_api.db import Database, add_unique
from scope_api.errors import Conflict, NotFound, ValidationFailed
from scope_api.models import ModelPriceOverride, Provider, Tenant
from scope_api.models.base import new_id, utcnow
from scope_api.pagination import CursorCodec, PageRequest, paginate
from scope_api.production_cache import PROVIDERS_KEY, ProductionCache, invalidate_on_commit
from scope_api.providers.catalog import Catalog, Price, base_model_id
from scope_api.providers.types import ProviderConfig
from scope_api.security.crypto import DecryptionError, SecretBox

NEEDS_KEY = frozenset({"openai", "anthropic", "gemini", "azure_openai"})
NEEDS_URL = frozenset({"azure_openai", "openai_compatible"})
#: Where a provider is reached when it has no ``base_url`` (scheme and host only;
#: adapters append their wire paths, e.g. ``/v1/chat/completions``).
DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
}


# --- providers -------------------------------------------------------------------------

def check_kind_rules(kind: str, *, base_url: str | None, has_key: bool) -> None:
    """What each kind needs: ``ValidationFailed`` naming every missing or refused field."""
    errors: list[dict[str, Any]] = []
    if kind == "simulator":
        if base_url:
            errors.append({"loc": ["body", "base_url"], "msg": "a simulator provider takes no "
                           "base_url: Scope runs the simulator itself"})
        if has_key:
            errors.append({"loc": ["body", "api_key"],
                           "msg": "a simulator provider takes no api_key"})
    else:
        if kind in NEEDS_KEY and not has_key:
            errors.append({"loc": ["body", "api_key"],
                           "msg": f"a {kind} provider needs an api_key"})
        if kind in NEEDS_URL and not base_url:
            errors.append({"loc": ["body", "base_url"],
                           "msg": f"a {kind} provider needs a base_url"})
    if errors:
        raise ValidationFailed(errors[0]["msg"], errors=errors)


def key_hint(key: str) -> str:
    """``…`` and the last 4 characters; only ``…`` for keys under 16 characters."""
    return f"…{key[-4:]}" if len(key) >= 16 else "…"


def _context(provider: Provider) -> str:
    return f"provider:{provider.tenant_id}:{provider.id}"


def _set_key(provider: Provider, key: str | None, box: SecretBox) -> None:
    if key is None:
        provider.api_key_ciphertext = None
        provider.api_key_hint = None
        return
    provider.api_key_ciphertext = box.encrypt(key, context=_context(provider))
    provider.api_key_hint = key_hint(key)


def get(session: Session, *, tenant_id: str, name: str, lock: bool = False) -> Provider:
    query = select(Provider).where(Provider.tenant_id == tenant_id, Provider.name == name)
    if lock:
        query = query.with_for_update()
    provider = session.scalar(query)
    if provider is None:
        raise NotFound(f"provider '{name}' not found")
    return provider


def list_page(session: Session, *, tenant_id: str, codec: CursorCodec,
              page: PageRequest) -> tuple[Sequence[Provider], str | None]:
    query = select(Provider).where(Provider.tenant_id == tenant_id)
    return paginate(session, query, codec=codec, scope=f"providers:{tenant_id}", request=page,
                    created_at=Provider.created_at, id_=Provider.id)


def create(session: Session, *, box: SecretBox, tenant_id: str, name: str, kind: str,
           base_url: str | None, api_key: str | None, enabled_models: list[str],
           options: dict[str, Any]) -> Provider:
    """A new provider; ``base_url`` must already have passed ``url_safety``."""
    check_kind_rules(kind, base_url=base_url, has_key=api_key is not None)
    if session.scalar(select(Provider.id).where(Provider.tenant_id == tenant_id,
                                                Provider.name == name)):
        raise Conflict(f"provider '{name}' already exists")
    provider = Provider(id=new_id(), tenant_id=tenant_id, name=name, kind=kind,
                        base_url=base_url, enabled_models=list(enabled_models),
                        options=dict(options))
    _set_key(provider, api_key, box)  # the id is set first: the ciphertext is bound to it
    add_unique(session, provider, conflict=f"provider '{name}' already exists")
    return provider


def update(session: Session, *, box: SecretBox, tenant_id: str, name: str,
           changes: Mapping[str, Any], cache: ProductionCache) -> Provider:
    """Apply the fields present in ``changes`` (``None`` clears ``base_url``/``api_key``)."""
    provider = get(session, tenant_id=tenant_id, name=name, lock=True)
    invalidate_on_commit(session, cache, (tenant_id, PROVIDERS_KEY))
    base_url = changes.get("base_url", provider.base_url)
    has_key = (changes["api_key"] is not None if "api_key" in changes
               else provider.api_key_ciphertext is not None)
    check_kind_rules(provider.kind, base_url=base_url, has_key=has_key)
    provider.base_url = base_url
    if "api_key" in changes:
        _set_key(provider, changes["api_key"], box)
    if "enabled_models" in changes:
        provider.enabled_models = list(changes["enabled_models"] or [])
    if "options" in changes:
        provider.options = dict(changes["options"] or {})
    provider.updated_at = utcnow()
    session.flush()
    return provider


def delete(session: Session, *, tenant_id: str, name: str, cache: ProductionCache) -> None:
    """Delete a provider and its price overrides."""
    session.delete(get(session, tenant_id=tenant_id, name=name, lock=True))
    invalidate_on_commit(session, cache, (tenant_id, PROVIDERS_KEY))
    session.flush()


def api_key_of(provider: Provider, box: SecretBox) -> str | None:
    """The plaintext key, for the call path only (never for a response or a log)."""
    if provider.api_key_ciphertext is None:
        return None
    return box.decrypt(provider.api_key_ciphertext, context=_context(provider))


def provider_config(provider: Provider, box: SecretBox, *,
                    simulator_url: str | None = None) -> ProviderConfig:
    """What an adapter needs to call this provider. A user-chosen ``base_url`` must be
    re-checked with ``url_safety.resolve_checked`` before the call (DNS rebinding)."""
    base_url = provider.base_url or DEFAULT_BASE_URLS.get(provider.kind) or simulator_url
    if base_url is None:
        raise ValueError(f"provider '{provider.name}' has no URL to call")
    try:
        api_key = api_key_of(provider, box)
    except DecryptionError:
        # The master key that encrypted it is no longer configured (or the row was
        # tampered with): the operator fixes it by setting the key again.
        raise Conflict(f"the API key of provider '{provider.name}' cannot be decrypted "
                       "with the configured master keys (SCOPE_MASTER_KEYS); set it again "
                       f"with PATCH /providers/{provider.name}") from None
    return ProviderConfig(kind=provider.kind, base_url=base_url, api_key=api_key,
                          options=dict(provider.options))


# --- models and prices -----------------------------------------------------------------

@dataclass(frozen=True)
class ModelEntry:
    provider: str
    kind: str
    model: str
    context_window: int | None
    capabilities: tuple[str, ...]
    price: Price | None
    price_source: str  # catalog | override | unknown


def _override_price(row: ModelPriceOverride) -> Price:
    return Price.of(row.input_per_mtok_usd, row.output_per_mtok_usd)


def _entry(provider: Provider, model: str, catalog: Catalog,
           override: ModelPriceOverride | None) -> ModelEntry:
    listed = catalog.lookup(provider.kind, model)
    window = listed.context_window if listed else None
    capabilities = listed.capabilities if listed else ()
    if override is not None:
        return ModelEntry(provider.name, provider.kind, model,
                          override.context_window or window, capabilities,
                          _override_price(override), "override")
    if listed is not None:
        return ModelEntry(provider.name, provider.kind, model, window, capabilities,
                          listed.price, "catalog")
    return ModelEntry(provider.name, provider.kind, model, None, (), None, "unknown")


def models_for(session: Session, *, tenant_id: str, provider_name: str | None,
               catalog: Catalog) -> list[ModelEntry]:
    """The models of the tenant's providers (one, or all), sorted by (provider, model).

    A provider with ``enabled_models`` lists exactly those; otherwise the catalog's
    models of its kind. Models with a price override are always listed, and the
    override wins over the catalog.
    """
    if provider_name is not None:
        providers = [get(session, tenant_id=tenant_id, name=provider_name)]
    else:
        providers = list(session.scalars(select(Provider).where(
            Provider.tenant_id == tenant_id).order_by(Provider.name)))
    rows = session.scalars(select(ModelPriceOverride).where(
        ModelPriceOverride.tenant_id == tenant_id,
        ModelPriceOverride.provider_id.in_([p.id for p in providers])))
    overrides = {(row.provider_id, row.model): row for row in rows}
    entries: list[ModelEntry] = []
    for provider in providers:
        names = set(provider.enabled_models) or {m.model for m in catalog.models(provider.kind)}
        names |= {model for (pid, model) in overrides if pid == provider.id}
        entries += [_entry(provider, model, catalog, overrides.get((provider.id, model)))
                    for model in names]
    entries.sort(key=lambda e: (e.provider, e.model))
    return entries


def price_for(session: Session, *, provider: Provider, model: str,
              catalog: Catalog) -> Price | None:
    """The price at call time: the tenant's override, else the catalog; ``None`` if unknown.

    A dated snapshot (``gpt-4o-mini-2024-07-18``) falls back to its base model's price.
    """
    for name in dict.fromkeys((model, base_model_id(model))):
        row = session.scalar(select(ModelPriceOverride).where(
            ModelPriceOverride.provider_id == provider.id, ModelPriceOverride.model == name))
        if row is not None:
            return _override_price(row)
    return catalog.price(provider.kind, model)


def set_price(session: Session, *, provider: Provider, model: str, price: Price,
              context_window: int | None, created_by: str | None,
              cache: ProductionCache) -> ModelPriceOverride:
    """Create or replace the tenant's price for ``model`` of ``provider``."""
    invalidate_on_commit(session, cache, (provider.tenant_id, PROVIDERS_KEY))
    row = session.scalar(select(ModelPriceOverride).where(
        ModelPriceOverride.provider_id == provider.id,
        ModelPriceOverride.model == model).with_for_update())
    if row is None:
        row = ModelPriceOverride(tenant_id=provider.tenant_id, provider_id=provider.id,
                                 model=model, created_by=created_by)
        session.add(row)
    row.input_per_mtok_usd = str(price.input_per_mtok_usd)
    row.output_per_mtok_usd = str(price.output_per_mtok_usd)
    row.context_window = context_window
    row.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"the price of '{model}' was set concurrently; retry") from None
    return row


def delete_price(session: Session, *, provider: Provider, model: str,
                 cache: ProductionCache) -> None:
    row = session.scalar(select(ModelPriceOverride).where(
        ModelPriceOverride.provider_id == provider.id, ModelPriceOverride.model == model))
    if row is None:
        raise NotFound(f"no price override for '{model}' on provider '{provider.name}'")
    session.delete(row)
    invalidate_on_commit(session, cache, (provider.tenant_id, PROVIDERS_KEY))
    session.flush()


# --- master key rotation ---------------------------------------------------------------

@dataclass
class RotationReport:
    active_kid: str
    rotated: int = 0
    already_current: int = 0
    changed_concurrently: int = 0
    failed: list[str] = field(default_factory=list)
    remaining: int = 0

    def summary(self) -> str:
        return json.dumps({"active_key": self.active_kid, "rotated": self.rotated,
                           "already_current": self.already_current,
                           "changed_concurrently": self.changed_concurrently,
                           "failed": len(self.failed), "remaining": self.remaining})


def rotate_provider_keys(database: Database, box: SecretBox, *,
                         batch_size: int = 100) -> RotationReport:
    """Re-encrypt every stored provider key that is not under the first master key.

    Each batch is its own short transaction, and each row is replaced only if it
    still holds the ciphertext that was read (compare-and-swap), so a concurrent
    key change is never overwritten. Every row decrypts under the old or the new
    key at every moment: interrupting is safe, and running again finishes the job
    (an up-to-date database is left untouched). ``remaining`` counts rows still
    not under the first key after the pass (failures, or rows a server still
    running with the old key first wrote meanwhile: run again).
    """
    report = RotationReport(active_kid=box.active_kid)
    after = ""
    while True:
        with database.unit_of_work() as session:
            rows = session.execute(
                select(Provider.id, Provider.tenant_id, Provider.name, Tenant.name,
                       Provider.api_key_ciphertext)
                .join(Tenant, Tenant.id == Provider.tenant_id)
                .where(Provider.api_key_ciphertext.is_not(None), Provider.id > after)
                .order_by(Provider.id).limit(batch_size)).all()
            for provider_id, tenant_id, name, tenant, ciphertext in rows:
                assert ciphertext is not None  # filtered in the query
                _rotate_one(session, box, report, provider_id=provider_id,
                            context=f"provider:{tenant_id}:{provider_id}",
                            label=f"provider '{name}' of tenant '{tenant}'",
                            ciphertext=ciphertext)
        if len(rows) < batch_size:
            break
        after = rows[-1][0]
    report.remaining = _count_not_current(database, box)
    return report


def _rotate_one(session: Session, box: SecretBox, report: RotationReport, *,
                provider_id: str, context: str, label: str, ciphertext: str) -> None:
    try:
        if box.is_current(ciphertext):
            report.already_current += 1
            return
        fresh = box.reencrypt(ciphertext, context=context)
    except DecryptionError as exc:
        report.failed.append(f"{label}: {exc}")
        return
    swapped = session.execute(
        sql_update(Provider).where(Provider.id == provider_id,
                               Provider.api_key_ciphertext == ciphertext)
        .values(api_key_ciphertext=fresh).execution_options(synchronize_session=False))
    if getattr(swapped, "rowcount", 0) == 1:
        report.rotated += 1
    else:
        report.changed_concurrently += 1


def _count_not_current(database: Database, box: SecretBox) -> int:
    with database.unit_of_work(write=False) as session:
        stored = session.scalars(select(Provider.api_key_ciphertext)
                                 .where(Provider.api_key_ciphertext.is_not(None)))
        count = 0
        for ciphertext in stored:
            assert ciphertext is not None  # filtered in the query
            try:
                count += not box.is_current(ciphertext)
            except DecryptionError:
                count += 1
        return count
