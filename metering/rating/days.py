"""The month's consolidated days, as every rating engine reads them.

A day is consolidated when ``<lake>/usage_intervals/date=YYYY-MM-DD/part.parquet`` exists
(``consolidate_day`` writes it, empty too). A day without it is *missing*: its usage is not
in the month's rating at all, and nothing of it is estimated (docs/metering-rules.md). The
fill policy's estimates are per interval (``usage_intervals.filled``), never per month.

A consolidated day records the settings and rules it was built with
(:mod:`metering.rating.provenance`). Before a month is rated, every day built with other
settings is consolidated again (``[rating] stale_days = "reconsolidate"``), or rating
refuses, naming the days and the command (``"refuse"``, and always when a stale day's
samples are gone): changed settings take effect, or say why not.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from metering.config import ProviderConfig
from metering.errors import RatingError
from metering.lake.storage import LakePath
from metering.rating.provenance import describe, differences, read_recorded
from metering.rating.settings import rating_settings
from metering.window import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MonthUsage:
    """The consolidated day files of a month, the days that have none, and the days
    consolidated again because they had been built with other settings."""

    files: list[LakePath]
    missing_days: tuple[date, ...]
    reconsolidated: tuple[date, ...] = ()


def stale_days(config: ProviderConfig, days: dict[date, LakePath]) -> dict[date, list[str]]:
    """The days whose file records other settings than the current ones, with what differs."""
    from metering.lake.validate import check_file
    from metering.rating.consolidate import current_recorded
    from metering.rating.intervals import INTERVALS_SCHEMA

    current = current_recorded(config)
    stale: dict[date, list[str]] = {}
    for day, path in days.items():
        # a damaged day file is one line naming it and its repair, before its footer is read
        check_file(path, INTERVALS_SCHEMA, config.lake, "usage_intervals")
        diff = differences(read_recorded(path), current)
        if diff:
            stale[day] = diff
    return stale


def _refresh(config: ProviderConfig, month: Window, stale: dict[date, list[str]]) -> None:
    """Consolidate the stale days again, or refuse naming them and the command."""
    from metering.rating.consolidate import consolidate_day, has_samples

    key = f"{month.start:%Y-%m}"
    command = f"`metering rate --month {key} --consolidate`"
    gone = {d: v for d, v in stale.items() if not has_samples(config.lake, d)}
    if gone:
        raise RatingError(
            f"{len(gone)} day(s) were consolidated with other settings and their samples are "
            f"no longer in the lake, so they cannot be rebuilt: {describe(gone)}; restore the "
            "samples, or the settings they were built with",
            window=month,
        )
    if rating_settings(config).stale_days == "refuse":
        raise RatingError(
            f"{len(stale)} day(s) were consolidated with other settings than the current "
            f"ones: {describe(stale)}; run {command} to rebuild them",
            window=month,
        )
    for day, diff in sorted(stale.items()):
        log.warning("consolidating %s again: %s", day.isoformat(), ", ".join(diff))
        consolidate_day(config, day)


def month_usage(config: ProviderConfig, month: Window) -> MonthUsage:
    """The month's consolidated day files (every one built with the current settings), and
    the days missing."""
    from metering.rating.consolidate import intervals_path

    present: dict[date, LakePath] = {}
    missing: list[date] = []
    for day in month.days():
        path = intervals_path(config.lake, day)
        if path.is_file():
            present[day] = path
        else:
            missing.append(day)
    stale = stale_days(config, present)
    if stale:
        _refresh(config, month, stale)
    return MonthUsage(list(present.values()), tuple(missing), tuple(sorted(stale)))
