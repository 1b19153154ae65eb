"""FOCUS charge rows per day (`[invoicing] focus_period = "day"`, `close --focus-period day`):
each usage row of the whole-month export split over the days its resource was rated, to the
cent, summing to the same documents."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow.parquet as pq
import pytest

from metering.close.settings import load_settings
from metering.errors import ConfigError
from metering.rating.run import output_path
from tests.close.builders import MONTH, build_month, make_config
from tests.close.test_close import close, focus_sums
from tests.reports import focus_rules

KEY = ("InvoiceId", "ResourceId", "SkuPriceId")  # a month row's identity


def _sums(rows: list[dict[str, object]]) -> dict[tuple[object, ...], tuple[Decimal, ...]]:
    sums: dict[tuple[object, ...], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0), Decimal(0)]
    )
    for row in rows:
        if row["ChargeCategory"] != "Usage":
            continue
        total = sums[tuple(row[k] for k in KEY)]
        for i, column in enumerate(("BilledCost", "PricingQuantity", "ConsumedQuantity")):
            total[i] += row[column]  # type: ignore[operator]
    return {key: tuple(v) for key, v in sums.items()}


def test_daily_rows_split_each_usage_row_over_its_days_to_the_cent(tmp_path) -> None:
    monthly = close(build_month(tmp_path / "month"))
    config = build_month(tmp_path / "day")
    daily = close(config, focus_period="day")
    assert focus_sums(daily) == focus_sums(monthly)  # every document's total, unchanged
    month_rows = pq.read_table(monthly.outputs["focus_parquet"]).to_pylist()
    day_table = pq.read_table(daily.outputs["focus_parquet"])
    day_rows = day_table.to_pylist()
    assert day_table.schema == pq.read_table(monthly.outputs["focus_parquet"]).schema
    assert _sums(day_rows) == _sums(month_rows)  # cost and quantities of each row, exactly
    assert focus_rules.violations(day_table) == {}

    month_start, month_end = MONTH.start, MONTH.end
    split = [
        r
        for r in day_rows
        if r["ChargePeriodEnd"] - r["ChargePeriodStart"] < MONTH.end - MONTH.start
    ]
    assert split and all(r["ChargeCategory"] == "Usage" for r in split)
    for row in split:
        start = row["ChargePeriodStart"]
        assert row["ChargePeriodEnd"] - start == timedelta(days=1)
        assert start.astimezone(UTC).time() == datetime.min.time()
        assert month_start <= start < month_end
    # a row per day its resource was rated, and no other day (this case's rated usage names
    # no rate card: as before usage rows named theirs)
    rated = pq.read_table(output_path(config.lake, "rated_usage", MONTH)).to_pylist()
    days = {
        (r["resource_id"], f"{r['product']}:{r['dimension']}", r["usage_date"])
        for r in rated
        if r["quantity"] != 0
    }
    shown = {
        (r["ResourceId"], r["SkuId"], r["ChargePeriodStart"].astimezone(UTC).date()) for r in split
    }
    assert shown and shown <= days
    by_resource = {(r, s) for r, s, _ in shown}
    assert {d for d in days if d[:2] in by_resource} == shown
    # whole-month rows stay for what no day carries (tax here)
    whole = [r for r in day_rows if r not in split]
    assert {r["ChargeCategory"] for r in whole} <= {"Tax", "Credit", "Adjustment", "Usage"}
    assert all(r["ChargePeriodStart"] == month_start for r in whole)


def test_the_focus_period_comes_from_config_and_is_checked(tmp_path) -> None:
    assert load_settings(make_config(tmp_path / "a")).focus_period == "month"
    config = make_config(tmp_path / "b", invoicing='focus_period = "day"')
    assert load_settings(config).focus_period == "day"
    with pytest.raises(ConfigError, match="focus_period"):
        load_settings(make_config(tmp_path / "c", invoicing='focus_period = "week"'))
