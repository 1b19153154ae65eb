"""The pipeline on the simulated provider equals its ground truth to the cent.

Collect every hour over real loopback HTTP, consolidate, rate; separately price the
simulator's own ground truth (computed from its timeline, never from its API) with the same
pricing and catalog through the same SQL, and compare: usage per site, org, product and
dimension exactly, and every tenant's invoice total to the cent.

A whole simulated month takes ~15 minutes of collection here; this test lives through one
full day (24 hourly collections); `metering demo` and the benchmark cover the month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metering.config import ProviderConfig, load_config
from metering.rating.consolidate import consolidate_day, intervals_path
from metering.rating.engine import connect, register_table
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.run import load_inputs, output_path, rate_month, rate_on
from metering.window import Window

simulator = pytest.importorskip("metering.simulator")

OCT = Window.month(2026, 10)
HOUR = timedelta(hours=1)
Key = tuple[str, str, str, str]


def truth_intervals(truth: list[dict[str, str]], day: date) -> list[dict[str, Any]]:
    """Ground-truth quantities as usage rows the rating SQL prices (one count per key)."""
    start = Window.day(day).start
    return [
        {
            "usage_date": day,
            "site": r["site"],
            "dataset": "truth",
            "org_name": r["org_name"],
            "resource_type": "tkg_cluster" if r["product"] == "tkg_cluster" else "truth",
            "resource_id": f"truth/{r['org_name']}/{r['dimension']}",
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
        register_table(con, "usage_intervals", pa.Table.from_pylist(rows, schema=INTERVALS_SCHEMA))
        return rate_on(con, OCT, settings, pricing, tenants, estimated=True)
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
        yield sim, load_config(sim.provider_config(tmp_path, server))


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

    priced = rate_truth(config, truth_intervals(truth, day))
    ours = pq.read_table(output_path(config.lake_dir, "invoice_totals", OCT)).to_pylist()
    theirs = priced["invoice_totals"].to_pylist()
    assert [(t["tenant_id"], t["total_amount"]) for t in ours] == [
        (t["tenant_id"], t["total_amount"]) for t in theirs
    ]
    assert sum(t["total_amount"] for t in ours) > D(100)  # a real day of a real provider
    assert any(t["tenant_id"].startswith("unmapped:") for t in ours)  # "shadow-it"
    assert result.unrated_rows == 0
