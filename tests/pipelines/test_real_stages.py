"""The real pipelines on the simulated provider over loopback HTTP: collect, nightly ingest
and the close, and a run killed with SIGKILL mid-way that, run again, leaves no duplicate
rows or invoices.

Sampling is every 6 hours here (the demo samples hourly) to keep the tests fast; what is
asserted does not depend on the interval.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from metering.config import ProviderConfig, load_config
from metering.pipelines.api import replay
from metering.pipelines.catchup import catch_up
from metering.pipelines.definitions import period_key
from metering.pipelines.runner import PipelineRunner
from metering.rating.consolidate import consolidate_day
from metering.window import Window

from .conftest import FakeClock

simulator = pytest.importorskip("metering.simulator")
load_inventory = pytest.importorskip("metering.simulator.inventory").load_inventory

REPO = Path(__file__).resolve().parents[2]
OCT_1 = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass
class Provider:
    sim: Any
    config: ProviderConfig


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[Provider]:
    # four organisations of the sample inventory keep collection and the close's PDFs quick
    inventory = load_inventory()
    inventory = dataclasses.replace(inventory, orgs=inventory.orgs[:4])
    sim = simulator.Simulation.from_sample_data(seed=7, start=OCT_1, inventory=inventory)
    with simulator.serve_in_thread(sim) as server:
        path = sim.provider_config(tmp_path, server)
        text = path.read_text(encoding="utf-8").replace(
            "[provider]\n", "[provider]\nsampling_interval_minutes = 360\n", 1
        )
        text += '\n[scheduler]\nstart_date = "2026-10-01"\n\n[invoicing]\nworkers = 1\n'
        # a month of one collected day: the close's coverage check is not what these test
        text += '\n[close]\ncoverage_threshold = "0"\n'
        path.write_text(text, encoding="utf-8")
        yield Provider(sim, load_config(path))


def _rows(path: Path) -> int:
    return int(pq.read_metadata(path).num_rows)


def _lake_rows(config: ProviderConfig, dataset: str, day: date) -> int:
    files = sorted((config.lake_dir / dataset).glob(f"site=*/date={day}/*.parquet"))
    files += sorted((config.lake_dir / dataset).glob(f"date={day}/*.parquet"))
    return sum(_rows(f) for f in files)


def _collect_day(runner: PipelineRunner, sim: Any, day: date) -> None:
    with runner.locked():
        for t in Window.day(day).steps(runner.settings.interval):
            sim.set_now(t)
            assert runner.run("collect", period_key("instant", t), "test").ok


def _seed_nights(runner: PipelineRunner, window: Window) -> None:
    """Record the nights of ``window`` as succeeded with nothing collected, as the scheduler
    would have, with the (empty) usage intervals such a night consolidates; running them for
    real would only add empty backfills to these tests."""
    for day in window.days():
        run_id = runner.history.start_run("nightly", day.isoformat(), Window.day(day), "test")
        consolidate_day(runner.config, day)
        runner.history.finish_run(run_id, "succeeded")


_KILL_AFTER = """
import os, signal, sys, pathlib
from datetime import UTC, datetime
sys.path.insert(0, {repo!r})
from metering.config import load_config
from metering.pipelines.catchup import catch_up
from metering.pipelines.runner import PipelineRunner
from metering.pipelines.steps import STEPS
from tests.pipelines.conftest import FakeClock

def killed_after(name):
    def step(ctx):
        rows = STEPS[name](ctx)
        os.kill(os.getpid(), signal.SIGKILL)  # dies after the stage wrote, before the run ends
        return rows
    return step

registry = dict(STEPS, **{{{step!r}: killed_after({step!r})}})
config = load_config(pathlib.Path({config!r}))
clock = FakeClock(datetime.fromisoformat({now!r}))
catch_up(PipelineRunner(config, registry=registry, clock=clock), clock.now())
"""


def _run_killed(config: ProviderConfig, step: str, now: datetime) -> None:
    script = _KILL_AFTER.format(
        repo=str(REPO), step=step, config=str(config.source_file), now=now.isoformat()
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, timeout=300, check=False)
    assert proc.returncode == -signal.SIGKILL


def test_nightly_killed_after_rating_runs_again_without_duplicate_rows(provider: Provider) -> None:
    config, sim = provider.config, provider.sim
    runner = PipelineRunner(config, clock=FakeClock(datetime(2026, 10, 3, 3, tzinfo=UTC)))
    _seed_nights(runner, Window.day(date(2026, 10, 1)))  # the scheduler's first night, empty
    _collect_day(runner, sim, date(2026, 10, 2))
    samples = _lake_rows(config, "vcd_vm", date(2026, 10, 2))
    assert samples > 0

    _run_killed(config, "rate_month_to_date", runner.clock.now())
    [killed] = runner.history.runs("nightly", period="2026-10-02")
    assert killed.status == "running"  # as the dead process left it
    steps = {row["step"]: row["rows"] for row in runner.history.steps(killed.run_id)}
    assert steps["consolidate"] > 0
    rated = config.lake_dir / "rating" / "rated_usage" / "month=2026-10" / "part.parquet"
    rated_by_killed_run = _rows(rated)  # written, but the run never recorded its end
    assert rated_by_killed_run > 0

    outcomes = catch_up(runner, runner.clock.now())
    assert [(o.period, o.status) for o in outcomes] == [("2026-10-02", "succeeded")]
    statuses = [r.status for r in runner.history.runs("nightly", period="2026-10-02")]
    assert statuses == ["succeeded", "interrupted"]
    # the re-run replaced what the killed run wrote: the same rows, once
    again = {row["step"]: row["rows"] for row in runner.history.steps(outcomes[0].run_id)}
    assert again["consolidate"] == steps["consolidate"]
    intervals = config.lake_dir / "usage_intervals" / "date=2026-10-02" / "part.parquet"
    assert _rows(intervals) == steps["consolidate"]
    assert _rows(rated) == again["rate_month_to_date"] == rated_by_killed_run
    assert _lake_rows(config, "vcd_vm", date(2026, 10, 2)) == samples
    assert [r.period for r in runner.history.runs("nightly", status="succeeded")] == [
        "2026-10-02",
        "2026-10-01",
    ]


def _issued(config: ProviderConfig) -> list[tuple[str, str, str]]:
    from metering.close.register import Register
    from metering.close.settings import load_settings as close_settings

    settings = close_settings(config)
    register = Register(settings.register_path, settings.provider)
    try:
        return [(d.kind.value, d.tenant_id, str(d.number)) for d in register.documents("2026-10")]
    finally:
        register.close()


def test_close_killed_after_issuing_runs_again_without_duplicate_invoices(
    provider: Provider,
) -> None:
    config, sim = provider.config, provider.sim
    replay(config, Window(OCT_1, OCT_1 + timedelta(days=1)), set_time=sim.set_now)
    # the close is due at 03:00 on Nov 1 (the simulator's config keeps the UTC time zone)
    runner = PipelineRunner(config, clock=FakeClock(datetime(2026, 11, 1, 3, tzinfo=UTC)))
    # the other nights of October ran with nothing collected
    _seed_nights(runner, Window(OCT_1 + timedelta(days=1), datetime(2026, 11, 1, tzinfo=UTC)))

    _run_killed(config, "close_month", runner.clock.now())
    issued_by_killed_run = _issued(config)
    assert issued_by_killed_run and {kind for kind, _, _ in issued_by_killed_run} == {"invoice"}

    outcomes = catch_up(runner, runner.clock.now())
    assert [(o.pipeline, o.period, o.status) for o in outcomes] == [
        ("close", "2026-10", "succeeded")
    ]
    statuses = [r.status for r in runner.history.runs("close", period="2026-10")]
    assert statuses == ["succeeded", "interrupted"]
    # the same invoices with the same numbers: nothing issued twice, no credit note
    assert _issued(config) == issued_by_killed_run
    tenants = [tenant for _, tenant, _ in issued_by_killed_run]
    assert len(tenants) == len(set(tenants))
    assert catch_up(runner, runner.clock.now()) == []
