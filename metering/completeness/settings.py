"""The ``[close]`` section: when a month counts as complete enough to issue invoices::

[close]
grace_hours = 2               # hours after the month's end before a final close
coverage_threshold = "0.95"   # collected / expected instants, per site × source × day
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from metering.config import ProviderConfig

DEFAULT_GRACE_HOURS = 2
DEFAULT_THRESHOLD = "0.95"


@dataclass(frozen=True)
class GateSettings:
    """How complete a month must be before its invoices are numbered."""

    grace: timedelta
    coverage_threshold: Decimal


def gate_settings(config: ProviderConfig) -> GateSettings:
    """Parse ``[close]``; errors name the config file and key."""
    s = config.section("close")
    hours = s.get("grace_hours", int, DEFAULT_GRACE_HOURS)
    if hours < 0:
        raise s.error("grace_hours", "must be 0 or more")
    text = s.get("coverage_threshold", str, DEFAULT_THRESHOLD)
    try:
        threshold = Decimal(text)
    except InvalidOperation:
        raise s.error("coverage_threshold", f"must be a number as a string, got {text!r}") from None
    if not Decimal(0) <= threshold <= Decimal(1):
        raise s.error("coverage_threshold", "must be between 0 and 1 (a fraction)")
    return GateSettings(timedelta(hours=hours), threshold)
