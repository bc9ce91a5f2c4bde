"""The model catalog: context window, capabilities and list price of each provider's models.

The data lives in ``catalog.json`` next to this module (with its
``effective_date`` and the pages it was read from); it is parsed and checked
once per process (:func:`load_catalog`). Per-tenant overrides are stored in the
database and win over it (``services.providers``).

Money
-----
Prices are parsed as :class:`~decimal.Decimal` straight from the JSON text, so
``0.15`` is exactly 0.15, never the binary float 0.1499999…. The cost of a call
(API.md)::

    cost_usd = input_tokens × input_per_mtok_usd / 1e6 + output_tokens × output_per_mtok_usd / 1e6

is computed exactly in ``Decimal`` and then rounded half-to-even to 1e-12 USD
(:data:`COST_QUANTUM`), far below a single token of the cheapest model
(5e-8 USD). Convert to ``float`` only at the JSON boundary; summing stored
Decimals (or re-computing from tokens) never drifts.

An unknown model or missing usage has no cost: :func:`cost_usd` returns
``None`` and the caller records ``cost_usd: null`` with a warning.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from importlib import resources
from typing import Any

KINDS = ("openai", "anthropic", "gemini", "azure_openai", "openai_compatible", "simulator")
COST_QUANTUM = Decimal("1e-12")
_MTOK = Decimal(1_000_000)
_EXACT = Context(prec=50)
#: ``-2024-07-18`` or ``-20251001``: a dated snapshot of a base model id.
_SNAPSHOT_SUFFIX = re.compile(r"-(?:\d{4}-\d{2}-\d{2}|\d{8})$")


class CatalogError(ValueError):
    """``catalog.json`` is malformed; the message names the entry."""


@dataclass(frozen=True)
class Price:
    """USD per million input and output tokens."""

    input_per_mtok_usd: Decimal
    output_per_mtok_usd: Decimal

    @classmethod
    def of(cls, input_per_mtok_usd: Any, output_per_mtok_usd: Any) -> Price:
        """From numbers or decimal strings; refuses negatives, NaN and infinities."""
        return cls(_money(input_per_mtok_usd, "input_per_mtok_usd"),
                   _money(output_per_mtok_usd, "output_per_mtok_usd"))


@dataclass(frozen=True)
class CatalogModel:
    model: str
    context_window: int | None
    capabilities: tuple[str, ...]
    price: Price


def _money(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise CatalogError(f"{what} must be a number")
    try:
        amount = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise CatalogError(f"{what} must be a number") from None
    if not amount.is_finite() or amount < 0:
        raise CatalogError(f"{what} must be a finite number ≥ 0")
    return amount


def cost_usd(input_tokens: int | None, output_tokens: int | None,
             price: Price | None) -> Decimal | None:
    """The cost of one call, rounded to 1e-12 USD; ``None`` if price or usage is unknown."""
    if price is None or input_tokens is None or output_tokens is None:
        return None
    if input_tokens < 0 or output_tokens < 0:
        raise ValueError("token counts cannot be negative")
    total = _EXACT.add(
        _EXACT.divide(_EXACT.multiply(Decimal(input_tokens), price.input_per_mtok_usd), _MTOK),
        _EXACT.divide(_EXACT.multiply(Decimal(output_tokens), price.output_per_mtok_usd),
                      _MTOK))
    return total.quantize(COST_QUANTUM, rounding=ROUND_HALF_EVEN, context=_EXACT)


def base_model_id(model: str) -> str:
    """``gpt-4o-mini-2024-07-18`` → ``gpt-4o-mini``; other ids unchanged."""
    return _SNAPSHOT_SUFFIX.sub("", model)


class Catalog:
    """Models per provider kind; ``azure_openai`` lists OpenAI's (``same_as``)."""

    def __init__(self, effective_date: date, models: dict[str, tuple[CatalogModel, ...]]) -> None:
        self.effective_date = effective_date
        self._models = models
        self._index = {kind: {m.model: m for m in entries} for kind, entries in models.items()}

    def models(self, kind: str) -> tuple[CatalogModel, ...]:
        """The listed models of a provider kind (empty for an unknown kind)."""
        return self._models.get(kind, ())

    def lookup(self, kind: str, model: str) -> CatalogModel | None:
        """The entry for ``model`` (or its base id, for a dated snapshot), if listed."""
        index = self._index.get(kind, {})
        return index.get(model) or index.get(base_model_id(model))

    def price(self, kind: str, model: str) -> Price | None:
        entry = self.lookup(kind, model)
        return entry.price if entry else None


def _entry(kind: str, raw: Any) -> CatalogModel:
    if not isinstance(raw, dict) or not isinstance(raw.get("model"), str) or not raw["model"]:
        raise CatalogError(f"{kind}: every model needs a 'model' name")
    name = raw["model"]
    window = raw.get("context_window")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int)
                               or window <= 0):
        raise CatalogError(f"{kind}/{name}: context_window must be a positive integer or null")
    capabilities = raw.get("capabilities", [])
    if not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
        raise CatalogError(f"{kind}/{name}: capabilities must be a list of strings")
    try:
        price = Price.of(raw.get("input_per_mtok_usd"), raw.get("output_per_mtok_usd"))
    except CatalogError as exc:
        raise CatalogError(f"{kind}/{name}: {exc}") from None
    return CatalogModel(name, window, tuple(capabilities), price)


def parse_catalog(data: Any) -> Catalog:
    """Check and build a catalog from parsed JSON (floats parsed as ``Decimal``)."""
    if not isinstance(data, dict) or not isinstance(data.get("providers"), dict):
        raise CatalogError("the catalog needs 'effective_date' and 'providers'")
    try:
        effective = date.fromisoformat(str(data.get("effective_date")))
    except ValueError:
        raise CatalogError("effective_date must be an ISO date (YYYY-MM-DD)") from None
    providers: dict[str, Any] = data["providers"]
    unknown = set(providers) - set(KINDS)
    if unknown:
        raise CatalogError(f"unknown provider kinds: {sorted(unknown)}")
    models: dict[str, tuple[CatalogModel, ...]] = {}
    for kind, spec in providers.items():
        if not isinstance(spec, dict) or "same_as" in spec:
            continue
        entries = tuple(_entry(kind, raw) for raw in spec.get("models", []))
        names = [e.model for e in entries]
        if len(set(names)) != len(names):
            raise CatalogError(f"{kind}: a model is listed twice")
        models[kind] = entries
    for kind, spec in providers.items():
        if isinstance(spec, dict) and "same_as" in spec:
            if spec["same_as"] not in models:
                raise CatalogError(f"{kind}: same_as names a kind without models")
            models[kind] = models[spec["same_as"]]
    return Catalog(effective, models)


@functools.cache
def load_catalog() -> Catalog:
    """The catalog shipped with Scope, parsed once per process."""
    text = resources.files("scope_api.providers").joinpath("catalog.json").read_text("utf-8")
    return parse_catalog(json.loads(text, parse_float=Decimal))
