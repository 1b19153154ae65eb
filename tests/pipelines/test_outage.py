"""A scheduler down for four weeks of a month, on the simulated provider over loopback HTTP:
the catch-up backfills what the sources still hold (Cloudian's hourly series and its group
list for every past day), runs every night, and then does not close the month: the gate
refuses, nothing is numbered, the scheduler alerts once and waits for a person."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from metering.close.register import Register
from metering.close.settings import load_settings
from metering.config import ProviderConfig, load_config
from metering.lake import store
from metering.pipelines.catchup import catch_up
from metering.pipelines.definitions import period_key
from metering.pipelines.runner import PipelineRunner
from metering.pipelines.steps import STEPS, StepContext
from metering.rating.run import output_path
from metering.window import Window

from .conftest import FakeClock

simulator = pytest.importorskip("metering.simulator")
load_inventory = pytest.importorskip("metering.simulator.inventory").load_inventory

OCT = Window.month(2026, 10)
CLOSE_DUE = datetime(2026, 11, 1, 3, tzinfo=UTC)
ALERT_SCRIPT = "import sys; open(sys.argv[1], 'a').write(sys.stdin.read() + '\\n')"


def _skip(ctx: StepContext) -> int:
    """The nights' month-to-date rating and warehouse: not what this test is about (the
    close rates the month itself), and 31 of each would only slow it down."""
    return 0


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[tuple[Any, ProviderConfig, Path]]:
    inventory = load_inventory()
    inventory = dataclasses.replace(inventory, orgs=inventory.orgs[:4])
    sim = simulator.Simulation.from_sample_data(seed=7, start=OCT.start, inventory=inventory)
    alerts = tmp_path / "alerts.jsonl"
    with simulator.serve_in_thread(sim) as server:
        path = sim.provider_config(tmp_path, server)
        text = path.read_text(encoding="utf-8").replace(
            "[provider]\n", "[provider]\nsampling_interval_minutes = 360\n", 1
        )
        command = json.dumps([sys.executable, "-c", ALERT_SCRIPT, str(alerts)])
        text += (
            '\n[scheduler]\nstart_date = "2026-10-01"\n\n[invoicing]\nworkers = 1\n'
            f"\n[alerts]\ncommand = {command}\n"
        )
        path.write_text(text, encoding="utf-8")
        yield sim, load_config(path), alerts


def test_after_a_four_week_outage_the_catch_up_backfills_then_waits_and_alerts(
    provider: tuple[Any, ProviderConfig, Path],
) -> None:
    sim, config, alerts = provider
    clock = FakeClock(OCT.start)
    registry = dict(STEPS, rate_month_to_date=_skip, refresh_warehouse=_skip)
    runner = PipelineRunner(config, registry=registry, clock=clock)
    with runner.locked():  # the first three days are collected on time ...
        for t in Window(OCT.start, OCT.start + timedelta(days=3)).steps(timedelta(hours=6)):
            sim.set_now(t)
            assert runner.run("collect", period_key("instant", t), "schedule").ok
    # ... then the scheduler is down until the close falls due
    sim.set_now(CLOSE_DUE)
    clock.set(CLOSE_DUE)
    outcomes = catch_up(runner, CLOSE_DUE)

    assert [(o.pipeline, o.status) for o in outcomes] == [("nightly", "succeeded")] * 31 + [
        ("close", "failed")
    ]
    # nothing numbered, not even the tenants billed only their minimum commitment (no usage
    # anywhere: nothing shows the missed days held none)
    register = Register(load_settings(config).register_path, config.name)
    assert [d.number for d in register.documents("2026-10") if d.number] == []
    # the backfill re-read Cloudian's group list for every past day: object storage of the
    # outage has its tenant (it would be 'no tenant' unrated usage otherwise)
    for site in ("az1", "az2"):
        days = {
            p.parent.name for p in store.dataset_files(config.lake, "cloudian_group", site=site)
        }
        assert days == {f"date={d}" for d in OCT.days()}, site
    unrated = pq.read_table(output_path(config.lake, "unrated_usage", OCT)).to_pylist()
    assert [r for r in unrated if r["product"].startswith("object_")] == []
    rated = pq.read_table(output_path(config.lake, "rated_usage", OCT)).to_pylist()
    storage_days = {r["usage_date"] for r in rated if r["product"] == "object_storage"}
    assert storage_days == set(OCT.days())  # every day of object storage is billed

    # one alert, with the problems and what to do
    (alert,) = [json.loads(line) for line in alerts.read_text().splitlines()]
    assert alert["event"] == "close_refused" and alert["period"] == "2026-10"
    assert alert["summary"].startswith("close 2026-10 refused for ")
    assert (
        "az1 vcd 2026-10-04 .. 2026-10-31: 0/112 instants collected (outage: no collection ran)"
        in "\n".join(alert["problems"])
    )
    assert "--accept-gaps" in alert["action"]
    assert [r.status for r in runner.history.runs("close", period="2026-10")] == ["failed"]

    # it waits for a person: later ticks neither close nor alert again
    later = CLOSE_DUE + timedelta(hours=5)
    clock.set(later)
    assert catch_up(runner, later) == []
    assert len(alerts.read_text().splitlines()) == 1
