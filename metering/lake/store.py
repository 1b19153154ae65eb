"""Atomic, idempotent Parquet partition writes and the readers that go with them.

Layout: ``<lake>/<dataset>/site=<site>/date=<YYYY-MM-DD>/<key>.parquet`` (zstd, hive style).
A write goes to a temp file in the target directory and is moved into place with
``os.replace``, so a reader sees the old file or the new one, never half of one; writing the
same key again replaces the file, so re-collecting a sample never duplicates rows.
The lake may also be an S3 bucket: every function takes a :data:`LakePath` (a local
``Path`` or an ``s3://`` :class:`~metering.lake.storage.ObjectPath`; see storage.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from metering.errors import LakeError
from metering.lake.schemas import DATASETS, schema
from metering.lake.storage import LakePath, ObjectPath, arrow_dataset, write_parquet
from metering.lake.validate import check_files
from metering.window import Window, utc


def time_key(t: datetime) -> str:
    """The file key of a sample time: ``20261001T0100Z`` (sorts by time)."""
    return utc(t).strftime("%Y%m%dT%H%MZ")


def key_time(path: LakePath) -> datetime | None:
    """The instant a lake file is keyed by (the start of its name, :func:`time_key`), or
    None when its name does not start with one."""
    key = path.name[: len("20261001T0000Z")]
    try:
        return datetime.strptime(key, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def partition_dir(lake: LakePath, dataset: str, site: str, day: date) -> LakePath:
    return lake / dataset / f"site={site}" / f"date={day.isoformat()}"


def partition_path(
    lake: LakePath, dataset: str, site: str, t: datetime, suffix: str = ""
) -> LakePath:
    """Where the file of ``dataset`` for ``site`` at instant ``t`` lives."""
    key = time_key(t) + (f"-{suffix}" if suffix else "")
    return partition_dir(lake, dataset, site, utc(t).date()) / f"{key}.parquet"


def to_table(dataset: str, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Build a table of ``dataset`` from row dicts, checked against its schema.

    Unknown keys are an error (a typo would silently drop a column); missing nullable
    columns become null; a missing required value raises :class:`LakeError` naming it.
    """
    sch = schema(dataset)
    names = set(sch.names)
    for row in rows:
        extra = set(row) - names
        if extra:
            raise LakeError(f"{dataset}: unknown column(s) {sorted(extra)}")
    columns = {f.name: [row.get(f.name) for row in rows] for f in sch}
    try:
        table = pa.Table.from_pydict(columns, schema=sch)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise LakeError(f"{dataset}: rows do not fit the schema: {exc}") from None
    missing = [f.name for f in sch if not f.nullable and table.column(f.name).null_count]
    if missing:
        raise LakeError(f"{dataset}: required column(s) {missing} have no value")
    return table


def write_file(path: LakePath, table: pa.Table) -> LakePath:
    """Write ``table`` to ``path`` atomically (temp file in the same dir + ``os.replace``;
    on S3 one completed upload)."""
    return write_parquet(path, table)


def write_partition(
    lake: LakePath,
    dataset: str,
    site: str,
    t: datetime,
    rows: Sequence[Mapping[str, Any]] | pa.Table,
    *,
    suffix: str = "",
) -> LakePath:
    """Write (or replace) the file of ``dataset``/``site`` keyed by ``t``; empty is allowed."""
    table = rows if isinstance(rows, pa.Table) else to_table(dataset, rows)
    if table.schema != schema(dataset):
        table = table.cast(schema(dataset))
    return write_file(partition_path(lake, dataset, site, t, suffix), table)


def dataset_files(
    lake: LakePath,
    dataset: str,
    *,
    site: str | None = None,
    window: Window | None = None,
) -> list[LakePath]:
    """The files of a dataset, optionally of one site and of the days ``window`` touches."""
    if dataset not in DATASETS:
        raise LakeError(f"unknown dataset {dataset!r}")
    base = lake / dataset
    if not base.is_dir():
        return []
    site_glob = f"site={site}" if site else "site=*"
    if window is None:
        return sorted(base.glob(f"{site_glob}/date=*/*.parquet"))
    files: list[LakePath] = []
    for day in window.days():
        files.extend(base.glob(f"{site_glob}/date={day.isoformat()}/*.parquet"))
    return sorted(files)


def read_dataset(
    lake: LakePath,
    dataset: str,
    *,
    site: str | None = None,
    window: Window | None = None,
) -> pa.Table:
    """All rows of a dataset (optionally one site / the sample times in ``window``).

    Rows are filtered on ``sample_time`` when a window is given (``interval_start`` for the
    ``cloudian_usage`` series); the result always has the dataset's schema.
    """
    files = dataset_files(lake, dataset, site=site, window=window)
    sch = schema(dataset)
    if not files:
        return sch.empty_table()
    check_files(files, sch, lake, dataset)
    try:
        table = arrow_dataset(files, sch).to_table()
    except (OSError, pa.ArrowInvalid) as exc:
        if isinstance(lake, ObjectPath):  # one line naming the lake root, keys scrubbed
            raise lake.bucket.error("read dataset", dataset, exc) from None
        raise LakeError(f"cannot read dataset {dataset}: {exc}") from None
    if window is not None:
        col = "interval_start" if DATASETS[dataset].series else "sample_time"
        times = table.column(col)
        import pyarrow.compute as pc

        mask = pc.and_(
            pc.greater_equal(times, pa.scalar(window.start, sch.field(col).type)),
            pc.less(times, pa.scalar(window.end, sch.field(col).type)),
        )
        table = table.filter(mask)
    return table


def sample_keys(lake: LakePath, dataset: str, site: str, window: Window | None = None) -> set[str]:
    """The time keys present for one dataset/site (to find gaps)."""
    return {p.stem.split("-")[0] for p in dataset_files(lake, dataset, site=site, window=window)}


def glob_pattern(lake: LakePath, dataset: str) -> str:
    """A hive glob for DuckDB/Polars: ``<lake>/<dataset>/*/*/*.parquet``."""
    return str(lake / dataset / "*" / "*" / "*.parquet")


def write_rows_by_day(
    lake: LakePath,
    dataset: str,
    site: str,
    keyed: Iterable[tuple[datetime, Sequence[Mapping[str, Any]]]],
) -> list[LakePath]:
    """Write several keyed partitions (e.g. one per hour of a series)."""
    return [write_partition(lake, dataset, site, t, rows) for t, rows in keyed]
