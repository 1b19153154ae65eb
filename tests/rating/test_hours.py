"""Hours are whole seconds from the month's start, whatever the intervals' sub-seconds."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from tests.rating.conftest import Rater, at, make_interval

CARD = '[[rates]]\nproduct = "vcpu"\nunit_price = "0.0125"\n'


def test_sub_second_bounds_count_whole_seconds_since_the_month_start(rater: Rater) -> None:
    # 01:00:00.7 → 03:00:00.2 is 3600 → 10800 whole seconds since the month's start: 2 hours
    # (the hours of adjacent intervals add up, whatever their fractions of a second)
    start = at(1, 1) + timedelta(microseconds=700_000)
    end = at(1, 3) + timedelta(microseconds=200_000)
    rater.card(CARD)
    result = rater.rate([make_interval(interval_start=start, interval_end=end, level=3)])
    (row,) = result["rated_usage"]
    (line,) = result["invoice_lines"]
    assert row["quantity"] == D(6) and line["list_amount"] == D("0.08")  # 0.075 half-up


def test_a_card_change_inside_a_sub_second_interval_splits_it_exactly(rater: Rater) -> None:
    rater.card(CARD, end="2026-10-01T02:00:00Z")
    rater.card(
        '[[rates]]\nproduct = "vcpu"\nunit_price = "0.0110"\n',
        card_id="std-2",
        start="2026-10-01T02:00:00Z",
    )
    start = at(1, 1) + timedelta(microseconds=999_999)
    end = at(1, 3) + timedelta(microseconds=1)
    result = rater.rate([make_interval(interval_start=start, interval_end=end, level=1)])
    parts = sorted((r["rate_card_id"], r["quantity"]) for r in result["rated_usage"])
    assert parts == [("std-1", D(1)), ("std-2", D(1))]
    assert result["unrated_usage"] == []
