"""The fill policy end to end in rating: filled hours per resource and per invoice line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pyarrow.parquet as pq

from metering.config import load_config
from metering.rating.consolidate import consolidate_day
from metering.rating.run import output_path, rate_month
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
OTHER = {"vm_id": "urn:vcloud:vm:2", "vm_name": "db01", "vcpu": 1}


def rated(tmp_path: Path, missing: set[tuple[int, int]]) -> dict[str, list[dict[str, object]]]:
    path = write_config_file(tmp_path, 'default_plan = "std"')
    write_card(tmp_path / "pricing", CARD)
    config = load_config(path)
    for d in (1, 2):
        for h in range(24):
            if (d, h) not in missing:
                t = hour(d, h)
                write(config.lake_dir, "vcd_vm", t, [vm(t, vcpu=2), vm(t, **OTHER)])
        consolidate_day(config, date(2026, 10, d))
    result = rate_month(config, OCT)
    assert result.missing_days == tuple(date(2026, 10, d) for d in range(3, 32))
    return {
        name: pq.read_table(output_path(config.lake_dir, name, OCT)).to_pylist()
        for name in ("invoice_lines", "rated_usage")
    } | {"result": [{"estimated_lines": result.estimated_lines}]}


def test_a_missed_run_marks_its_carried_hour_per_resource_and_per_line(tmp_path: Path) -> None:
    out = rated(tmp_path, missing={(2, 10)})  # the 10:00 run of Oct 2 never happened
    lines = {x["product"]: x for x in out["invoice_lines"]}
    # the quantity is the carried state's (48 h × 3 vCPU): estimated, not dropped
    assert lines["vcpu"]["quantity"] == D(144) and lines["vcpu"]["list_amount"] == D("1.80")
    # two VMs × the one carried hour: 2 resource-hours on each product's line
    assert (lines["vcpu"]["estimated"], lines["vcpu"]["filled_hours"]) == (True, D(2))
    assert (lines["vm_disk"]["estimated"], lines["vm_disk"]["filled_hours"]) == (True, D(2))
    assert out["result"] == [{"estimated_lines": 2}]
    per_resource = {
        (r["resource_id"], r["usage_date"].day, r["product"]): r["filled_hours"]
        for r in out["rated_usage"]
    }
    assert per_resource[("urn:vcloud:vm:1", 2, "vcpu")] == D(1)
    assert per_resource[("urn:vcloud:vm:2", 2, "vm_disk")] == D(1)
    assert per_resource[("urn:vcloud:vm:1", 1, "vcpu")] == D(0)


def test_collection_without_gaps_estimates_nothing_even_with_days_missing(
    tmp_path: Path,
) -> None:
    out = rated(tmp_path, missing=set())
    assert all(not x["estimated"] and x["filled_hours"] == 0 for x in out["invoice_lines"])
    assert all(r["filled_hours"] == 0 for r in out["rated_usage"])
    assert out["result"] == [{"estimated_lines": 0}]
