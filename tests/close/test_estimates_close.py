"""Estimates through the close: filled hours on the PDF, the usage CSV and FOCUS; late data
corrects them with a credit note and a corrected invoice; FOCUS splits a card's line only
over the resources that card priced."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq

from metering.close.run import close_month
from metering.config import ProviderConfig, load_config
from metering.rating.consolidate import consolidate_day
from metering.window import Window
from tests.close.test_close import pdf_text
from tests.rating.conftest import write_card
from tests.rating.lake_builders import hour, vm, write, write_config_file

OCT = Window.month(2026, 10)
NOW = datetime(2026, 11, 1, 6, tzinfo=UTC)
# a lake of a few days of October: issued under the gate's override, lines estimated
PARTIAL = "test lake: a few days of October"
CARD = """
[[rates]]
product = "vcpu"
unit_price = "{vcpu}"

[[rates]]
product = "vm_disk"
dimension = "*"
unit_price = "0.12"
"""
CATALOG = """
[[tenants]]
id = "acme"
billing_name = "ACME Ltd"
orgs = ["acme"]
locale = "en_GB"
currency = "EUR"
tax_rate = "0.20"
plan = "std"
"""
DB = {"vm_id": "urn:vcloud:vm:2", "vm_name": "db01", "vcpu": 1}


def _provider(tmp_path: Path) -> ProviderConfig:
    path = write_config_file(tmp_path, 'default_plan = "std"')
    (tmp_path / "tenants.toml").write_text(CATALOG, encoding="utf-8")
    return load_config(path)


def _collect(config: ProviderConfig, day: int, hours: range, rows_at) -> None:  # type: ignore[no-untyped-def]
    for h in hours:
        t = hour(day, h)
        write(config.lake_dir, "vcd_vm", t, rows_at(t))


def _usage_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_filled_hours_reach_pdf_csv_and_focus_and_late_data_corrects_them(tmp_path: Path):
    config = _provider(tmp_path)
    write_card(tmp_path / "pricing", CARD.format(vcpu="0.0125"))

    def both(t: datetime) -> list[dict[str, object]]:
        return [vm(t, vcpu=2), vm(t, **DB)]

    _collect(config, 1, range(24), both)
    _collect(config, 2, range(24), both)
    late = next((config.lake_dir / "vcd_vm" / "site=az1" / "date=2026-10-02").glob("*T10*"))
    held = late.read_bytes()
    late.unlink()  # the 10:00 run of Oct 2 has not arrived: its hour is carried
    for d in (1, 2):
        consolidate_day(config, date(2026, 10, d))

    first = close_month(config, OCT, now=NOW, show_progress=False, accept_gaps=PARTIAL)
    (number,) = first.invoices
    pdf = pdf_text(first.out_dir / "invoices" / "2026-10" / f"{number}.pdf")
    assert "estimated: 2 resource-hours at the last known state" in pdf
    assert "Estimated: collection missed 4 resource-hours" in pdf  # vCPU 2 + disk 2
    rows = _usage_csv(first.out_dir / "invoices" / "2026-10" / f"{number}-usage.csv")
    filled = {(r["resource_id"], r["product"]): Decimal(r["filled_hours"]) for r in rows}
    assert filled == {
        ("urn:vcloud:vm:1", "vcpu"): Decimal(1),
        ("urn:vcloud:vm:2", "vcpu"): Decimal(1),
        ("urn:vcloud:vm:1", "vm_disk"): Decimal(1),
        ("urn:vcloud:vm:2", "vm_disk"): Decimal(1),
    }
    focus = pq.read_table(first.outputs["focus_parquet"]).to_pylist()
    usage = [r for r in focus if r["ChargeCategory"] == "Usage"]
    assert {(r["ResourceId"], r["ResourceType"], r["x_FilledHours"]) for r in usage} == {
        (rid, product, Decimal(1)) for rid, product in filled
    }

    # the late run arrives; the day is consolidated again: nothing is estimated any more,
    # and the next close corrects the invoice (same amounts, no estimate)
    late.write_bytes(held)
    consolidate_day(config, date(2026, 10, 2))
    second = close_month(config, OCT, now=NOW, show_progress=False, accept_gaps=PARTIAL)
    assert second.credit_notes and second.credited == (number,)
    (corrected,) = second.invoices
    text = pdf_text(second.out_dir / "invoices" / "2026-10" / f"{corrected}.pdf")
    assert "estimated" not in text.lower()
    assert f"replaces invoice {number}" in text.replace("\n", " ")
    rows = _usage_csv(second.out_dir / "invoices" / "2026-10" / f"{corrected}-usage.csv")
    assert {r["filled_hours"] for r in rows} == {"0"}


def test_focus_gives_a_cards_line_only_to_the_resources_it_priced(tmp_path: Path):
    config = _provider(tmp_path)
    # card 1 until Oct 2 00:00, card 2 from then; web01 runs on Oct 1 only, db01 on Oct 2 only
    write_card(tmp_path / "pricing", CARD.format(vcpu="0.0125"), end="2026-10-02T00:00:00Z")
    write_card(
        tmp_path / "pricing",
        CARD.format(vcpu="0.0110"),
        card_id="std-2",
        start="2026-10-02T00:00:00Z",
    )
    _collect(config, 1, range(24), lambda t: [vm(t, vcpu=2)])
    _collect(config, 2, range(24), lambda t: [vm(t, **DB)])
    for d in (1, 2):
        consolidate_day(config, date(2026, 10, d))
    result = close_month(config, OCT, now=NOW, show_progress=False, accept_gaps=PARTIAL)
    focus = pq.read_table(result.outputs["focus_parquet"]).to_pylist()
    by_card: dict[str, set[str]] = {}
    for row in focus:
        if row["ChargeCategory"] == "Usage" and row["ResourceType"] == "vcpu":
            by_card.setdefault(row["SkuPriceId"], set()).add(row["ResourceId"])
    # SkuPriceId: the rate card and the SKU it prices there
    assert by_card == {"std-1/vcpu:": {"urn:vcloud:vm:1"}, "std-2/vcpu:": {"urn:vcloud:vm:2"}}
    cost = {
        (row["SkuPriceId"], row["ResourceId"]): row["BilledCost"]
        for row in focus
        if row["ChargeCategory"] == "Usage" and row["ResourceType"] == "vcpu"
    }
    # 2 vCPU × 24 h × 0.0125 = 0.60 and 1 vCPU × 24 h × 0.0110 = 0.26 (0.264)
    assert cost == {
        ("std-1/vcpu:", "urn:vcloud:vm:1"): Decimal("0.60"),
        ("std-2/vcpu:", "urn:vcloud:vm:2"): Decimal("0.26"),
    }
