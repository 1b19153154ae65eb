"""Pricing policies: rate cards in ``pricing/*.toml``, validated on load.

A *rate card* is one TOML file: the policy it belongs to, a currency, a half-open effective
range ``[effective_from, effective_to)``, its ``[[rates]]``, optional ``[[fixed_fees]]`` and
an optional ``[object_storage]`` block that derives replication-aware rates. A *policy* is
all cards naming it; they may not overlap in time. Prices are strings (never floats).

Every error names the file, the line and the key (``standard.toml:14: rates[2].unit_price:
...``). See docs/metering-rules.md and pricing/README.md for the format.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from metering import tomlfile
from metering.errors import PricingError
from metering.rating.products import CHARGE_MODELS, PRODUCTS
from metering.rating.toml_lines import KeyPath, locate

NANO = Decimal("0.000000001")
MAX_PRICE = Decimal("1000000000")


@dataclass(frozen=True)
class Tier:
    """A band ``[lower, upper)`` of the month's quantity priced at ``unit_price``."""

    lower: Decimal
    upper: Decimal | None
    unit_price: Decimal


@dataclass(frozen=True)
class Rate:
    product: str
    dimension: str  # '*' matches any dimension without a rate of its own
    model: str  # per_unit | graduated | volume
    tiers: tuple[Tier, ...]
    per: int = 1  # count products: price per `per` units
    derived_from: str = ""  # how a replication-aware rate was computed


@dataclass(frozen=True)
class FixedFee:
    fee_id: str
    description: str
    amount: Decimal


@dataclass(frozen=True)
class RateCard:
    card_id: str
    policy: str
    currency: str
    effective_from: datetime
    effective_to: datetime | None
    minimum_monthly_charge: Decimal
    rates: tuple[Rate, ...]
    fixed_fees: tuple[FixedFee, ...]
    source: str


@dataclass(frozen=True)
class Pricing:
    """Every rate card found in a pricing directory, grouped into policies."""

    cards: tuple[RateCard, ...]
    policies: Mapping[str, tuple[RateCard, ...]] = field(default_factory=dict)

    def currency_of(self, policy: str) -> str:
        return self.policies[policy][0].currency


class _Doc:
    """One parsed file and its text, so errors can name the line of a key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.text = tomlfile.read_text(
            path, lambda p: PricingError(f"{path.name}: cannot read: {p}")
        )
        self.data = tomlfile.parse(self.text, lambda p: PricingError(f"{path.name}: {p}"))

    def error(self, path: KeyPath, problem: str) -> PricingError:
        key = ""
        for part in path:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else part)
        line = locate(self.text, path)
        where = f"{self.path.name}:{line}" if line else self.path.name
        return PricingError(f"{where}: {key}: {problem}")

    def get(self, table: Mapping[str, Any], path: KeyPath, kind: type, default: Any = ...) -> Any:
        name = str(path[-1])
        if name not in table:
            if default is ...:
                raise self.error(path, "is required")
            return default
        value = table[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(path, f"must be {kind.__name__}, got {type(value).__name__}")
        return value

    def decimal(self, table: Mapping[str, Any], path: KeyPath, default: Any = ...) -> Any:
        """A price or quantity written as a string: exact, non-negative, at most 9 decimals."""
        name = str(path[-1])
        if name not in table and default is not ...:
            return default
        value = table.get(name)
        if isinstance(value, float):
            raise self.error(path, f'write prices as strings ("{value}"), not floats')
        text = self.get(table, path, str)
        try:
            number = Decimal(text.replace("_", ""))
        except InvalidOperation:
            raise self.error(path, f"{text!r} is not a decimal number") from None
        if not number.is_finite() or number < 0:
            raise self.error(path, f"must be a non-negative number, got {text!r}")
        # the limit first: quantize raises for a number too large to hold 9 decimals
        if number >= MAX_PRICE or number != number.quantize(NANO):
            raise self.error(path, f"{text!r} has more than 9 decimals or is too large")
        return number

    def money(self, table: Mapping[str, Any], path: KeyPath, default: Any = ...) -> Any:
        """An amount of money: a price string with at most 2 decimals."""
        value = self.decimal(table, path, default)
        if value != value.quantize(Decimal("0.01")):
            raise self.error(path, f"an amount has at most 2 decimals, got {value}")
        return value

    def instant(self, table: Mapping[str, Any], path: KeyPath, default: Any = ...) -> Any:
        name = str(path[-1])
        if name not in table and default is not ...:
            return default
        value = self.get(table, path, object)
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise self.error(path, "needs a time zone (write ...T00:00:00Z)")
            value = value.astimezone(UTC)
        elif isinstance(value, date):
            value = datetime(value.year, value.month, value.day, tzinfo=UTC)
        else:
            raise self.error(path, "must be a TOML date or date-time (2026-10-01T00:00:00Z)")
        if value.minute or value.second or value.microsecond:
            raise self.error(path, "rate cards change on whole hours")
        return value


def _tiers(doc: _Doc, raw: Mapping[str, Any], path: KeyPath, model: str) -> tuple[Tier, ...]:
    if model == "per_unit":
        if "tiers" in raw:
            raise doc.error([*path, "tiers"], "only graduated or volume rates have tiers")
        return (Tier(Decimal(0), None, doc.decimal(raw, [*path, "unit_price"])),)
    if "unit_price" in raw:
        raise doc.error([*path, "unit_price"], f"a {model} rate gives its prices in tiers")
    bands = doc.get(raw, [*path, "tiers"], list)
    if not bands:
        raise doc.error([*path, "tiers"], "needs at least one tier")
    tiers: list[Tier] = []
    lower = Decimal(0)
    for i, band in enumerate(bands):
        where = [*path, "tiers"]
        if not isinstance(band, dict):
            raise doc.error(
                where, f"tier {i + 1} must be a table {{ up_to = ..., unit_price = ... }}"
            )
        price = doc.decimal(band, [*where, "unit_price"]) if "unit_price" in band else None
        if price is None:
            raise doc.error(where, f"tier {i + 1}: unit_price is required")
        upper = doc.decimal(band, [*where, "up_to"], None)
        last = i == len(bands) - 1
        if (upper is None) != last:
            raise doc.error(where, f"tier {i + 1}: every tier but the last needs up_to")
        if upper is not None and upper <= lower:
            raise doc.error(where, f"tier {i + 1}: up_to must grow ({upper} <= {lower})")
        tiers.append(Tier(lower, upper, price))
        lower = upper if upper is not None else lower
    return tuple(tiers)


def _rate(doc: _Doc, raw: Any, i: int) -> Rate:
    path: list[str | int] = ["rates", i]
    if not isinstance(raw, dict):
        raise doc.error(path, "must be a table")
    product = doc.get(raw, [*path, "product"], str)
    if product not in PRODUCTS:
        raise doc.error(
            [*path, "product"], f"unknown product {product!r}; one of {sorted(PRODUCTS)}"
        )
    model = doc.get(raw, [*path, "model"], str, "per_unit")
    if model not in CHARGE_MODELS:
        raise doc.error([*path, "model"], f"unknown model {model!r}; one of {CHARGE_MODELS}")
    per = doc.get(raw, [*path, "per"], int, 1)
    if per not in (1, 1000) or (per != 1 and PRODUCTS[product].billing_basis != "count"):
        raise doc.error([*path, "per"], "only count products (requests) may be priced per 1000")
    known = {"product", "dimension", "model", "unit_price", "tiers", "per", "description"}
    for key in raw:
        if key not in known:
            raise doc.error([*path, key], f"unknown key; expected one of {sorted(known)}")
    return Rate(
        product=product,
        dimension=doc.get(raw, [*path, "dimension"], str, "*"),
        model=model,
        tiers=_tiers(doc, raw, path, model),
        per=per,
    )


def _fees(doc: _Doc) -> tuple[FixedFee, ...]:
    fees = []
    for i, raw in enumerate(doc.get(doc.data, ["fixed_fees"], list, [])):
        path: list[str | int] = ["fixed_fees", i]
        fees.append(
            FixedFee(
                fee_id=doc.get(raw, [*path, "id"], str),
                description=doc.get(raw, [*path, "description"], str),
                amount=doc.money(raw, [*path, "amount"]),
            )
        )
    return tuple(fees)


def load_rate_card(path: Path) -> RateCard:
    """Parse and validate one rate card file."""
    from metering.rating.charge_basis import charge_basis_rates
    from metering.rating.replication import derived_storage_rates

    doc = _Doc(path)
    head = doc.get(doc.data, ["rate_card"], dict)
    card = ["rate_card"]
    currency = doc.get(head, [*card, "currency"], str)
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise doc.error([*card, "currency"], f"must be an ISO 4217 code like EUR, got {currency!r}")
    start = doc.instant(head, [*card, "effective_from"])
    end = doc.instant(head, [*card, "effective_to"], None)
    if end is not None and end <= start:
        raise doc.error([*card, "effective_to"], "must be after effective_from")
    rates = [_rate(doc, raw, i) for i, raw in enumerate(doc.get(doc.data, ["rates"], list, []))]
    rates += derived_storage_rates(doc, rates)
    rates += charge_basis_rates(doc, rates)
    seen: set[tuple[str, str]] = set()
    for i, rate in enumerate(rates):
        key = (rate.product, rate.dimension)
        if key in seen:
            raise doc.error(["rates", i, "dimension"], f"a second rate for {key[0]}/{key[1]}")
        seen.add(key)
    return RateCard(
        card_id=doc.get(head, [*card, "id"], str),
        policy=doc.get(head, [*card, "policy"], str),
        currency=currency,
        effective_from=start,
        effective_to=end,
        minimum_monthly_charge=doc.money(head, [*card, "minimum_monthly_charge"], Decimal(0)),
        rates=tuple(rates),
        fixed_fees=_fees(doc),
        source=path.name,
    )


def load_pricing(directory: Path) -> Pricing:
    """Load every ``*.toml`` rate card under ``directory`` and check the policies they form."""
    if not directory.is_dir():
        raise PricingError(f"pricing directory {directory.name!r} does not exist")
    cards = tuple(load_rate_card(p) for p in sorted(directory.glob("*.toml")))
    if not cards:
        raise PricingError(f"no rate cards (*.toml) in pricing directory {directory.name!r}")
    ids: dict[str, str] = {}
    policies: dict[str, list[RateCard]] = {}
    for card in cards:
        if card.card_id in ids:
            raise PricingError(
                f"{card.source}: rate_card.id {card.card_id!r} is also in {ids[card.card_id]}"
            )
        ids[card.card_id] = card.source
        policies.setdefault(card.policy, []).append(card)
    for name, group in policies.items():
        group.sort(key=lambda c: c.effective_from)
        for before, after in itertools.pairwise(group):
            if after.currency != before.currency:
                raise PricingError(
                    f"{after.source}: rate_card.currency {after.currency} differs from "
                    f"{before.source} ({before.currency}) in policy {name!r}"
                )
            if before.effective_to is None or before.effective_to > after.effective_from:
                raise PricingError(
                    f"{after.source}: rate_card.effective_from overlaps {before.source} "
                    f"in policy {name!r} (close the earlier card with effective_to)"
                )
    return Pricing(cards, {name: tuple(group) for name, group in policies.items()})
