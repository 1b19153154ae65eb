"""The close on the real rating stage: lake samples → consolidate → rate_month → close_month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from metering.cli import main
from metering.close.run import close_month
from metering.config import load_config
from metering.rating.consolidate import consolidate_day
from metering.rating.run import output_path
from metering.window import Window
from tests.close.test_close import pdf_text
from tests.rating.conftest import write_card
from tests.rating.lake_builders import dse, hour, vm, write, write_config_file

OCT = Window.month(2026, 10)
NOW = datetime(2026, 11, 1, 6, tzinfo=UTC)
GAPS = "test lake: two days of usage only"
CARD = """
[[rates]]
product = "vcpu"
unit_price = "{vcpu}"

[[rates]]
product = "vm_disk"
dimension = "*"
unit_price = "0.12"

[[rates]]
product = "dse_core"
dimension = "*"
unit_price = "0.02"
"""
CATALOG = """
[[tenants]]
id = "acme"
billing_name = "ACME Industries GmbH"
orgs = ["acme"]
address = "Hauptstraße 5, 10115 Berlin"
locale = "de_DE"
currency = "EUR"
tax_rate = "0.21"
plan = "std"
"""


def _provider(tmp_path: Path) -> Path:
    path = write_config_file(tmp_path, 'default_plan = "std"\ndefault_tax_rate = "0.21"')
    (tmp_path / "tenants.toml").write_text(CATALOG, encoding="utf-8")
    write_card(tmp_path / "pricing", CARD.format(vcpu="0.0125"))
    config = load_config(path)
    for d in (1, 2):
        for h in range(24):
            t = hour(d, h)
            write(config.lake_dir, "vcd_vm", t, [vm(t, vcpu=2)])
            write(config.lake_dir, "dse_instance", t, [dse(t)])
        consolidate_day(config, date(2026, 10, d))
    return path


def _total(config) -> Decimal:
    rows = pq.read_table(output_path(config.lake_dir, "invoice_totals", OCT)).to_pylist()
    assert [r["tenant_id"] for r in rows] == ["acme"]
    return Decimal(rows[0]["total_amount"])


def test_close_rates_the_month_and_the_pdf_total_equals_the_rating_output(tmp_path):
    config = load_config(_provider(tmp_path))
    # 2 of 31 days consolidated: the plain close numbers nothing and says which nights
    refused = close_month(config, OCT, now=NOW, show_progress=False)
    assert refused.refused and refused.invoices == () and set(refused.held) == {"acme"}
    assert any(
        line.startswith("all sites all sources 2026-10-03 .. 2026-10-31: not consolidated")
        and "metering run nightly --date 2026-10-03" in line
        for line in refused.problems
    )
    assert not (refused.out_dir / "invoices" / "2026-10").exists()
    # issued anyway, with the reason recorded on the invoice, in the warehouse's documents
    result = close_month(config, OCT, now=NOW, show_progress=False, accept_gaps=GAPS)
    assert result.accepted_gaps == GAPS and not result.refused
    accepted = pq.read_table(result.outputs["documents"]).to_pylist()
    assert [(d["number"], d["accepted_gaps"]) for d in accepted] == [("INV-2026-000001", GAPS)]
    total = _total(config)
    text = pdf_text(result.out_dir / "invoices" / "2026-10" / "INV-2026-000001.pdf")
    assert "INV-2026-000001" in text and "ACME Industries GmbH" in text
    assert f"Gesamtbetrag {total:.2f}".replace(".", ",") + " €" in text  # acme reads German
    # only 2 of 31 days are consolidated: the rest is not billed, which is not an estimate
    assert "Estimated" not in text

    # a price correction: the next close re-rates, credits the invoice and issues a new one
    write_card(tmp_path / "pricing", CARD.format(vcpu="0.0100"))
    second = close_month(config, OCT, now=NOW, show_progress=False, accept_gaps=GAPS)
    assert second.credit_notes == ("CN-2026-000001",)
    assert second.invoices == ("INV-2026-000002",)
    corrected = _total(config)
    assert corrected < total
    text = pdf_text(second.out_dir / "invoices" / "2026-10" / "INV-2026-000002.pdf")
    assert f"Gesamtbetrag {corrected:.2f}".replace(".", ",") + " €" in text

    # and the command line: closing again changes nothing
    cmd = ["close", "--month", "2026-10", "-c", str(config.source_file)]
    assert main([*cmd, "--accept-gaps", GAPS]) == 0
    assert main(cmd) == 1  # without the override the gate still refuses (and issues nothing)
    assert (
        main(["showback", "--tenant", "acme", "--month", "2026-10", "-c", str(config.source_file)])
        == 0
    )
    assert (config.out_dir / "showback" / "acme-2026-10.html").exists()
    # month to date: rates the current month first (no usage yet here) and says so
    assert (
        main(["showback", "--tenant", "acme", "--month-to-date", "-c", str(config.source_file)])
        == 0
    )
    current = (config.out_dir / "showback" / f"acme-{datetime.now(UTC):%Y-%m}.html").read_text()
    assert "SCHÄTZUNG: keine Rechnung" in current  # acme reads German (de_DE)
