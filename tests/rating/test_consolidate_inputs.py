"""Which lake files a night's consolidation reads: the day's, and of the day before only
those keyed within the gap before midnight (docs/architecture.md, "The lake")."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from metering.lake.store import write_partition
from metering.rating.consolidate import (
    consolidate_day,
    consolidation_settings,
    input_files,
    intervals_path,
)
from tests.rating.lake_builders import hour, make_config, sb, vm, write

DAY = date(2026, 10, 2)


def names(files: list[Path]) -> list[str]:
    return [f"{f.parent.name}/{f.name}" for f in files]


def test_a_night_reads_the_day_and_only_the_gap_before_midnight(tmp_path: Path) -> None:
    config = make_config(tmp_path)  # gap: 2 sampling intervals of 1 h
    lake = config.lake_dir
    for d, h in [(1, 0), (1, 21), (1, 22), (1, 23), (2, 0), (2, 23), (3, 0)]:
        write(lake, "vcd_vm", hour(d, h), [vm(hour(d, h))])
    write(lake, "vcd_vm", hour(1, 21) + timedelta(minutes=59), [])  # keyed 21:59: too early
    # a file not keyed by an instant is read whatever its day (nothing is dropped unseen)
    (lake / "vcd_vm" / "site=az1" / "date=2026-10-01" / "imported.parquet").write_bytes(
        (lake / "vcd_vm" / "site=az1" / "date=2026-10-01" / "20261001T0000Z.parquet").read_bytes()
    )
    for d, h in [(1, 0), (1, 23), (2, 5), (3, 0), (3, 1)]:
        start = hour(d, h)
        end = start + timedelta(hours=1)
        write_partition(lake, "cloudian_usage", "az1", start, [sb(start, end, "az1", 1)])
        write_partition(lake, "cloudian_group", "az1", start, [])

    files = input_files(lake, DAY, consolidation_settings(config))

    assert names(files["vcd_vm"]) == [
        "date=2026-10-01/20261001T2200Z.parquet",
        "date=2026-10-01/20261001T2300Z.parquet",
        "date=2026-10-01/imported.parquet",
        "date=2026-10-02/20261002T0000Z.parquet",
        "date=2026-10-02/20261002T2300Z.parquet",
    ]
    assert names(files["cloudian_usage"]) == [
        "date=2026-10-01/20261001T2300Z.parquet",
        "date=2026-10-02/20261002T0500Z.parquet",
        "date=2026-10-03/20261003T0000Z.parquet",
        "date=2026-10-03/20261003T0100Z.parquet",
    ]
    assert len(files["cloudian_group"]) == 5  # the group → org map reads all three days
    assert files["runs"] == [] and files["dse_instance"] == []


def test_a_sample_between_hours_within_the_gap_still_holds_into_the_day(tmp_path: Path) -> None:
    lake = tmp_path / "data" / "lake"
    late = hour(1, 22) + timedelta(minutes=30)  # keyed 22:30, within the 2 h gap of midnight
    write(lake, "vcd_vm", late, [vm(late)])
    write(lake, "vcd_vm", hour(1, 21), [vm(hour(1, 21), vcpu=9)])  # beyond the gap
    for h in range(1, 24):
        write(lake, "vcd_vm", hour(2, h), [vm(hour(2, h))])
    config = make_config(tmp_path)
    consolidate_day(config, DAY)
    rows = pq.read_table(intervals_path(config.lake_dir, DAY)).to_pylist()
    vcpu = sorted((r for r in rows if r["product"] == "vcpu"), key=lambda r: r["interval_start"])
    held = vcpu[0]
    assert (held["interval_start"], held["interval_end"]) == (hour(2, 0), late + timedelta(hours=2))
    assert held["filled"] and held["level"] == 4


def test_files_older_than_a_nullable_column_are_still_read_by_name(tmp_path: Path) -> None:
    """A file written before ``guest_os`` existed lacks it: the day's view then reads its
    files by name (the others are read by position only when all have every column)."""
    lake = tmp_path / "data" / "lake"
    licensed = {"guest_os": "Microsoft Windows Server 2022 (64-bit)"}
    for h in range(24):
        write(lake, "vcd_vm", hour(2, h), [vm(hour(2, h), **licensed)])
    old = lake / "vcd_vm" / "site=az1" / "date=2026-10-02" / "20261002T0500Z.parquet"
    table = pq.read_table(old)
    pq.write_table(table.drop_columns(["guest_os"]), old)  # as written before the column

    rows = intervals_of(tmp_path)

    licence = hours(rows, "os_licence")
    # 05:00 has no guest OS: no licence that hour, the VM's own usage is unbroken
    assert licence == [(0, 5), (6, 24)]
    assert hours(rows, "vcpu") == [(0, 24)]


def intervals_of(tmp_path: Path) -> list[dict[str, object]]:
    config = make_config(tmp_path)
    consolidate_day(config, DAY)
    rows = pq.read_table(intervals_path(config.lake_dir, DAY)).to_pylist()
    return sorted(rows, key=lambda r: (r["product"], r["interval_start"]))


def hours(rows: list[dict[str, object]], product: str) -> list[tuple[int, int]]:
    """(start hour, end hour) of each interval of ``product``; midnight ends at 24."""
    out = []
    for r in rows:
        if r["product"] == product:
            start, end = r["interval_start"], r["interval_end"]
            out.append((start.hour, 24 if end.day != start.day else end.hour))  # type: ignore[union-attr]
    return out
