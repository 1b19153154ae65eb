"""The provider pages' reads of the collectors' run log and the coverage dataset.

A month's run log is thousands of small Parquet files at 5,000 tenants (one per site,
source and run: ~3,000 in the bench's month), and reading them took seconds per page. Each
query's rows are kept while the files it reads are the same: the same paths, sizes and
modification times (lake writes replace a file whole), or on an S3 lake the same listing,
looked at again at most a minute later.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from metering.config import ProviderConfig
from metering.lake.schemas import COVERAGE_SCHEMA, DATASETS
from metering.lake.storage import LakePath, arrow_dataset
from metering.rating.engine import connect
from metering.readmodel.usage import rows_of
from metering.resources import read_sql
from metering.window import Window

_S3_TTL_SECONDS = 60.0
_KEPT = 16  # queries of months kept (a provider looks at a few months)


def _files(config: ProviderConfig, dataset: str, month: Window) -> list[LakePath]:
    return sorted(
        config.lake.glob(f"{dataset}/site=*/date={month.start:%Y-%m}-*/*.parquet"), key=str
    )


def _version(files: list[LakePath]) -> tuple[Any, ...]:
    if all(isinstance(f, Path) for f in files):
        stats = [(str(f), f.stat()) for f in files if isinstance(f, Path)]
        return tuple((name, s.st_mtime_ns, s.st_size) for name, s in stats)
    return (tuple(map(str, files)), int(time.monotonic() // _S3_TTL_SECONDS))


class RunLog:
    """Named queries over one provider's run log and coverage, kept per version of the
    files they read (thread-safe)."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        self._kept: dict[tuple[Any, ...], tuple[tuple[Any, ...], list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()

    def _query(
        self,
        key: tuple[Any, ...],
        found: dict[str, list[LakePath]],
        sql: str,
        params: dict[str, Any],
    ) -> list[dict[str, Any]]:
        if not any(found.values()):
            return []
        version = tuple(_version(files) for files in found.values())
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == version:
                return kept[1]
        con = connect()
        try:
            for name, files in found.items():
                schema = COVERAGE_SCHEMA if name == "coverage" else DATASETS["runs"].schema
                con.register(name, arrow_dataset(files, schema) if files else schema.empty_table())
            rows = rows_of(con, sql, params)
        finally:
            con.close()
        with self._lock:
            self._kept[key] = (version, rows)
            while len(self._kept) > _KEPT:
                self._kept.pop(next(iter(self._kept)))
        return rows

    def runs(self, month: Window, name: str) -> list[dict[str, Any]]:
        """A named query (``sql/readmodel/<name>.sql``) over the month's run log."""
        found = {"runs": _files(self.config, "runs", month)}
        params = {"start": month.start, "end": month.end}
        return self._query((name, month.start), found, read_sql(f"readmodel/{name}.sql"), params)

    def coverage(self, month: Window, threshold: Any) -> list[dict[str, Any]]:
        """A month's coverage per site and source (``sql/readmodel/coverage_month.sql``): the
        ``coverage`` dataset beside the ``runs`` log; either may be absent (an empty table)."""
        found = {name: _files(self.config, name, month) for name in ("coverage", "runs")}
        params = {"start": month.start, "end": month.end, "threshold": threshold}
        sql = read_sql("readmodel/coverage_month.sql")
        return self._query(("coverage", month.start, threshold), found, sql, params)
