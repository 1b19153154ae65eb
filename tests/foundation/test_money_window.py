"""The money rounding rule and the Window type."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from metering.money import round_line, to_decimal
from metering.window import Window


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("8.976", "EUR", "8.98"),
        ("8.692", "EUR", "8.69"),
        ("16.4283", "EUR", "16.43"),
        ("0.005", "EUR", "0.01"),
        ("-0.005", "EUR", "-0.01"),
        ("1234.5", "JPY", "1235"),
    ],
)
def test_round_line_is_half_up_to_minor_unit(amount, currency, expected) -> None:
    assert round_line(Decimal(amount), currency) == Decimal(expected)


def test_prices_are_never_floats() -> None:
    with pytest.raises(TypeError):
        to_decimal(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        round_line(0.1, "EUR")  # type: ignore[arg-type]


def test_month_window_is_half_open_utc() -> None:
    october = Window.parse_month("2026-10")
    assert october.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert october.end == datetime(2026, 11, 1, tzinfo=UTC)
    assert october.hours == 744
    assert datetime(2026, 10, 31, 23, tzinfo=UTC) in october
    assert datetime(2026, 11, 1, tzinfo=UTC) not in october
    assert len(list(october.days())) == 31
    assert Window.parse_month("2026-12").end == datetime(2027, 1, 1, tzinfo=UTC)


def test_window_rejects_empty_and_bad_month() -> None:
    with pytest.raises(ValueError, match="not after"):
        Window.day(date(2026, 10, 2)).__class__(
            datetime(2026, 10, 2, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC)
        )
    with pytest.raises(ValueError, match="YYYY-MM"):
        Window.parse_month("October")
