"""The audits fail on bad data: each is run alone on hand-made inputs that break its invariant."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D
from typing import Any

import pyarrow as pa

from metering.rating.engine import audit, connect, register_table
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
        "resource_id": "vm-1",
        "product": "vcpu",
        "dimension": "",
        "measure": "level",
        "level": D(level),
        "interval_start": start,
        "interval_end": start + timedelta(hours=hours),
    }
    return {**row, **kw}


def part(quantity: str, start: datetime, **kw: Any) -> dict[str, Any]:
    row = {
        "site": "az1",
        "resource_id": "vm-1",
        "product": "vcpu",
        "dimension": "",
        "interval_start": start,
        "quantity_exact": D(quantity),
    }
    return {**row, **kw}


def conservation(
    rows: list[dict[str, Any]], rated: list[dict[str, Any]], unrated: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    con = connect()
    try:
        params = pa.Table.from_pylist([{"month_start": OCT.start}], PARAMS)
        register_table(con, "rating_params", params)
        register_table(con, "int_rating_usage", pa.Table.from_pylist(rows, USAGE))
        register_table(con, "int_rate_parts", pa.Table.from_pylist(rated, PARTS))
        register_table(con, "int_unrated_parts", pa.Table.from_pylist(unrated, PARTS))
        return audit(con, "audits/audit_conservation.sql")
    finally:
        con.close()


def test_conservation_holds_when_rated_and_unrated_parts_add_up_exactly() -> None:
    # 3 vCPU for 2 h 30 min: 7.5 vCPU-hours, split at a card change into 1 h and 1 h, and
    # the last 30 minutes have no price
    rows = [usage("3", at(1), 2.5)]
    rated = [part("3", at(1)), part("3", at(1))]
    unrated = [part("1.5", at(1))]
    assert conservation(rows, rated, unrated) == []


def test_conservation_catches_a_part_short_by_the_last_digit() -> None:
    rows = [usage("3", at(1), 2)]
    rated = [part("3", at(1)), part("2.999999999999999999", at(1))]
    bad = conservation(rows, rated, [])
    assert [(b["metered_quantity"], b["accounted_quantity"]) for b in bad] == [
        (D(6), D("5.999999999999999999"))
    ]


def test_conservation_catches_usage_with_no_part_and_a_part_counted_twice() -> None:
    rows = [usage("1", at(1), 1), usage("1", at(2), 1), usage("5", at(3), 1, measure="count")]
    rated = [part("1", at(2)), part("1", at(2)), part("5", at(3))]
    bad = conservation(rows, rated, [])
    assert [(b["interval_start"], b["accounted_quantity"]) for b in bad] == [
        (at(1), D(0)),
        (at(2), D(2)),
    ]


def test_conservation_compares_each_interval_on_a_shared_key_with_the_whole_key() -> None:
    # the same count metered twice for one hour (levels would be caught as an overlap first):
    # each row's 5 requests against the key's 10 rated
    rows = [usage("5", at(1), 1, measure="count")] * 2
    rated = [part("5", at(1))] * 2
    bad = conservation(rows, rated, [])
    assert bad and all(b["metered_quantity"] == D(5) for b in bad)
    assert {b["accounted_quantity"] for b in bad} == {D(10)}


def test_conservation_separates_sites_products_and_dimensions() -> None:
    rows = [usage("1", at(1), 1), usage("1", at(1), 1, site="az2")]
    # az2's part is booked on another dimension: az2's interval is unaccounted for
    rated = [part("1", at(1)), part("1", at(1), site="az2", dimension="Gold")]
    bad = conservation(rows, rated, [])
    assert [(b["site"], b["accounted_quantity"]) for b in bad] == [("az2", D(0))]


def double_counted(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    con = connect()
    try:
        schema = USAGE.append(pa.field("resource_type", pa.string()))
        typed = [{"resource_type": "vm", **row} for row in rows]
        register_table(con, "int_rating_usage", pa.Table.from_pylist(typed, schema))
        return audit(con, "audits/audit_no_double_counting.sql")
    finally:
        con.close()


def test_double_counting_audit_fails_on_requests_counted_twice_for_one_hour() -> None:
    t = at(3)
    gets = {"resource_id": "bucket-1", "product": "object_requests", "dimension": "GET"}
    counts = [usage("120", t + timedelta(hours=h), 1, measure="count", **gets) for h in range(3)]
    assert double_counted(counts) == []  # consecutive hours: each counted once
    other = usage("7", t, 1, measure="count", **{**gets, "dimension": "PUT"})
    assert double_counted([*counts, other]) == []  # another operation, same hour
    twice = usage("120", t + timedelta(hours=1), 1, measure="count", **gets)
    bad = double_counted([*counts, twice])
    assert [(r["problem"], r["resource_id"], r["interval_start"]) for r in bad] == [
        ("overlap", "bucket-1", t + timedelta(hours=1))
    ]


def test_double_counting_audit_fails_on_a_level_held_twice() -> None:
    t = at(3)
    held = [usage("2", t, 2), usage("2", t + timedelta(hours=2), 1)]
    assert double_counted(held) == []
    bad = double_counted([*held, usage("4", t + timedelta(hours=1), 1)])
    assert [(r["problem"], r["interval_start"]) for r in bad] == [
        ("overlap", t + timedelta(hours=1))
    ]
