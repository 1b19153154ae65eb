"""The pipeline on the simulated provider equals its ground truth to the cent.

Collect every hour over real loopback HTTP, consolidate, rate; separately price the
simulator's own ground truth (computed from its timeline, never from its API) with the same
pricing and catalog through the same SQL, and compare: usage per site, org, product and
dimension exactly, and every tenant's invoice total to the cent.

A whole simulated month takes ~15 minutes of collection here; this test lives through one
full day (25 hourly collections) with the shipped policy's price change moved to its noon,
so the split at a rate change is checked against the truth too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metering.config import ProviderConfig, load_config
from metering.rating.consolidate import consolidate_day, intervals_path
from metering.rating.engine import connect
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.run import (
    load_inputs,
    output_path,
    output_tables,
    rate_month,
    rate_on,
    register_usage_table,
)
from metering.resources import resource_dir
from metering.window import Window, parse_utc

simulator = pytest.importorskip("metering.simulator")

OCT = Window.month(2026, 10)
CHANGE = "2026-10-01T12:00:00Z"  # the vCPU price change, moved into the day under test
HOUR = timedelta(hours=1)
# the shipped cards' prices of the edge gateway and public IP bases (pricing/standard-*.toml)
PRICES = {
    "edge_gateway": D("0.00"),
    "edge_gateway_month": D("25.00"),
    "public_ip": D("0.0050"),
    "public_ip_month": D("0.00"),
}
Key = tuple[str, str, str, str]


def truth_intervals(truth: list[dict[str, str]], start: datetime) -> list[dict[str, Any]]:
    """Ground truth of a window starting at ``start`` as usage rows the rating SQL prices
    (one count per key, dated at the window's start, so the card in force then prices it)."""
    return [
        {
            "usage_date": start.date(),
            "site": r["site"],
            "dataset": "truth",
            "org_name": r["org_name"],
            "resource_type": "tkg_cluster" if r["product"] == "tkg_cluster" else "truth",
            "resource_id": f"truth/{r['site']}/{r['org_name']}/{r['dimension']}",
            "resource_name": "truth",
            "parent_id": None,
            "product": r["product"],
            "dimension": r["dimension"],
            "measure": "count",
            "level": D(r["quantity"]),
            "interval_start": start,
            "interval_end": start + HOUR,
            "samples": 1,
        }
        for r in truth
    ]


def rate_truth(config: ProviderConfig, rows: list[dict[str, Any]]) -> dict[str, pa.Table]:
    settings, pricing, tenants = load_inputs(config)
    con = connect()
    try:
        register_usage_table(con, pa.Table.from_pylist(rows, schema=INTERVALS_SCHEMA))
        rate_on(con, OCT, settings, pricing, tenants)
        return output_tables(con)
    finally:
        con.close()


def pipeline_usage(config: ProviderConfig, days: list[date]) -> dict[Key, D]:
    usage: dict[Key, D] = defaultdict(D)
    for day in days:
        for r in pq.read_table(intervals_path(config.lake_dir, day)).to_pylist():
            if r["measure"] == "count":
                quantity = r["level"]
            else:
                quantity = r["level"] * D((r["interval_end"] - r["interval_start"]) // HOUR)
            usage[(r["site"], r["org_name"], r["product"], r["dimension"])] += quantity
    return {k: v for k, v in usage.items() if v}


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[tuple[Any, ProviderConfig]]:
    sim = simulator.Simulation.from_sample_data(seed=7, start=OCT.start)
    with simulator.serve_in_thread(sim) as server:
        path = sim.provider_config(tmp_path, server)
        # The shipped policy, with its price change moved into the day under test (12:00).
        pricing = tmp_path / "pricing"
        pricing.mkdir()
        for card in sorted(resource_dir("pricing").glob("*.toml")):
            text = card.read_text(encoding="utf-8").replace("2026-10-15T00:00:00Z", CHANGE)
            (pricing / card.name).write_text(text, encoding="utf-8")
        # The sample catalog without its shadow-it entry: one org stays unmapped, so rating's
        # unmapped:<org> tenant is held against the truth too.
        shipped = (resource_dir("sample_data") / "tenants.toml").read_text(encoding="utf-8")
        catalog = tmp_path / "tenants-without-shadow-it.toml"
        catalog.write_text(shipped.split("\n# The provider's own IT department")[0] + "\n")
        assert "shadow-it" not in catalog.read_text()
        swap = {
            "pricing_dir": f"pricing_dir = {json.dumps(str(pricing))}",
            "tenant_catalog": f"tenant_catalog = {json.dumps(str(catalog))}",
        }
        lines = [
            next((new for key, new in swap.items() if line.startswith(key)), line)
            for line in path.read_text(encoding="utf-8").splitlines()
        ]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        yield sim, load_config(path)


@pytest.mark.slow
def test_one_simulated_day_equals_ground_truth_to_the_cent(
    provider: tuple[Any, ProviderConfig],
) -> None:
    from metering.sources.collect import collect

    sim, config = provider
    day = date(2026, 10, 1)
    # 25 collections: Cloudian's hour 23:00-24:00 is complete (and collected) at 24:00.
    for t in [*Window.day(day).steps(HOUR), Window.day(day).end]:
        sim.set_now(t)
        assert collect(config, t).status == "ok"
    consolidate_day(config, day)
    result = rate_month(config, OCT)

    truth = sim.truth(Window.day(day))
    expected = {
        (r["site"], r["org_name"], r["product"], r["dimension"]): D(r["quantity"]) for r in truth
    }
    assert pipeline_usage(config, [day]) == expected

    change = parse_utc(CHANGE)
    halves = [Window(Window.day(day).start, change), Window(change, Window.day(day).end)]
    rows = [row for half in halves for row in truth_intervals(sim.truth(half), half.start)]
    priced = rate_truth(config, rows)
    ours = pq.read_table(output_path(config.lake_dir, "invoice_totals", OCT)).to_pylist()
    theirs = priced["invoice_totals"].to_pylist()
    assert [(t["tenant_id"], t["total_amount"]) for t in ours] == [
        (t["tenant_id"], t["total_amount"]) for t in theirs
    ]
    assert sum(t["total_amount"] for t in ours) > D(100)  # a real day of a real provider
    assert any(t["tenant_id"].startswith("unmapped:") for t in ours)  # "shadow-it"
    assert result.unrated_rows == 0
    lines = pq.read_table(output_path(config.lake_dir, "invoice_lines", OCT)).to_pylist()
    vcpu_cards = {x["rate_card_id"] for x in lines if x["product"] == "vcpu"}
    assert vcpu_cards == {"standard-2026", "standard-2026-10-15"}  # split at 12:00
    # Edge gateways and public IPs (docs/metering-rules.md): each basis's lines recompute from
    # the truth's gateway-hours and IP-hours at the shipped prices (a gateway 25.00 a month,
    # an IP 0.0050 an hour; the other basis 0.00), line by line, to the cent.
    truth_lines = priced["invoice_lines"].to_pylist()
    for product, price in PRICES.items():
        got = sorted(
            (x["tenant_id"], x["site"], x["price_from"], x["quantity"], x["list_amount"])
            for x in lines
            if x["product"] == product
        )
        want = sorted(
            (x["tenant_id"], x["site"], x["price_from"], x["quantity"], x["list_amount"])
            for x in truth_lines
            if x["product"] == product
        )
        assert got == want and got, product
        for _, _, _, quantity, amount in got:
            assert amount == (quantity * price).quantize(D("0.01"), ROUND_HALF_UP), product
    billed = {p: sum(x["list_amount"] for x in lines if x["product"] == p) for p in PRICES}
    assert billed["edge_gateway_month"] > 0 and billed["public_ip"] > 0
    assert billed["edge_gateway"] == 0 and billed["public_ip_month"] == 0
