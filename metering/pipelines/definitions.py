"""Pipeline definitions: the TOML files under ``pipelines/`` turned into frozen dataclasses.

A definition is data (which steps, in which order, on which schedule, for which period);
the code that runs it is in :mod:`metering.pipelines.runner`. Errors name the file and key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

from metering import tomlfile
from metering.config import Section
from metering.errors import ConfigError
from metering.resources import resource_dir
from metering.window import Window, utc

PeriodKind = Literal["instant", "day", "month"]
ScheduleKind = Literal["interval", "daily", "monthly"]
_PERIODS: tuple[PeriodKind, ...] = ("instant", "day", "month")
_SCHEDULES: dict[str, ScheduleKind] = {
    "interval": "interval",
    "daily": "daily",
    "monthly": "monthly",
}
_FOR_PERIOD: dict[PeriodKind, ScheduleKind] = {
    "instant": "interval",
    "day": "daily",
    "month": "monthly",
}


@dataclass(frozen=True)
class StepDef:
    """One step of a pipeline; ``name`` is a key of the step registry."""

    name: str
    description: str


@dataclass(frozen=True)
class Schedule:
    """When a pipeline's runs fall due (local wall time in the scheduler's time zone)."""

    kind: ScheduleKind
    at: time = time(0, 0)
    day: int = 1


@dataclass(frozen=True)
class Pipeline:
    """A named sequence of steps run once per period (an instant, a UTC day or a month)."""

    name: str
    description: str
    period: PeriodKind
    schedule: Schedule
    steps: tuple[StepDef, ...]
    requires: str | None = None
    source_file: Path | None = None


def parse_clock_time(text: str, where: Section, key: str) -> time:
    """``HH:MM`` → :class:`time`, with an error naming the file and key."""
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise where.error(key, f"must be a time of day HH:MM, got {text!r}") from None


def _parse_schedule(s: Section, period: PeriodKind) -> Schedule:
    kind_text = s.get("kind", str)
    if kind_text not in _SCHEDULES:
        raise s.error("kind", f"must be one of {', '.join(_SCHEDULES)}, got {kind_text!r}")
    kind = _SCHEDULES[kind_text]
    if kind != _FOR_PERIOD[period]:
        raise s.error("kind", f"a pipeline with period {period!r} needs {_FOR_PERIOD[period]!r}")
    at = parse_clock_time(s.get("at", str, "00:00"), s, "at")
    day = s.get("day", int, 1)
    if not 1 <= day <= 28:
        raise s.error("day", "must be 1..28 (a day every month has)")
    return Schedule(kind=kind, at=at, day=day)


def parse_pipeline(text: str, source: Path) -> Pipeline:
    """Validate one pipeline TOML document."""
    raw = tomlfile.parse(text, lambda p: ConfigError(f"{source.name}: {p}"))
    top = Section(raw, source.name)
    head = top.sub("pipeline")
    period = head.get("period", str)
    if period not in _PERIODS:
        raise head.error("period", f"must be one of {', '.join(_PERIODS)}, got {period!r}")
    steps_raw = raw.get("steps", [])
    if not isinstance(steps_raw, list) or not steps_raw:
        raise top.error("steps", "at least one [[steps]] entry is required")
    steps = tuple(
        StepDef(
            name=Section(entry, source.name, f"steps[{i}]").get("name", str),
            description=Section(entry, source.name, f"steps[{i}]").get("description", str, ""),
        )
        for i, entry in enumerate(steps_raw)
    )
    return Pipeline(
        name=head.get("name", str),
        description=head.get("description", str, ""),
        period=period,
        schedule=_parse_schedule(top.sub("schedule"), period),
        steps=steps,
        requires=head.get("requires", str, None),
        source_file=source,
    )


def load_pipelines(directory: Path | None = None) -> dict[str, Pipeline]:
    """Every ``*.toml`` under ``directory`` (default: the shipped ``pipelines/``), by name."""
    folder = directory or resource_dir("pipelines")
    pipelines: dict[str, Pipeline] = {}
    for path in sorted(folder.glob("*.toml")):
        pipeline = parse_pipeline(path.read_text(encoding="utf-8"), path)
        if pipeline.name in pipelines:
            raise ConfigError(f"{path.name}: pipeline {pipeline.name!r} is defined twice")
        pipelines[pipeline.name] = pipeline
    for pipeline in pipelines.values():
        if pipeline.requires is not None and pipeline.requires not in pipelines:
            raise ConfigError(
                f"{pipeline.source_file.name if pipeline.source_file else pipeline.name}: "
                f"pipeline.requires: no pipeline named {pipeline.requires!r}"
            )
    return pipelines


# --- periods -------------------------------------------------------------------------------


def period_key(kind: PeriodKind, start: datetime) -> str:
    """The text that names one period in the run history: an instant, a day or a month."""
    start = utc(start)
    if kind == "instant":
        return f"{start:%Y-%m-%dT%H:%MZ}"
    if kind == "day":
        return f"{start:%Y-%m-%d}"
    return f"{start:%Y-%m}"


def period_window(kind: PeriodKind, key: str, interval: timedelta) -> Window:
    """The UTC window a period key covers."""
    if kind == "instant":
        start = datetime.fromisoformat(key.replace("Z", "+00:00"))
        return Window(start, start + interval)
    if kind == "day":
        return Window.day(date.fromisoformat(key))
    return Window.parse_month(key)
