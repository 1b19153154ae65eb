"""`metering sql` is read-only for real: no statement but a query runs, nothing outside the
lake is read, no file is written except the one --output names."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from metering.cli import main
from metering.config import load_config
from metering.lake.store import write_partition
from tests.rating.lake_builders import hour, vm
from tests.rating.test_rate_month import provider  # noqa: F401  (the fixture)


@pytest.fixture
def rated(provider: Path) -> Path:  # noqa: F811
    assert main(["rate", "--month", "2026-10", "-c", str(provider)]) == 0
    return provider


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("copy (select 1) to '{out}/x.csv'", "COPY"),
        ("copy invoice_totals to '{lake}/rating/evil.parquet'", "COPY"),
        ("export database '{out}/dump'", "EXPORT"),
        ("attach '{out}/other.duckdb' as o", "ATTACH"),
        ("install httpfs", "LOAD"),  # DuckDB types INSTALL as a LOAD statement
        ("set enable_external_access = true", "SET"),
        ("select 1; copy (select 1) to '{out}/y.csv'", "COPY"),
        ("create table t as select 1", "CREATE"),
    ],
)
def test_statements_that_are_not_queries_are_refused_before_anything_runs(
    rated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], query: str, kind: str
) -> None:
    lake = load_config(rated).lake_dir
    before = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    text = query.format(out=tmp_path, lake=lake)
    assert main(["sql", text, "-c", str(rated), "--no-refresh"]) == 1
    err = capsys.readouterr().err
    assert f"only queries run here (SELECT, EXPLAIN, SHOW, DESCRIBE), not {kind}" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == before  # nothing written


@pytest.mark.parametrize(
    "query",
    [
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/hostname')",
        "select * from sniff_csv('/etc/passwd')",  # read files past the setting in DuckDB 1.0
        "select * from glob('/etc/*')",
        "select * from read_parquet('{lake}/../../provider.toml')",
        "select * from read_csv('{secret}')",
    ],
)
def test_files_outside_the_lake_cannot_be_read(
    rated: Path, capsys: pytest.CaptureFixture[str], query: str
) -> None:
    config = load_config(rated)
    secret = config.source_file.parent / "secret.txt"
    secret.write_text("s3cr3t-value\n")
    text = query.format(lake=config.lake_dir, secret=secret)
    assert main(["sql", text, "-c", str(rated), "--no-refresh"]) == 1
    captured = capsys.readouterr()
    assert "s3cr3t-value" not in captured.out + captured.err
    assert "root:" not in captured.out
    assert "Permission Error" in captured.err and len(captured.err.strip().splitlines()) == 1


def test_queries_still_read_the_lake_and_output_writes_only_where_asked(
    rated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(rated)
    assert main(["sql", "show tables", "-c", str(rated)]) == 0
    assert main(["sql", "select count(*) from vcd_vm", "-c", str(rated), "--no-refresh"]) == 0
    assert "48" in capsys.readouterr().out
    # a hostile VM name through the explicit output: quoted, defused, one row per record
    t = hour(3, 0)
    write_partition(config.lake_dir, "vcd_vm", "az1", t, [vm(t, vm_name="x\r=1+1", vcpu=2)])
    out = tmp_path / "exports" / "vms.csv"
    query = "select vm_name, vcpu from vcd_vm where sample_time = '2026-10-03 00:00:00+00'"
    assert main(["sql", query, "-c", str(rated), "-o", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode(), newline="")))
    assert rows == [["vm_name", "vcpu"], ["x\r=1+1", "2"]]
