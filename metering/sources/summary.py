"""What a collection run reports: a result per site × source, and the run's summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class SourceResult:
    """What one source did at one site in one run."""

    site: str
    source: str
    status: str  # ok | partial | failed
    rows: int = 0
    quarantined: int = 0
    errors: int = 0
    error: str | None = None
    datasets: list[str] = field(default_factory=list)
    failed_datasets: list[str] = field(default_factory=list)
    seconds: float = 0.0
    api_version: str | None = None  # the VCD API version the site's client negotiated
    # every failed part's error and every note, one line each (the run log joins them)
    problems: list[str] = field(default_factory=list)

    def summary_error(self) -> str | None:
        """The run log's ``error``: each distinct problem once, joined, bounded."""
        if not self.problems:
            return self.error
        text = "; ".join(dict.fromkeys(p.replace("\n", " ") for p in self.problems))
        return text if len(text) <= 2000 else text[:1997] + "..."

    def line(self) -> str:
        text = (
            f"{self.site:<8} {self.source:<9} {self.status:<8} rows={self.rows:<7} "
            f"quarantined={self.quarantined:<4} {self.seconds:5.1f}s"
        )
        return text + (f"  {self.error}" if self.error else "")


@dataclass
class CollectSummary:
    """One run: its id, sample time and a result per site × source."""

    run_id: str
    sample_time: datetime
    results: list[SourceResult] = field(default_factory=list)
    unfilled: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        statuses = {r.status for r in self.results}
        if statuses <= {"ok"}:
            return "ok"
        return "failed" if statuses == {"failed"} else "partial"

    @property
    def rows(self) -> int:
        return sum(r.rows for r in self.results)

    @property
    def quarantined(self) -> int:
        return sum(r.quarantined for r in self.results)

    def lines(self) -> list[str]:
        return [r.line() for r in self.results]
