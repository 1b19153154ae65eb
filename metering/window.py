"""The one time-window type: half-open ``[start, end)`` in UTC."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


def utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime; naive values are taken to be UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_utc(text: str) -> datetime:
    """Parse an ISO-8601 timestamp (``Z`` allowed); naive means UTC."""
    return utc(datetime.fromisoformat(text.replace("Z", "+00:00")))


@dataclass(frozen=True, order=True)
class Window:
    """A half-open UTC interval ``[start, end)``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))
        if self.end <= self.start:
            raise ValueError(f"window end {self.end:%Y-%m-%dT%H:%M}Z is not after its start")

    @classmethod
    def day(cls, day: date) -> Window:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return cls(start, start + timedelta(days=1))

    @classmethod
    def month(cls, year: int, month: int) -> Window:
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return cls(start, end)

    @classmethod
    def parse_month(cls, text: str) -> Window:
        """``YYYY-MM`` → that calendar month in UTC."""
        try:
            year, month = (int(part) for part in text.split("-"))
            return cls.month(year, month)
        except ValueError as exc:
            raise ValueError(f"month must be YYYY-MM, got {text!r}") from exc

    @property
    def hours(self) -> int:
        return int((self.end - self.start).total_seconds() // 3600)

    def steps(self, step: timedelta) -> Iterator[datetime]:
        """Each instant ``start, start+step, ...`` strictly before ``end``."""
        t = self.start
        while t < self.end:
            yield t
            t += step

    def days(self) -> Iterator[date]:
        d = self.start.date()
        while datetime(d.year, d.month, d.day, tzinfo=UTC) < self.end:
            yield d
            d += timedelta(days=1)

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, datetime) and self.start <= utc(instant) < self.end

    def __str__(self) -> str:
        return f"[{self.start:%Y-%m-%dT%H:%M}Z, {self.end:%Y-%m-%dT%H:%M}Z)"
