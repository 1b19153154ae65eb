"""The provider pages' reads of the collectors' run log and the coverage dataset.

A month's run log is thousands of small Parquet files at 5,000 tenants (one per site,
source and run: ~3,000 in the bench's month), and reading them took seconds per page. Each
query's rows are kept while the files it reads are the same: the same names and inodes
(lake writes replace a file whole, by a new one), or on an S3 lake the same listing, looked
at again at most a minute later.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Files:
    """A dataset's files of a month: their version, and how to name them for a read."""

    version: tuple[Any, ...]
    count: int
    paths: Callable[[], list[LakePath]]  # made only when a query reads them (thousands)


def _files(config: ProviderConfig, dataset: str, month: Window) -> _Files:
    """The month's Parquet files of ``dataset``: locally each file's name and inode from the
    directory listings alone (a lake write replaces a file by a new one, so its inode
    changes; no ``stat`` of thousands of files); on S3, the listing itself, looked at again
    at most a minute later."""
    prefix = f"date={month.start:%Y-%m}-"
    root = config.lake / dataset
    if not isinstance(root, Path):
        pattern = f"{dataset}/site=*/{prefix}*/*.parquet"
        listed: list[LakePath] = sorted(config.lake.glob(pattern), key=str)
        version = (tuple(map(str, listed)), int(time.monotonic() // _S3_TTL_SECONDS))
        return _Files(version, len(listed), lambda: listed)
    found: list[tuple[str, int]] = []
    for site in _entries(root):
        if site.name.startswith("site=") and site.is_dir():
            for day in _entries(Path(site.path)):
                if day.name.startswith(prefix) and day.is_dir():
                    files = _entries(Path(day.path))
                    found += [(f.path, f.inode()) for f in files if f.name.endswith(".parquet")]
    found.sort()
    return _Files(tuple(found), len(found), lambda: [Path(name) for name, _ in found])


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as listing:
            return list(listing)
    except (FileNotFoundError, NotADirectoryError):
        return []


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
        found: dict[str, _Files],
        sql: str,
        params: dict[str, Any],
    ) -> list[dict[str, Any]]:
        if not any(files.count for files in found.values()):
            return []
        version = tuple(files.version for files in found.values())
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None and kept[0] == version:
                return kept[1]
        con = connect()
        try:
            for name, files in found.items():
                schema = COVERAGE_SCHEMA if name == "coverage" else DATASETS["runs"].schema
                table = (
                    arrow_dataset(files.paths(), schema) if files.count else schema.empty_table()
                )
                con.register(name, table)
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
