"""Locale-aware formatting for documents: money, quantities and dates via Babel.

Values arrive as strings (the frozen JSON bodies) or Decimals and stay Decimal: Babel
formats Decimals exactly, so no amount ever passes through a float.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_precision,
)


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    return Locale.parse(name)


def dec(value: object) -> Decimal:
    """A Decimal from a body value (string, int or Decimal); floats are refused."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str):
        return Decimal(value)
    raise TypeError(f"expected a decimal string, got {type(value).__name__}")


def money(value: object, currency: str, locale: str) -> str:
    """``1234.5`` EUR in ``de_DE`` → ``1.234,50 €``; exact, to the currency's minor unit."""
    return str(format_currency(dec(value), currency, locale=_locale(locale), currency_digits=True))


def amount(value: object, currency: str, locale: str) -> str:
    """An unrounded amount (a usage row's list amount, 0.123456789) shown to the currency's
    minor unit, rounded half-up as invoice lines are; the exact value stays in the CSV."""
    digits = get_currency_precision(currency)
    rounded = dec(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return money(rounded, currency, locale)


def unit_price(value: object, currency: str, locale: str) -> str:
    """A unit price keeps its significant decimals (0.0125 stays 0,0125 €), never fewer than
    the locale's currency pattern shows."""
    return str(
        format_currency(
            dec(value).normalize(), currency, locale=_locale(locale), decimal_quantization=False
        )
    )


def quantity(value: object, locale: str, places: int = 3) -> str:
    """A usage quantity, grouped per locale, at most ``places`` decimals (trailing zeros cut)."""
    amount = dec(value).quantize(Decimal(1).scaleb(-places)).normalize()
    return str(format_decimal(amount, locale=_locale(locale), decimal_quantization=False))


def percent(value: object, locale: str) -> str:
    """A rate like ``0.21`` → ``21%`` (``en``), ``21 %`` (``de``), ``21 %`` (``fr``): the
    locale's percent pattern, every significant decimal kept (``0.205`` → ``20.5%``)."""
    rate = dec(value).normalize()
    return str(format_percent(rate, locale=_locale(locale), decimal_quantization=False))


def long_date(value: object, locale: str) -> str:
    """An ISO date (or date/datetime) in the locale's medium form."""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise TypeError(f"expected a date, got {type(value).__name__}")
    return str(format_date(value, format="medium", locale=_locale(locale)))
