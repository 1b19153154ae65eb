"""The audits fail on bad data: each is run alone on hand-made inputs that break its invariant."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pyarrow as pa

from metering.errors import RatingError
from metering.rating.day_digest import checked, usage_days_of
from metering.rating.engine import audit, connect, register_table, run_models
from metering.rating.intervals import INTERVALS_SCHEMA
from tests.rating.conftest import OCT, at

Q18 = pa.decimal128(38, 18)
TS = INTERVALS_SCHEMA.field("interval_start").type
# the columns of usage_intervals the audits read, typed as the lake has them
USAGE = pa.schema(
    [
        INTERVALS_SCHEMA.field(name)
        for name in (
            "site",
            "org_name",
            "resource_id",
            "product",
            "dimension",
            "measure",
            "level",
            "interval_start",
            "interval_end",
        )
    ]
)
PARTS = pa.schema(
    [
        ("site", pa.string()),
        ("resource_id", pa.string()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("interval_start", TS),
        ("quantity_exact", Q18),
    ]
)
PARAMS = pa.schema([("month_start", TS)])


def usage(level: str, start: datetime, hours: float, **kw: Any) -> dict[str, Any]:
    row = {
        "site": "az1",
        "org_name": "Acme",
        "resource_id": "vm-1",
        "product": "vcpu",
        "dimension": "",
        "measure": "level",
        "level": D(level),
        "interval_start": start,
        "interval_end": start + timedelta(hours=hours),
    }
    return {**row, **kw}


KEYS = pa.schema(
    [
        ("tenant_id", pa.string()),
        ("site", pa.string()),
        ("product", pa.string()),
        ("dimension", pa.string()),
        ("usage_quantity", Q18),
    ]
)
UNRATED = pa.schema([*list(KEYS)[:4], pa.field("quantity_exact", Q18)])


def rated(quantity: str, **kw: Any) -> dict[str, Any]:
    """A row of int_charge_keys: the rated sum of one key (and card)."""
    row = {"tenant_id": "acme", "site": "az1", "product": "vcpu", "dimension": ""}
    return {**row, **kw, "usage_quantity": D(quantity)}


def unrated(quantity: str, **kw: Any) -> dict[str, Any]:
    row = {"tenant_id": "acme", "site": "az1", "product": "vcpu", "dimension": ""}
    return {**row, **kw, "quantity_exact": D(quantity)}


def conservation(
    rows: list[dict[str, Any]], keys: list[dict[str, Any]], parts: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    con = connect()
    try:
        params = pa.Table.from_pylist([{"month_start": OCT.start}], PARAMS)
        register_table(con, "rating_params", params)
        metered = [{"tenant_id": "acme", **row} for row in rows]
        schema = USAGE.append(pa.field("tenant_id", pa.string()))
        register_table(con, "int_rating_usage", pa.Table.from_pylist(metered, schema))
        # the metered side: the intervals summed per key and level by the rating's own model
        run_models(con, ["intermediate/int_usage_levels.sql"], materialize=True)
        register_table(con, "int_charge_keys", pa.Table.from_pylist(keys, KEYS))
        register_table(con, "int_unrated_parts", pa.Table.from_pylist(parts, UNRATED))
        return audit(con, "audits/audit_conservation.sql")
    finally:
        con.close()


def test_conservation_holds_when_rated_and_unrated_quantities_add_up_exactly() -> None:
    # 3 vCPU for 2 h 30 min: 7.5 vCPU-hours, split at a card change into 1 h and 1 h, and
    # the last 30 minutes have no price
    rows = [usage("3", at(1), 2.5)]
    assert conservation(rows, [rated("3"), rated("3")], [unrated("1.5")]) == []


def test_conservation_catches_a_key_short_by_the_last_digit() -> None:
    rows = [usage("3", at(1), 2)]
    bad = conservation(rows, [rated("3"), rated("2.999999999999999999")], [])
    assert [(b["metered_quantity"], b["accounted_quantity"]) for b in bad] == [
        (D(6), D("5.999999999999999999"))
    ]


def test_conservation_catches_usage_never_rated_and_usage_rated_twice() -> None:
    rows = [usage("1", at(1), 1), usage("2", at(1), 1, product="ram")]
    bad = conservation(rows, [rated("4", product="ram")], [])
    assert [(b["product"], b["metered_quantity"], b["accounted_quantity"]) for b in bad] == [
        ("ram", D(2), D(4)),
        ("vcpu", D(1), D(0)),
    ]


def test_conservation_catches_rated_quantity_with_nothing_metered() -> None:
    bad = conservation([], [rated("1", site="az2")], [])
    assert [(b["site"], b["metered_quantity"], b["accounted_quantity"]) for b in bad] == [
        ("az2", D(0), D(1))
    ]


def test_conservation_sums_counts_and_each_level_exactly() -> None:
    # requests: 5 twice on one key; a level of 9 decimals over three 20-minute intervals,
    # whose nano-hours (333333333, 333333333, 333333334) add up to one hour exactly
    rows = [usage("5", at(1), 1, measure="count")] * 2
    rows += [usage("0.123456789", at(2) + timedelta(minutes=20 * i), 1 / 3, product="ram")
             for i in range(3)]  # fmt: skip
    keys = [rated("10"), rated("0.123456789", product="ram")]
    assert conservation(rows, keys, []) == []
    short = [rated("5"), rated("0.123456788876543211", product="ram")]
    bad = conservation(rows, short, [])
    assert [(b["product"], b["accounted_quantity"]) for b in bad] == [
        ("ram", D("0.123456788876543211")),
        ("vcpu", D(5)),
    ]


def test_conservation_separates_tenants_sites_products_and_dimensions() -> None:
    rows = [usage("1", at(1), 1), usage("1", at(1), 1, site="az2")]
    # az2's quantity is booked on another dimension: az2's usage is unaccounted for
    keys = [rated("1"), rated("1", site="az2", dimension="Gold")]
    bad = conservation(rows, keys, [])
    assert [(b["site"], b["dimension"], b["metered_quantity"]) for b in bad] == [
        ("az2", "", D(1)),
        ("az2", "Gold", D(0)),
    ]
    elsewhere = [rated("1"), rated("1", site="az2", tenant_id="beta")]
    assert {b["tenant_id"] for b in conservation(rows, elsewhere, [])} == {"acme", "beta"}


DAY = date(2026, 10, 3)
# usage_intervals as a day file holds them (the columns the day's check and digest read)
DAY_USAGE = pa.schema(
    [INTERVALS_SCHEMA.field("usage_date"), *USAGE, pa.field("resource_type", pa.string())]
)


def day_rows(rows: list[dict[str, Any]]) -> pa.Table:
    typed = [
        {"usage_date": row["interval_start"].date(), "resource_type": "vm", **row} for row in rows
    ]
    return pa.Table.from_pylist(typed, DAY_USAGE)


def day_problems(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What consolidation's check of one day finds in ``rows`` (none: the day is written)."""
    try:
        checked(day_rows(rows), DAY)
    except RatingError as exc:
        return [{"message": exc.message}]
    return []


def double_counted(
    rated: list[dict[str, Any]], consolidated: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The month's audit: ``rated`` as the month's intervals, the days as ``consolidated``
    wrote them (their digests)."""
    con = connect()
    try:
        register_table(con, "int_rating_usage", day_rows(rated))
        register_table(con, "usage_days", usage_days_of(day_rows(consolidated)))
        return audit(con, "audits/audit_no_double_counting.sql")
    finally:
        con.close()


def test_a_day_with_requests_counted_twice_for_one_hour_is_not_written() -> None:
    t = at(3)
    gets = {"resource_id": "bucket-1", "product": "object_requests", "dimension": "GET"}
    counts = [usage("120", t + timedelta(hours=h), 1, measure="count", **gets) for h in range(3)]
    assert day_problems(counts) == []  # consecutive hours: each counted once
    other = usage("7", t, 1, measure="count", **{**gets, "dimension": "PUT"})
    assert day_problems([*counts, other]) == []  # another operation, same hour
    twice = usage("120", t + timedelta(hours=1), 1, measure="count", **gets)
    [problem] = day_problems([*counts, twice])
    assert problem["message"].startswith(
        "consolidating 2026-10-03: audit audit_day_intervals found 1 bad row(s), so the day "
        "was not written: {'problem': 'overlap', 'site': 'az1', 'resource_id': 'bucket-1'"
    )


def test_a_day_with_a_level_held_twice_is_not_written() -> None:
    t = at(3)
    held = [usage("2", t, 2), usage("2", t + timedelta(hours=2), 1)]
    assert day_problems(held) == []
    [problem] = day_problems([*held, usage("4", t + timedelta(hours=1), 1)])
    assert "found 1 bad row(s)" in problem["message"]
    assert "'problem': 'overlap'" in problem["message"]
    assert "2026, 10, 3, 1, 0" in problem["message"]  # the interval that starts inside another


def test_a_day_with_an_interval_past_midnight_is_not_written() -> None:
    late = usage("2", at(3, 23), 2)  # 23:00 to 01:00 the next day
    [problem] = day_problems([late])
    assert "'problem': 'outside the day'" in problem["message"]
    empty = usage("2", at(3, 5), 0)  # ends where it starts
    assert "'problem': 'outside the day'" in day_problems([empty])[0]["message"]


def test_the_month_audit_passes_days_rated_as_they_were_consolidated() -> None:
    days = [
        usage("2", at(3), 5),
        usage("2", at(4), 24),
        usage("1", at(4, 3), 1, resource_id="vm-2"),
    ]
    assert double_counted(days, days) == []


def test_the_month_audit_catches_a_day_rated_twice_in_part_or_changed() -> None:
    days = [
        usage("2", at(3), 5),
        usage("2", at(4), 24),
        usage("1", at(4, 3), 1, resource_id="vm-2"),
    ]
    # the 4th's rows once more (a copy of the day in another day's file)
    bad = double_counted([*days, *days[1:]], days)
    assert [(b["problem"], b["usage_date"]) for b in bad] == [
        ("not as consolidated: 4 interval(s) rated, 2 in its day file", date(2026, 10, 4))
    ]
    # one of its rows lost
    bad = double_counted(days[:2], days)
    assert [b["problem"] for b in bad] == [
        "not as consolidated: 1 interval(s) rated, 2 in its day file"
    ]
    # the same count, an interval moved or a level changed after the day was checked
    moved = [days[0], usage("2", at(4, 1), 23), days[2]]
    assert [b["usage_date"] for b in double_counted(moved, days)] == [date(2026, 10, 4)]
    changed = [days[0], days[1], usage("3", at(4, 3), 1, resource_id="vm-2")]
    assert [b["usage_date"] for b in double_counted(changed, days)] == [date(2026, 10, 4)]


def test_the_month_audit_refuses_a_day_whose_file_records_no_digest() -> None:
    days = [usage("2", at(3), 5), usage("2", at(4), 24)]
    bad = double_counted(days, days[:1])
    assert [b["problem"] for b in bad] == [
        "not as consolidated: 1 interval(s) rated, no digest in its day file"
    ]
