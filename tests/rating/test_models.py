"""Row-in/row-out tests of single SQL models: register the model's inputs, run it alone."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D
from typing import Any

import pyarrow as pa

from metering.rating.engine import connect, register_table, run_models
from metering.rating.tables import PRICE, TS
from tests.rating.conftest import at


def run_model(model: str, inputs: dict[str, pa.Table]) -> list[dict[str, Any]]:
    con = connect()
    try:
        for name, table in inputs.items():
            register_table(con, name, table)
        run_models(con, [model])
        return con.sql(f"select * from {model.split('/')[-1][:-4]}").to_arrow_table().to_pylist()
    finally:
        con.close()


QTY = pa.decimal128(38, 9)
PERIODS = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("product", pa.string()),
        ("rate_card_id", pa.string()),
        ("rate_dimension", pa.string()),
        ("model", pa.string()),
        ("per", pa.int32()),
        ("billing_basis", pa.string()),
        ("billing_unit", pa.string()),
        ("currency", pa.string()),
        ("line_dimension", pa.string()),
        ("line_site", pa.string()),
        ("price_from", TS),
        ("price_to", TS),
        ("usage_quantity", QTY),
        ("usage_rows", pa.int64()),
        ("filled_hours", QTY),
        ("billing_quantity", QTY),
    ]
)
RATES = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("rate_card_id", pa.string()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("tier_no", pa.int32()),
        ("tier_lower", PRICE),
        ("tier_upper", PRICE),
        ("unit_price", PRICE),
        ("derived_from", pa.string()),
    ]
)


def period(card: str, start: int, end: int, qty: str, model: str = "graduated") -> dict[str, Any]:
    return {
        "tenant_id": "t",
        "product": "object_storage",
        "rate_card_id": card,
        "rate_dimension": "*",
        "model": model,
        "per": 1,
        "billing_basis": "month",
        "billing_unit": "GB-month",
        "currency": "EUR",
        "line_dimension": "*",
        "line_site": "*",
        "price_from": at(start),
        "price_to": at(end) if end <= 31 else at(31) + timedelta(days=1),
        "usage_quantity": D(qty),
        "usage_rows": 1,
        "filled_hours": D(0),
        "billing_quantity": D(qty),
    }


def tiers(card: str, low: str, high: str) -> list[dict[str, Any]]:
    base = {
        "tenant_id": "t",
        "rate_card_id": card,
        "product": "object_storage",
        "dimension": "*",
        "derived_from": "",
    }
    return [
        {**base, "tier_no": 1, "tier_lower": D(0), "tier_upper": D(1000), "unit_price": D(low)},
        {**base, "tier_no": 2, "tier_lower": D(1000), "tier_upper": None, "unit_price": D(high)},
    ]


def test_int_charge_bands_graduated_fills_bands_in_time_order_across_cards() -> None:
    out = run_model(
        "intermediate/int_charge_bands.sql",
        {
            "int_charge_periods": pa.Table.from_pylist(
                [period("a", 1, 15, "600"), period("b", 15, 32, "900")], schema=PERIODS
            ),
            "int_tenant_rates": pa.Table.from_pylist(
                tiers("a", "0.02", "0.015") + tiers("b", "0.018", "0.012"), schema=RATES
            ),
        },
    )
    bands = sorted(
        (r["rate_card_id"], r["tier_no"], r["band_quantity"], r["unit_price"]) for r in out
    )
    assert bands == [
        ("a", 1, D(600), D("0.02")),
        ("b", 1, D(400), D("0.018")),
        ("b", 2, D(500), D("0.012")),
    ]


def test_int_charge_bands_volume_picks_the_band_of_the_month_total() -> None:
    out = run_model(
        "intermediate/int_charge_bands.sql",
        {
            "int_charge_periods": pa.Table.from_pylist(
                [period("a", 1, 15, "600", "volume"), period("b", 15, 32, "400", "volume")],
                schema=PERIODS,
            ),
            "int_tenant_rates": pa.Table.from_pylist(
                tiers("a", "0.02", "0.015") + tiers("b", "0.018", "0.012"), schema=RATES
            ),
        },
    )
    # month total 1,000 is within band 1 (lower < total <= up_to): every unit at band 1
    bands = sorted((r["rate_card_id"], r["tier_no"], r["band_quantity"]) for r in out)
    assert bands == [("a", 1, D(600)), ("b", 1, D(400))]


HOLDS = pa.schema(
    [
        ("site", pa.string()),
        ("dataset", pa.string()),
        ("org_name", pa.string()),
        ("resource_type", pa.string()),
        ("resource_id", pa.string()),
        ("resource_name", pa.string()),
        ("parent_id", pa.string()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("level", PRICE),
        ("interval_start", TS),
        ("interval_end", TS),
        ("samples", pa.int64()),
    ]
)


def test_int_level_intervals_merges_unchanged_contiguous_holds_only() -> None:
    def hold(h: int, level: int, end: int | None = None) -> dict[str, Any]:
        return {
            "site": "az1",
            "dataset": "vcd_vm",
            "org_name": "acme",
            "resource_type": "vm",
            "resource_id": "vm1",
            "resource_name": "web",
            "parent_id": None,
            "product": "vcpu",
            "dimension": "",
            "level": D(level),
            "interval_start": at(2, h),
            "interval_end": at(2, end if end is not None else h + 1),
            "samples": 1,
        }

    rows = [hold(0, 2), hold(1, 2), hold(2, 4), hold(3, 4, end=5), hold(7, 4), hold(8, 4)]
    out = run_model(
        "intermediate/int_level_intervals.sql",
        {
            "int_resource_intervals": pa.Table.from_pylist(rows, schema=HOLDS),
        },
    )
    spans = sorted(
        (r["interval_start"].hour, r["interval_end"].hour, r["level"], r["samples"]) for r in out
    )
    assert spans == [(0, 2, D(2), 2), (2, 5, D(4), 2), (7, 9, D(4), 2)]
