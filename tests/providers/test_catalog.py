"""The model catalog data file and the cost formula (pure: no database, no HTTP)."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from importlib import resources
from typing import Any

import pytest

from scope_api.providers.catalog import (
    KINDS,
    CatalogError,
    Price,
    base_model_id,
    cost_usd,
    load_catalog,
    parse_catalog,
)


def _raw() -> dict[str, Any]:
    text = resources.files("scope_api.providers").joinpath("catalog.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text, parse_float=Decimal)
    return data


def test_shipped_catalog_is_dated_and_covers_every_kind() -> None:
    catalog = load_catalog()
    assert isinstance(catalog.effective_date, date)
    assert catalog.effective_date >= date(2026, 1, 1)
    assert set(_raw()["providers"]) == set(KINDS)
    for kind in ("openai", "anthropic", "gemini", "simulator"):
        models = catalog.models(kind)
        assert len(models) >= 3, kind
        for entry in models:
            assert entry.price.input_per_mtok_usd > 0, entry
            assert entry.price.output_per_mtok_usd >= entry.price.input_per_mtok_usd, entry
            assert entry.context_window is None or entry.context_window >= 1000, entry
            assert "chat" in entry.capabilities, entry
    assert {m.model for m in catalog.models("simulator")} == {
        "sim-gpt-mini", "sim-claude-haiku", "sim-gemini-flash"}
    # Azure lists OpenAI's models and prices; openai_compatible has none of its own.
    assert catalog.models("azure_openai") == catalog.models("openai")
    assert catalog.models("openai_compatible") == ()
    assert catalog.models("no-such-kind") == ()


def test_prices_are_exact_decimals_from_the_file() -> None:
    catalog = load_catalog()
    mini = catalog.price("openai", "gpt-4o-mini")
    assert mini == Price(Decimal("0.15"), Decimal("0.60"))
    assert isinstance(mini.input_per_mtok_usd, Decimal)
    assert catalog.price("anthropic", "claude-haiku-4-5") == Price(Decimal("1"), Decimal("5"))
    assert catalog.price("gemini", "gemini-2.5-flash") == Price(Decimal("0.30"),
                                                               Decimal("2.50"))
    assert load_catalog() is catalog  # parsed once per process


def test_dated_snapshots_are_priced_as_their_base_model() -> None:
    catalog = load_catalog()
    assert base_model_id("gpt-4o-mini-2024-07-18") == "gpt-4o-mini"
    assert base_model_id("claude-haiku-4-5-20251001") == "claude-haiku-4-5"
    assert base_model_id("gemini-2.5-flash") == "gemini-2.5-flash"
    assert base_model_id("o4-mini") == "o4-mini"
    assert catalog.price("openai", "gpt-4o-mini-2024-07-18") == catalog.price("openai",
                                                                              "gpt-4o-mini")
    assert catalog.price("anthropic", "claude-haiku-4-5-20251001") is not None
    assert catalog.price("openai", "gpt-unknown") is None
    assert catalog.price("anthropic", "gpt-4o-mini") is None  # prices are per kind


@pytest.mark.parametrize(("tokens_in", "tokens_out", "price", "expected"), [
    (1_000_000, 0, ("0.15", "0.60"), "0.15"),
    (0, 1_000_000, ("0.15", "0.60"), "0.60"),
    (1234, 567, ("0.15", "0.60"), "0.0005253"),  # 0.0001851 + 0.0003402
    (1, 1, ("0.05", "0.40"), "0.00000045"),
    (200_000, 8_000, ("1.25", "10"), "0.33"),
    (0, 0, ("2.50", "10"), "0"),
    (3, 0, ("0.0000005", "0"), "0.000000000002"),  # 1.5e-12 rounds half-even to 2e-12
    (1, 0, ("0.0000005", "0"), "0"),  # 0.5e-12 rounds half-even to 0
])
def test_cost_is_tokens_times_price_per_million(tokens_in: int, tokens_out: int,
                                                price: tuple[str, str], expected: str) -> None:
    cost = cost_usd(tokens_in, tokens_out, Price.of(*price))
    assert cost == Decimal(expected)


def test_cost_has_no_float_drift_when_summed() -> None:
    price = Price.of("0.1", "0.3")
    one = cost_usd(1, 1, price)
    assert one is not None
    assert one == Decimal("0.0000004")
    assert sum([one] * 1_000_000, Decimal(0)) == Decimal("0.4")
    # The float a JSON body carries is the nearest double to the exact value.
    assert float(cost_usd(1234, 567, Price.of("0.15", "0.6")) or 0) == 0.0005253


def test_unknown_price_or_usage_has_no_cost() -> None:
    price = Price.of("1", "2")
    assert cost_usd(10, 10, None) is None
    assert cost_usd(None, 10, price) is None
    assert cost_usd(10, None, price) is None
    with pytest.raises(ValueError, match="negative"):
        cost_usd(-1, 0, price)


@pytest.mark.parametrize("bad", [-1, "NaN", "Infinity", "abc", None, True])
def test_prices_must_be_finite_non_negative_numbers(bad: object) -> None:
    with pytest.raises(CatalogError):
        Price.of(bad, "1")


def _broken(edit: Any) -> dict[str, Any]:
    data = copy.deepcopy(_raw())
    edit(data)
    return data


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d.update(effective_date="soon"), "effective_date"),
    (lambda d: d["providers"].update(mystery={"models": []}), "unknown provider kinds"),
    (lambda d: d["providers"]["openai"]["models"][0].update(input_per_mtok_usd=-1),
     "openai/gpt-5.5"),
    (lambda d: d["providers"]["gemini"]["models"][0].update(context_window=0),
     "context_window"),
    (lambda d: d["providers"]["simulator"]["models"].append(
        dict(d["providers"]["simulator"]["models"][0])), "listed twice"),
    (lambda d: d["providers"]["azure_openai"].update(same_as="nothing"), "same_as"),
    (lambda d: d["providers"]["anthropic"]["models"].append({"context_window": 5}),
     "'model' name"),
])
def test_a_malformed_catalog_is_refused_with_the_entry_named(edit: Any, message: str) -> None:
    assert parse_catalog(_raw()).effective_date == load_catalog().effective_date
    with pytest.raises(CatalogError, match=message):
        parse_catalog(_broken(edit))
