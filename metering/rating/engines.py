"""Which engine rates a month: one DuckDB (the default), DuckDB per site, or Spark.

All three run the same SQL files over the same named views and hand back the four outputs in
the same Arrow schemas; :func:`publish` writes them to the lake and summarises them, once for
every engine, so the close, the reports and finance SQL cannot tell which engine ran.
See docs/scale-out.md for when to use which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from metering.config import ProviderConfig
from metering.errors import UsageError
from metering.extras import require_extra
from metering.rating.days import month_usage
from metering.rating.run import (
    RatingResult,
    duckdb_outputs,
    load_inputs,
    publish,
    rate_month,
)
from metering.window import Window

ENGINES = ("duckdb", "spark")


@dataclass(frozen=True)
class EngineChoice:
    """How to rate: ``engine`` duckdb or spark; ``master`` a Spark master or ``sc://`` URL;
    ``site_workers`` > 0 rates DuckDB one site per process, that many at a time."""

    engine: str = "duckdb"
    master: str | None = None
    site_workers: int = 0

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise UsageError(f"--engine: must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.master and self.engine != "spark":
            raise UsageError("--spark-master: only with --engine spark")
        if self.site_workers and self.engine != "duckdb":
            raise UsageError("--per-site: only with --engine duckdb")
        if self.site_workers < 0:
            raise UsageError(f"--per-site: a number of processes >= 1, got {self.site_workers}")


def rate_month_with(config: ProviderConfig, month: Window, choice: EngineChoice) -> RatingResult:
    """Rate ``month`` on the chosen engine and write the outputs."""
    if choice.engine == "spark":
        require_extra("spark", "rate --engine spark")
        from metering.rating.spark import rate_month_spark

        return rate_month_spark(config, month, choice.master)
    if choice.site_workers:
        from metering.rating.per_site import rated_per_site

        usage = month_usage(config, month)
        inputs = load_inputs(config)
        workers = choice.site_workers
        files: list[Any] = usage.files
        with rated_per_site(files, month, inputs, workers=workers) as con:
            return publish(config, month, duckdb_outputs(con), usage=usage)
    return rate_month(config, month)
