"""Exact money: Decimal only, one rounding rule, named.

Rule (docs/metering-rules.md): quantities keep full precision; each invoice line amount is
rounded half-up to the currency's minor unit; totals are sums of rounded lines; tax is
computed on the subtotal and rounded once, half-up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# ISO 4217 minor units for the currencies a provider is likely to bill in; others default to 2.
_MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3}


def minor_unit(currency: str) -> int:
    """Number of decimal places of ``currency``'s minor unit (EUR → 2, JPY → 0)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


def round_line(amount: Decimal, currency: str) -> Decimal:
    """The line-rounding rule: half-up to the currency's minor unit."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, got {type(amount).__name__}")
    return amount.quantize(Decimal(1).scaleb(-minor_unit(currency)), rounding=ROUND_HALF_UP)


def to_decimal(text: str | int | Decimal) -> Decimal:
    """Parse a price written as a string (never a float) into a Decimal."""
    if isinstance(text, float):
        raise TypeError("prices must be written as strings, not floats")
    return Decimal(text)
