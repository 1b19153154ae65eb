"""The ``[scheduler]`` section of the provider config, parsed into frozen settings.

Every key is optional::

    [scheduler]
    timezone = "Europe/Amsterdam"   # wall-clock zone of the schedules (default provider.timezone)
    nightly_at = "02:00"            # when the nightly run of the previous UTC day falls due
    close_day = 1                   # day of the next month the close falls due ...
    close_at = "03:00"              # ... and at what time
    start_date = "2026-10-01"       # first day the scheduler is responsible for
    misfire_grace_minutes = 30      # a collect tick later than this is skipped
    retry_delay_minutes = 60        # a night that failed transiently is retried after this
    max_attempts = 3                # ... at most this many automatic attempts in all
    pipelines_dir = "pipelines"     # definitions to use instead of the shipped ones
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metering.config import ProviderConfig
from metering.pipelines.definitions import Pipeline, load_pipelines, parse_clock_time


@dataclass(frozen=True)
class SchedulerSettings:
    """How and when the pipelines run; see the module docstring for the keys."""

    timezone: ZoneInfo
    interval: timedelta
    nightly_at: time | None
    close_day: int | None
    close_at: time | None
    start_date: date | None
    misfire_grace: timedelta
    retry_delay: timedelta
    max_attempts: int
    pipelines_dir: Path | None
    data_dir: Path

    @property
    def history_path(self) -> Path:
        return self.data_dir / "pipelines" / "runs.sqlite"

    @property
    def jobstore_path(self) -> Path:
        return self.data_dir / "pipelines" / "jobs.sqlite"

    @property
    def lock_dir(self) -> Path:
        return self.data_dir / "pipelines"

    def pipelines(self) -> dict[str, Pipeline]:
        """The definitions, with this config's schedule overrides applied."""
        pipelines = load_pipelines(self.pipelines_dir)
        for name, pipeline in pipelines.items():
            sched = pipeline.schedule
            if sched.kind == "daily" and self.nightly_at is not None:
                sched = replace(sched, at=self.nightly_at)
            if sched.kind == "monthly":
                sched = replace(
                    sched,
                    day=self.close_day or sched.day,
                    at=self.close_at or sched.at,
                )
            pipelines[name] = replace(pipeline, schedule=sched)
        return pipelines


def _optional_time(section_value: str | None, s: object, key: str) -> time | None:
    if section_value is None:
        return None
    return parse_clock_time(section_value, s, key)  # type: ignore[arg-type]


def load_settings(config: ProviderConfig) -> SchedulerSettings:
    """Parse ``[scheduler]``; errors name the config file and key."""
    s = config.section("scheduler")
    tz_name = s.get("timezone", str, None)
    try:
        tz = ZoneInfo(tz_name) if tz_name else config.timezone
    except (ZoneInfoNotFoundError, ValueError):
        raise s.error("timezone", f"unknown time zone {tz_name!r}") from None
    start_text = s.get("start_date", str, None)
    try:
        start = date.fromisoformat(start_text) if start_text else None
    except ValueError:
        raise s.error("start_date", f"must be a date YYYY-MM-DD, got {start_text!r}") from None
    close_day = s.get("close_day", int, None)
    if close_day is not None and not 1 <= close_day <= 28:
        raise s.error("close_day", "must be 1..28 (a day every month has)")
    numbers = {}
    for key, default in (("misfire_grace_minutes", 30), ("retry_delay_minutes", 60)):
        numbers[key] = s.get(key, int, default)
        if numbers[key] < 1:
            raise s.error(key, "must be at least 1")
    max_attempts = s.get("max_attempts", int, 3)
    if max_attempts < 1:
        raise s.error("max_attempts", "must be at least 1")
    return SchedulerSettings(
        timezone=tz,
        interval=config.sampling_interval,
        nightly_at=_optional_time(s.get("nightly_at", str, None), s, "nightly_at"),
        close_day=close_day,
        close_at=_optional_time(s.get("close_at", str, None), s, "close_at"),
        start_date=start,
        misfire_grace=timedelta(minutes=numbers["misfire_grace_minutes"]),
        retry_delay=timedelta(minutes=numbers["retry_delay_minutes"]),
        max_attempts=max_attempts,
        pipelines_dir=(
            s.path("pipelines_dir", config.source_file.parent)
            if "pipelines_dir" in s.data
            else None
        ),
        data_dir=config.data_dir,
    )
