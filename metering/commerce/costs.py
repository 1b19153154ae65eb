"""Cost cards: what serving each product costs the provider, effective-dated, validated on
load like rate cards (the same reader: every error names the file, the line and the key).

A cost card is one TOML file in the cost directory (``[costs] dir``, default
``<pricing_dir>/costs``)::

    [cost_card]
    id = "costs-2026"
    currency = "EUR"                     # margins are computed for tenants billed in it
    effective_from = 2026-01-01          # whole UTC days; effective_to exclusive, optional
    licence_point_value = "0.95"         # currency per licence point (if a cost is in points)

    [[costs]]
    product = "vcpu"                     # a product of docs/architecture.md
    dimension = "*"                      # optional; an exact dimension wins over '*'
    kind = "licence"                     # licence | infrastructure
    points = "0.0042"                    # licence points per billing unit ... or:
    # unit_cost = "0.0040"               # currency per billing unit (as on rate cards)
    per = 1                              # count products only: cost per 1,000 with per = 1000

Cards of one currency may not overlap. A product may have one licence and one
infrastructure cost per dimension. Amounts: see :mod:`metering.commerce.margin`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa

from metering.config import ProviderConfig
from metering.errors import PricingError
from metering.rating.policy import NANO, _Doc
from metering.rating.products import PRODUCTS

KINDS = ("licence", "infrastructure")
_TS = pa.timestamp("us", tz="UTC")
_COST = pa.decimal128(18, 9)

COST_CARDS = pa.schema(
    [
        ("cost_card_id", pa.string()),
        ("currency", pa.string()),
        ("valid_from", _TS),
        ("valid_to", _TS),
        ("licence_point_value", _COST),
        ("source", pa.string()),
    ]
)
COST_RATES = pa.schema(
    [
        ("cost_card_id", pa.string()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("kind", pa.string()),
        ("points", _COST),  # licence points per billing unit, or null
        ("unit_cost", _COST),  # currency per `per` billing units (points × point value)
        ("per", pa.int64()),
    ]
)


@dataclass(frozen=True)
class CostLine:
    product: str
    dimension: str
    kind: str
    unit_cost: Decimal  # currency per `per` billing units
    points: Decimal | None
    per: int = 1


@dataclass(frozen=True)
class CostCard:
    card_id: str
    currency: str
    effective_from: datetime
    effective_to: datetime | None
    licence_point_value: Decimal | None
    lines: tuple[CostLine, ...]
    source: str


def _whole_day(doc: _Doc, head: dict[str, Any], key: str, default: Any = ...) -> Any:
    value = doc.instant(head, ["cost_card", key], default)
    if value is not None and value.hour:
        raise doc.error(["cost_card", key], "cost cards change on whole days (00:00 UTC)")
    return value


def _line(doc: _Doc, raw: Any, i: int, point_value: Decimal | None) -> CostLine:
    path: list[str | int] = ["costs", i]
    if not isinstance(raw, dict):
        raise doc.error(path, "must be a table")
    known = {"product", "dimension", "kind", "unit_cost", "points", "per", "description"}
    for key in raw:
        if key not in known:
            raise doc.error([*path, key], f"unknown key; expected one of {sorted(known)}")
    product = doc.get(raw, [*path, "product"], str)
    if product not in PRODUCTS:
        raise doc.error(
            [*path, "product"], f"unknown product {product!r}; one of {sorted(PRODUCTS)}"
        )
    kind = doc.get(raw, [*path, "kind"], str)
    if kind not in KINDS:
        raise doc.error([*path, "kind"], f"unknown kind {kind!r}; one of {KINDS}")
    per = doc.get(raw, [*path, "per"], int, 1)
    if per not in (1, 1000) or (per != 1 and PRODUCTS[product].billing_basis != "count"):
        raise doc.error([*path, "per"], "only count products (requests) may cost per 1000")
    if ("unit_cost" in raw) == ("points" in raw):
        raise doc.error(path, "give exactly one of unit_cost (currency) or points (licence)")
    points = doc.decimal(raw, [*path, "points"], None)
    if points is not None:
        if kind != "licence":
            raise doc.error([*path, "points"], "only a licence cost is given in points")
        if point_value is None:
            raise doc.error([*path, "points"], "needs cost_card.licence_point_value")
        unit_cost = points * point_value  # exact; kept only when 9 decimals hold it
        if unit_cost != unit_cost.quantize(NANO):
            raise doc.error(
                [*path, "points"],
                f"points × licence_point_value = {unit_cost} has more than 9 decimals",
            )
    else:
        unit_cost = doc.decimal(raw, [*path, "unit_cost"])
    return CostLine(
        product, doc.get(raw, [*path, "dimension"], str, "*"), kind, unit_cost, points, per
    )


def load_cost_card(path: Path) -> CostCard:
    """Parse and validate one cost card file."""
    doc = _Doc(path)
    head = doc.get(doc.data, ["cost_card"], dict)
    for key in doc.data:
        if key not in ("cost_card", "costs"):
            raise doc.error([key], "unknown table; expected [cost_card] and [[costs]]")
    currency = doc.get(head, ["cost_card", "currency"], str)
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise doc.error(["cost_card", "currency"], f"must be an ISO 4217 code, got {currency!r}")
    start = _whole_day(doc, head, "effective_from")
    end = _whole_day(doc, head, "effective_to", None)
    if end is not None and end <= start:
        raise doc.error(["cost_card", "effective_to"], "must be after effective_from")
    point_value = doc.decimal(head, ["cost_card", "licence_point_value"], None)
    raw_lines = doc.get(doc.data, ["costs"], list, [])
    lines = [_line(doc, raw, i, point_value) for i, raw in enumerate(raw_lines)]
    seen: set[tuple[str, str, str]] = set()
    for i, line in enumerate(lines):
        which = (line.product, line.dimension, line.kind)
        if which in seen:
            raise doc.error(
                ["costs", i, "kind"], f"a second {line.kind} cost for {which[0]}/{which[1]}"
            )
        seen.add(which)
    return CostCard(
        card_id=doc.get(head, ["cost_card", "id"], str),
        currency=currency,
        effective_from=start,
        effective_to=end,
        licence_point_value=point_value,
        lines=tuple(lines),
        source=path.name,
    )


def load_costs(directory: Path) -> tuple[CostCard, ...]:
    """Every ``*.toml`` cost card of ``directory``, checked against each other."""
    if not directory.is_dir():
        raise PricingError(f"cost directory {directory.name!r} does not exist")
    cards = tuple(load_cost_card(p) for p in sorted(directory.glob("*.toml")))
    if not cards:
        raise PricingError(f"no cost cards (*.toml) in cost directory {directory.name!r}")
    ids: dict[str, str] = {}
    for card in cards:
        if card.card_id in ids:
            raise PricingError(
                f"{card.source}: cost_card.id {card.card_id!r} is also in {ids[card.card_id]}"
            )
        ids[card.card_id] = card.source
    by_currency = sorted(cards, key=lambda c: (c.currency, c.effective_from))
    for before, after in itertools.pairwise(by_currency):
        if before.currency != after.currency:
            continue
        if before.effective_to is None or before.effective_to > after.effective_from:
            raise PricingError(
                f"{after.source}: cost_card.effective_from overlaps {before.source} in "
                f"{after.currency} (close the earlier card with effective_to)"
            )
    return cards


def cost_dir(config: ProviderConfig) -> Path | None:
    """``[costs] dir``, else ``<pricing_dir>/costs`` when it exists; None: no cost cards."""
    section = config.section("costs")
    if "dir" in section.data:
        return section.path("dir", config.source_file.parent)
    default = config.pricing_dir / "costs"
    return default if default.is_dir() else None


def cost_tables(cards: tuple[CostCard, ...]) -> dict[str, pa.Table]:
    """``cost_cards`` and ``cost_rates`` as Arrow tables (warehouse and margin SQL)."""
    heads = [
        {
            "cost_card_id": c.card_id,
            "currency": c.currency,
            "valid_from": c.effective_from,
            "valid_to": c.effective_to,
            "licence_point_value": c.licence_point_value,
            "source": c.source,
        }
        for c in cards
    ]
    rates = [
        {
            "cost_card_id": c.card_id,
            "product": line.product,
            "dimension": line.dimension,
            "kind": line.kind,
            "points": line.points,
            "unit_cost": line.unit_cost,
            "per": line.per,
        }
        for c in cards
        for line in c.lines
    ]
    return {
        "cost_cards": pa.Table.from_pylist(heads, schema=COST_CARDS),
        "cost_rates": pa.Table.from_pylist(rates, schema=COST_RATES),
    }
