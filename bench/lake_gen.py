"""A month of hourly samples in the lake, built columnar from one real snapshot.

One collection over HTTP writes every dataset exactly as the collectors do; the month is then
that snapshot repeated at every hour with its time columns shifted (pyarrow), and a few
percent of VMs powered off or on at each hour (numpy) so the levels change and consolidation
has real intervals to cut. Only the datasets consolidation reads are repeated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from metering.lake.store import time_key, write_file
from metering.rating.consolidate import LAKE_INPUTS

TIME_COLUMNS = (
    "sample_time",
    "collected_at",
    "window_start",
    "window_end",
    "interval_start",
    "interval_end",
    "started_at",
    "finished_at",
)
KEY_LENGTH = len("20261001T0000Z")


def snapshot_files(lake: Path, day: datetime) -> list[Path]:
    """The files the snapshot of ``day`` wrote for the datasets consolidation reads."""
    files: list[Path] = []
    for dataset in LAKE_INPUTS:
        files += sorted((lake / dataset).glob(f"site=*/date={day:%Y-%m-%d}/*.parquet"))
        files += sorted(
            (lake / dataset).glob(f"site=*/date={day - timedelta(days=1):%Y-%m-%d}/*.parquet")
        )
    return files


def _shift(table: pa.Table, hours: int) -> pa.Table:
    delta = pa.scalar(hours * 3_600_000_000, pa.duration("us"))
    for name in TIME_COLUMNS:
        index = table.schema.get_field_index(name)
        if index >= 0:
            column = table.column(index)
            shifted = pc.add(column, delta.cast(pa.duration(column.type.unit)))
            table = table.set_column(index, table.schema.field(index), shifted.cast(column.type))
    return table


def _flip_power(table: pa.Table, rng: np.random.Generator, share: float) -> pa.Table:
    index = table.schema.get_field_index("powered_on")
    if index < 0 or table.num_rows == 0:
        return table
    flips = rng.random(table.num_rows) < share
    on = table.column(index).to_numpy(zero_copy_only=False).astype(bool)
    return table.set_column(index, table.schema.field(index), pa.array(on ^ flips))


def _target(path: Path, hours: int) -> Path:
    key = datetime.strptime(path.name[:KEY_LENGTH], "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    moved = key + timedelta(hours=hours)
    dataset_site = path.parent.parent
    name = time_key(moved) + path.name[KEY_LENGTH:]
    return dataset_site / f"date={moved:%Y-%m-%d}" / name


def repeat_hourly(lake: Path, start: datetime, hours: int, seed: int = 1) -> dict[str, int]:
    """Repeat the snapshot taken at ``start`` for ``hours`` more hours; rows per dataset."""
    rng = np.random.default_rng(seed)
    rows: dict[str, int] = {}
    for path in snapshot_files(lake, start):
        table = pq.read_table(path)
        dataset = path.parents[2].name
        for hour in range(1, hours + 1):
            shifted = _flip_power(_shift(table, hour), rng, 0.03)
            write_file(_target(path, hour), shifted)
            rows[dataset] = rows.get(dataset, 0) + shifted.num_rows
    return rows


def dataset_bytes(lake: Path, dataset: str) -> tuple[int, int]:
    """(bytes, files) of one dataset in the lake."""
    files = list((lake / dataset).glob("site=*/date=*/*.parquet"))
    return sum(f.stat().st_size for f in files), len(files)
