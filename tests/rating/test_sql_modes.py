"""`metering sql` like the DuckDB CLI: output modes to standard output or a file, every
statement's result, plain output when piped, and a query never writes the warehouse file."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metering.cli import main
from metering.cli.sql_output import write_table
from metering.close.register import DOCUMENTS_SCHEMA
from metering.config import load_config
from tests.rating.test_rate_month import provider  # noqa: F401  (the fixture)
from tests.rating.test_sql_read_only import rated  # noqa: F401  (the fixture)

TOTALS = "select tenant_id, total_amount, month from invoice_totals"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sql(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["sql", "-c", str(config), *args]) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_every_mode_to_standard_output_and_files_never_touching_the_warehouse(
    rated: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    warehouse = load_config(rated).warehouse_path
    before = _digest(warehouse)
    rows = list(csv.reader(io.StringIO(_sql(rated, capsys, "-m", "csv", TOTALS))))
    assert rows == [["tenant_id", "total_amount", "month"], ["unmapped:acme", "2.38", "2026-10-01"]]
    data = json.loads(_sql(rated, capsys, "-m", "json", "-o", "-", TOTALS), parse_float=D)
    assert data == [
        {"tenant_id": "unmapped:acme", "total_amount": D("2.38"), "month": "2026-10-01"}
    ]
    markdown = _sql(rated, capsys, "-m", "markdown", TOTALS).splitlines()
    assert markdown[:3] == [
        "| tenant_id | total_amount | month |",
        "|---|---:|---|",
        "| unmapped:acme | 2.38 | 2026-10-01 |",
    ]
    # not a terminal: plain columns, numbers right-aligned, nothing cut at 80 characters
    wide = "select 12 as n, repeat('x', 120) as long_text, 'a' as last"
    table = _sql(rated, capsys, wide).splitlines()
    assert table[0] == " n  long_text" + " " * 111 + "  last"
    assert table[2] == "12  " + "x" * 120 + "  a"
    assert "│" not in "".join(table) and "┃" not in "".join(table)
    # every statement's result, in turn
    both = _sql(rated, capsys, "-m", "csv", "select 1 as a; select 2 as b")
    assert both == "a\n1\n\nb\n2\n"
    # files: the mode from the suffix, or -m
    for name in ("t.csv", "t.json", "t.md", "t.parquet"):
        assert main(["sql", "-c", str(rated), "-o", str(tmp_path / name), TOTALS]) == 0
    assert pq.read_table(tmp_path / "t.parquet").column("total_amount").to_pylist() == [D("2.38")]
    assert (tmp_path / "t.md").read_text().startswith("| tenant_id |")
    assert json.loads((tmp_path / "t.json").read_text(), parse_float=D)[0]["total_amount"] == D(
        "2.38"
    )
    assert main(["sql", "-c", str(rated), "-m", "parquet", "select 1; select 2"]) == 1
    assert "one statement per file" in capsys.readouterr().err
    assert _digest(warehouse) == before  # byte for byte: queries never write it
    assert main(["sql", "-c", str(rated), "--refresh"]) == 0
    assert "refreshed" in capsys.readouterr().err


def test_csv_into_head_ends_quietly_and_leaves_the_warehouse_untouched(
    rated: Path,  # noqa: F811
) -> None:
    warehouse = load_config(rated).warehouse_path
    before = _digest(warehouse)
    query = "select range as n, 'row ' || range as label from range(500000)"
    command = [sys.executable, "-m", "metering", "sql", "-c", str(rated), "-m", "csv", query]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as sql:
        assert sql.stdout is not None and sql.stderr is not None
        head = subprocess.run(["head", "-3"], stdin=sql.stdout, capture_output=True, check=True)
        sql.stdout.close()  # head has it now; ours closed so the writer sees the pipe close
        stderr = sql.stderr.read().decode()
        assert sql.wait(timeout=120) == 0, stderr
    assert head.stdout.decode() == "n,label\n0,row 0\n1,row 1\n"
    assert stderr == ""  # no BrokenPipeError traceback
    assert _digest(warehouse) == before


def test_documents_an_older_close_wrote_still_show_with_the_newer_columns_null(
    rated: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = load_config(rated)
    # before any close the view is there, empty, and every monthly total is an estimate
    out = _sql(rated, capsys, "-m", "csv", "select count(*) as n from documents")
    assert out == "n\n0\n"
    out = _sql(rated, capsys, "-m", "csv", "select distinct status from invoice_totals")
    assert out == "status\nestimate\n"
    old = DOCUMENTS_SCHEMA.remove(DOCUMENTS_SCHEMA.get_field_index("tenant_name"))
    for name in ("subtotal_amount", "tax_amount"):
        old = old.remove(old.get_field_index(name))
    row = {"month": "2026-10", "number": "INV-2026-000001", "kind": "invoice"}
    row |= {"state": "issued", "tenant_id": "unmapped:acme", "currency": "EUR"}
    row |= {"total_amount": D("2.38"), "content_hash": "h"}
    path = config.lake_dir / "close" / "documents" / "month=2026-10" / "part.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([row], schema=old), path)
    assert main(["sql", "-c", str(rated), "--refresh"]) == 0
    query = (
        "select d.month, d.number, d.tenant_name, d.tax_amount, d.total_amount, t.status "
        "from documents d join invoice_totals t on t.invoice_number = d.number"
    )
    out = _sql(rated, capsys, "-m", "csv", query)
    assert out.splitlines()[1] == "2026-10-01,INV-2026-000001,,,2.38,closed"


def test_a_terminal_gets_a_box_with_numbers_right_aligned_and_long_cells_wrapped() -> None:
    table = pa.table(
        {"name": ["a", "b"], "amount": [D("1.50"), D("1234.00")], "note": ["x" * 300, None]}
    )
    out = io.BytesIO()
    assert not write_table(table.to_reader(), out, terminal=True)
    lines = out.getvalue().decode().splitlines()
    row = next(line for line in lines if "1.50" in line)
    cells = [c.strip("\u2502 ") for c in row.split("\u2502")]
    assert "1.50" in cells and row.index("   1.50") > 0  # right-aligned under "1234.00"
    assert (
        "x" * 300 not in "".join(lines) and "".join(lines).count("x") == 300
    )  # wrapped, all of it
    assert any("NULL" in line for line in lines)
