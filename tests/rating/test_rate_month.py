"""rate_month over a lake, the `metering rate` / `metering sql` commands and the warehouse."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from metering.cli import main
from metering.close.contract import SCHEMAS
from metering.config import load_config
from metering.errors import RatingError
from metering.rating.consolidate import consolidate_day
from metering.rating.run import output_path, rate_month
from metering.rating.warehouse import build_warehouse
from metering.window import Window
from tests.rating.conftest import write_card
from tests.rating.lake_builders import hour, vm, write, write_config_file

OCT = Window.month(2026, 10)
CARD = """
[[rates]]
product = "vcpu"
unit_price = "0.0125"

[[rates]]
product = "vm_disk"
dimension = "*"
unit_price = "0.12"
"""


@pytest.fixture
def provider(tmp_path: Path) -> Path:
    path = write_config_file(tmp_path, 'default_plan = "std"\ndefault_tax_rate = "0.21"')
    write_card(tmp_path / "pricing", CARD)
    config = load_config(path)
    for d in (1, 2):
        for h in range(24):
            write(config.lake_dir, "vcd_vm", hour(d, h), [vm(hour(d, h), vcpu=2)])
        consolidate_day(config, date(2026, 10, d))
    return path


def test_rate_month_writes_the_contract_outputs_and_is_idempotent(provider: Path) -> None:
    config = load_config(provider)
    result = rate_month(config, OCT)
    # only 2 of 31 days are consolidated: the others are missing, not estimated
    assert result.missing_days == tuple(date(2026, 10, d) for d in range(3, 32))
    assert result.estimated_lines == 0
    lines = pq.read_table(output_path(config.lake_dir, "invoice_lines", OCT)).to_pylist()
    vcpu = next(x for x in lines if x["product"] == "vcpu")
    assert vcpu["quantity"] == D(96) and vcpu["list_amount"] == D("1.20")
    assert not vcpu["estimated"] and vcpu["filled_hours"] == 0
    for name, schema in SCHEMAS.items():  # the close's contract: every column, same type
        written = pq.read_schema(output_path(config.lake_dir, name, OCT))
        for field in schema:
            assert written.field(field.name).type == field.type, (name, field.name)
    before = {n: pq.read_table(p) for n, p in result.paths.items()}
    again = rate_month(config, OCT)
    assert {n: pq.read_table(p) for n, p in again.paths.items()} == before


def test_rate_and_sql_commands(
    provider: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rate", "--month", "2026-10", "-c", str(provider)]) == 0
    out = capsys.readouterr().out
    assert "EUR" in out and "29 day(s) not consolidated, so not billed at all" in out
    assert "estimated" not in out
    csv = tmp_path / "totals.csv"
    query = "select tenant_id, total_amount from invoice_totals order by tenant_id"
    assert main(["sql", query, "-c", str(provider), "-o", str(csv)]) == 0
    # 48 vCPU-h × 2 × 0.0125 = 1.20; 100 GB × 48 h / 744 h × 0.12 = 0.77 (0.774...); VAT 21 %
    assert csv.read_text().splitlines() == ["tenant_id,total_amount", "unmapped:acme,2.38"]
    sql_file = tmp_path / "q.sql"
    sql_file.write_text(
        "select product, sum(quantity) as q from rated_usage group by product order by product"
    )
    parquet = tmp_path / "q.parquet"
    assert main(["sql", "--file", str(sql_file), "-c", str(provider), "-o", str(parquet)]) == 0
    assert pq.read_table(parquet).to_pylist() == [
        {"product": "vcpu", "q": D("96.000000000")},
        {"product": "vm_disk", "q": D("4800.000000000")},
    ]
    assert main(["sql", "select * from no_such_view", "-c", str(provider)]) == 1
    assert "no_such_view" in capsys.readouterr().err


def test_warehouse_opens_in_plain_duckdb_with_documented_views(provider: Path) -> None:
    config = load_config(provider)
    rate_month(config, OCT)
    path = build_warehouse(config)
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = {
            row[0]
            for row in con.execute("select table_name from information_schema.tables").fetchall()
        }
        expected = {
            "vcd_vm",
            "usage_intervals",
            "rated_usage",
            "invoice_lines",
            "invoice_totals",
            "unrated_usage",
            "rates",
            "rate_cards",
            "tenants",
            "tenant_orgs",
        }
        assert expected <= names
        (total,) = con.execute("select sum(total_amount) from invoice_totals").fetchone()  # type: ignore[misc]
        assert total == D("2.38")
    finally:
        con.close()
    dictionary = (Path(__file__).parents[2] / "docs" / "data-dictionary.md").read_text()
    for name in expected:
        assert f"`{name}`" in dictionary, name


def test_a_failing_audit_stops_the_rating(provider: Path) -> None:
    config = load_config(provider)
    # The same VM metered twice for the same hours (e.g. a duplicated day file).
    src = config.lake_dir / "usage_intervals" / "date=2026-10-01" / "part.parquet"
    dup = config.lake_dir / "usage_intervals" / "date=2026-10-02" / "part.parquet"
    table = pq.read_table(src)
    import pyarrow as pa

    pq.write_table(pa.concat_tables([pq.read_table(dup), table]), dup)
    with pytest.raises(RatingError, match="audit_no_double_counting"):
        rate_month(config, OCT)


def test_rate_command_consolidates_and_refuses_a_bad_month(
    provider: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rate", "--month", "2026-10", "--consolidate", "-c", str(provider)]) == 0
    assert "not consolidated" not in capsys.readouterr().out  # every day has its intervals now
    assert main(["rate", "--month", "2026-13", "-c", str(provider)]) == 2  # usage error
    assert "--month: must be YYYY-MM" in capsys.readouterr().err
    assert main(["consolidate", "--day", "2026-10-02", "-c", str(provider)]) == 0
    assert "2026-10-02: 3 usage intervals" in capsys.readouterr().out


def test_data_dictionary_describes_every_output_column(provider: Path) -> None:
    from metering.rating.intervals import INTERVALS_SCHEMA
    from metering.rating.tables import RATES, TENANTS

    config = load_config(provider)
    written = {n: pq.read_schema(p) for n, p in rate_month(config, OCT).paths.items()}
    text = (Path(__file__).parents[2] / "docs" / "data-dictionary.md").read_text()
    sections = {name: text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0] for name in SCHEMAS}
    sections["usage_intervals"] = text.split("### `usage_intervals`", 1)[1].split("\n### ", 1)[0]
    schemas = {**written, "usage_intervals": INTERVALS_SCHEMA}
    for name, schema in schemas.items():
        for field in schema:
            assert f"`{field.name}`" in sections[name], (name, field.name)
    for schema, name in ((RATES, "rates"), (TENANTS, "tenants")):
        section = text.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        for field in schema:
            assert f"`{field.name}`" in section, (name, field.name)
