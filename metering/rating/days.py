"""The month's consolidated days, as every rating engine reads them.

A day is consolidated when ``<lake>/usage_intervals/date=YYYY-MM-DD/part.parquet`` exists
(``consolidate_day`` writes it, empty too). A day without it is *missing*: its usage is not
in the month's rating at all, and nothing of it is estimated (docs/metering-rules.md). The
fill policy's estimates are per interval (``usage_intervals.filled``), never per month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from metering.config import ProviderConfig
from metering.lake.storage import LakePath
from metering.window import Window


@dataclass(frozen=True)
class MonthUsage:
    """The consolidated day files of a month, and the days that have none."""

    files: list[LakePath]
    missing_days: tuple[date, ...]


def month_usage(config: ProviderConfig, month: Window) -> MonthUsage:
    """The month's consolidated day files present, and the days missing."""
    from metering.rating.consolidate import intervals_path

    files: list[LakePath] = []
    missing: list[date] = []
    for day in month.days():
        path = intervals_path(config.lake, day)
        if path.is_file():
            files.append(path)
        else:
            missing.append(day)
    return MonthUsage(files, tuple(missing))
