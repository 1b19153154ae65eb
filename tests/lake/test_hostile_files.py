"""Hostile and broken lake files: a file of the wrong schema, a truncated, empty or random
Parquet file, a stale temp file left by a kill. Each gives one line naming the file and the
command that repairs it (or is removed at start), never a traceback or a silent "no VMs"."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metering.cli import main
from metering.errors import LakeError
from metering.lake.maintenance import sweep_temp_files
from metering.lake.store import partition_path, read_dataset, to_table
from metering.pipelines.api import pipeline_lock
from metering.rating.consolidate import consolidate_day, intervals_path
from metering.rating.run import rate_month
from metering.resources import resource_dir
from metering.window import Window
from tests.rating.lake_builders import hour, make_config, vm, write, write_config_file

DAY = date(2026, 10, 2)


def _day_of_vms(lake: Path) -> None:
    for h in range(24):
        write(lake, "vcd_vm", hour(2, h), [vm(hour(2, h))])


def _one_line(exc: pytest.ExceptionInfo[LakeError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def test_a_file_of_another_schema_stops_consolidation_instead_of_reading_as_no_vms(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    _day_of_vms(config.lake_dir)
    # hour 10's VM file replaced by a file of another dataset (all its columns nullable)
    wrong = pa.table({"vm": ["urn:vcloud:vm:1"], "cpus": [4]})
    target = partition_path(config.lake_dir, "vcd_vm", "az1", hour(2, 10))
    pq.write_table(wrong, target)
    with pytest.raises(LakeError) as exc:
        consolidate_day(config, DAY)
    text = _one_line(exc)
    rel = target.relative_to(config.lake_dir).as_posix()
    assert f"file {rel} does not match the vcd_vm schema: lacks required column(s)" in text
    assert f"`metering lake set-aside {rel}`" in text
    assert not intervals_path(config.lake_dir, DAY).exists()  # nothing written from it


def test_a_column_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    _day_of_vms(config.lake_dir)
    table = to_table("vcd_vm", [vm(hour(2, 3))])
    index = table.schema.get_field_index("vcpu")
    table = table.set_column(index, "vcpu", pa.array(["4"]))  # text where a count belongs
    pq.write_table(table, partition_path(config.lake_dir, "vcd_vm", "az1", hour(2, 3)))
    with pytest.raises(LakeError, match=r"column vcpu is string, expected int64"):
        consolidate_day(config, DAY)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: os.urandom(len(data)), id="random"),
        pytest.param(lambda data: b"PAR1" + os.urandom(64) + b"PAR1", id="fake-magic"),
    ],
)
def test_an_unreadable_sample_file_is_one_line_naming_it_and_its_repair(
    tmp_path: Path, damage
) -> None:
    config = make_config(tmp_path)
    _day_of_vms(config.lake_dir)
    target = partition_path(config.lake_dir, "vcd_vm", "az1", hour(2, 7))
    target.write_bytes(damage(target.read_bytes()))
    rel = target.relative_to(config.lake_dir).as_posix()
    for action in (
        lambda: consolidate_day(config, DAY),
        lambda: read_dataset(config.lake, "vcd_vm"),
    ):
        with pytest.raises(LakeError) as exc:
            action()
        text = _one_line(exc)
        assert f"file {rel} is not a readable Parquet file" in text
        assert text.endswith("(its hour becomes a gap the run log explains)")


def test_a_damaged_usage_intervals_file_names_the_night_that_rewrites_it(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    for card in resource_dir("pricing").glob("*.toml"):
        shutil.copy(card, tmp_path / "pricing")
    _day_of_vms(config.lake_dir)
    consolidate_day(config, DAY)
    path = intervals_path(config.lake_dir, DAY)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(LakeError) as exc:
        rate_month(config, Window.month(2026, 10))
    text = _one_line(exc)
    assert "usage_intervals/date=2026-10-02/part.parquet is not a readable Parquet file" in text
    assert text.endswith("write it again with `metering run nightly --date 2026-10-02`")
    consolidate_day(config, DAY)  # the repair it names works
    assert rate_month(config, Window.month(2026, 10)).rows > 0


def test_the_cli_prints_one_line_and_set_aside_repairs_the_lake(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = write_config_file(tmp_path)
    lake = tmp_path / "data" / "lake"
    _day_of_vms(lake)
    target = partition_path(lake, "vcd_vm", "az1", hour(2, 7))
    target.write_bytes(b"garbage")
    rel = target.relative_to(lake).as_posix()
    assert main(["consolidate", "--day", "2026-10-02", "-c", str(config_file)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "metering lake set-aside" in err
    assert main(["lake", "set-aside", rel, "-c", str(config_file)]) == 0
    assert not target.exists()
    kept = list((lake / "_set_aside").rglob("*.parquet.*"))
    assert any(p.read_bytes() == b"garbage" for p in kept)  # kept, not deleted
    assert main(["consolidate", "--day", "2026-10-02", "-c", str(config_file)]) == 0
    assert main(["lake", "set-aside", "../../etc/passwd", "-c", str(config_file)]) == 1
    assert "not a file path inside the lake" in capsys.readouterr().err


def test_temp_files_of_dead_writers_are_removed_at_start_and_live_ones_kept(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    _day_of_vms(config.lake_dir)
    folder = partition_path(config.lake_dir, "vcd_vm", "az1", hour(2, 7)).parent
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(dead.stdout)
    stale = folder / f".20261002T0700Z.{dead_pid}.abcd1234.tmp"
    live = folder / f".20261002T0800Z.{os.getppid()}.efgh5678.tmp"
    legacy = folder / ".20261002T0900Z.xy12ab34.tmp"
    fresh_legacy = folder / ".20261002T1000Z.zz12ab34.tmp"
    for path in (stale, live, legacy, fresh_legacy):
        path.write_bytes(b"half a parquet file")
    old = time.time() - 2 * 3600
    os.utime(legacy, (old, old))
    out_tmp = config.out_dir / "invoices" / "2026-10" / f".INV-1.pdf.{dead_pid}.q1w2e3r4.tmp"
    out_tmp.parent.mkdir(parents=True)
    out_tmp.write_bytes(b"%PDF-")
    warehouse = config.data_dir / f".warehouse.{dead_pid}.zz12yy34.duckdb"
    warehouse.write_bytes(b"a warehouse rebuilt when the process died")
    with pipeline_lock(config, "test"):  # every run sweeps when it takes the lock
        pass
    assert not stale.exists() and not legacy.exists() and not out_tmp.exists()
    assert not warehouse.exists()
    assert live.exists() and fresh_legacy.exists()
    assert sweep_temp_files([config.lake]) == []  # nothing left to remove
