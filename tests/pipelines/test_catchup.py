"""Schedules and catch-up, driven by a fake clock: nights fire on time, missed nights run
once each in order, failures retry or wait for a person, and the close waits for its nights."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from metering.close.register import Register
from metering.close.settings import load_settings
from metering.config import load_config
from metering.errors import CloseError, SourceUnavailable, TerminalError
from metering.pipelines.api import run_close, run_nightly
from metering.pipelines.catchup import catch_up
from metering.pipelines.runner import PipelineRunner
from metering.pipelines.scheduler import PipelineScheduler
from metering.pipelines.steps import STEPS
from metering.window import Window
from tests.close.builders import build_month

from .conftest import FakeClock, Ledger, fail_with, make_config, utc


def _scheduler(
    tmp_path: Path, ledger: Ledger, now: datetime, **settings: object
) -> tuple[PipelineScheduler, FakeClock]:
    clock = FakeClock(now)
    return PipelineScheduler(
        make_config(tmp_path, **settings), registry=ledger.registry(), clock=clock
    ), clock


def _nights(ledger: Ledger) -> list[str]:
    return [period for _, _, period in ledger.calls("consolidate")]


def test_nightly_fires_at_0200_local_time_for_the_previous_utc_day(
    tmp_path: Path, ledger: Ledger
) -> None:
    # Amsterdam is UTC+2 in early October: 02:00 local is 00:00 UTC.
    sched, _clock = _scheduler(tmp_path, ledger, utc(2026, 10, 1, 23, 59))
    assert sched.tick("nightly") == []
    outcomes = sched.tick("nightly", utc(2026, 10, 2, 0, 0))
    assert [(o.pipeline, o.period, o.status) for o in outcomes] == [
        ("nightly", "2026-10-01", "succeeded")
    ]
    assert [s for _, s, _ in ledger.calls()] == [
        "backfill",
        "consolidate",
        "rate_month_to_date",
        "refresh_warehouse",
    ]
    # a later tick the same night does not run it again
    assert sched.tick("nightly", utc(2026, 10, 2, 0, 30)) == []
    assert _nights(ledger) == ["2026-10-01"]


def test_nightly_follows_the_time_zone_across_the_dst_change(
    tmp_path: Path, ledger: Ledger
) -> None:
    # 2026-10-25 Amsterdam leaves summer time: from then 02:00 local is 01:00 UTC.
    sched, _ = _scheduler(tmp_path, ledger, utc(2026, 10, 25, 0, 0), start_date="2026-10-24")
    assert [o.period for o in sched.tick("nightly")] == ["2026-10-24"]
    assert sched.tick("nightly", utc(2026, 10, 26, 0, 59)) == []
    assert [o.period for o in sched.tick("nightly", utc(2026, 10, 26, 1, 0))] == ["2026-10-25"]


def test_three_missed_nights_run_once_each_in_order_after_restart(
    tmp_path: Path, ledger: Ledger
) -> None:
    sched, _ = _scheduler(tmp_path, ledger, utc(2026, 10, 4, 0, 30))
    assert [o.period for o in sched.tick("nightly")] == ["2026-10-01", "2026-10-02", "2026-10-03"]
    # down from Oct 4 to Oct 7 05:00 local: nights of the 4th, 5th and 6th were missed
    restarted, _ = _scheduler(tmp_path, ledger, utc(2026, 10, 7, 3, 0))
    outcomes = restarted.tick("catch-up")
    assert [(o.period, o.status) for o in outcomes] == [
        ("2026-10-04", "succeeded"),
        ("2026-10-05", "succeeded"),
        ("2026-10-06", "succeeded"),
    ]
    assert _nights(ledger) == [f"2026-10-0{d}" for d in range(1, 7)]
    assert restarted.tick("nightly") == []  # nothing twice
    assert len(restarted.runner.history.runs("nightly", status="succeeded")) == 6


def test_transient_failure_is_retried_after_the_delay_then_left_to_a_person(
    tmp_path: Path, ledger: Ledger
) -> None:
    ledger.failures[("backfill", "2026-10-01")] = fail_with(
        SourceUnavailable, "site az1 unreachable"
    )
    sched, _ = _scheduler(
        tmp_path, ledger, utc(2026, 10, 2, 0, 0), retry_delay_minutes=60, max_attempts=2
    )
    [first] = sched.tick("nightly")
    assert (first.status, first.error_kind, first.step) == ("failed", "transient", "backfill")
    assert sched.tick("nightly", utc(2026, 10, 2, 0, 59)) == []  # too early for a retry
    assert len(ledger.calls("backfill")) == 1
    [second] = sched.tick("nightly", utc(2026, 10, 2, 1, 0))
    assert second.status == "failed"
    assert (
        sched.tick("nightly", utc(2026, 10, 3, 0, 0))[0].period == "2026-10-02"
    )  # next night still runs
    assert (
        len(ledger.calls("backfill")) == 3
    )  # two attempts of the 1st, one of the 2nd: no third attempt


def test_terminal_failure_is_not_retried(tmp_path: Path, ledger: Ledger) -> None:
    ledger.failures[("consolidate", "2026-10-01")] = fail_with(TerminalError, "bad sample file")
    sched, _ = _scheduler(tmp_path, ledger, utc(2026, 10, 2, 0, 0))
    assert sched.tick("nightly")[0].error == "bad sample file"
    assert sched.tick("nightly", utc(2026, 10, 2, 6, 0)) == []
    assert len(ledger.calls("consolidate")) == 1


def _run_october(sched: PipelineScheduler) -> None:
    # one tick per night at 02:00 local (00:00 UTC in summer time, 01:00 UTC after Oct 25)
    for day in range(2, 32):
        sched.tick("nightly", utc(2026, 10, day, 1, 0))


def test_close_waits_for_a_failed_night_says_why_then_runs(
    tmp_path: Path, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    ledger.failures[("consolidate", "2026-10-14")] = fail_with(
        TerminalError, "sample file unreadable"
    )
    sched, clock = _scheduler(tmp_path, ledger, utc(2026, 10, 2, 1, 0))
    _run_october(sched)
    # Nov 1 03:00 CET = 02:00 UTC: the last night and then the close fall due
    clock.set(utc(2026, 11, 1, 2, 0))
    outcomes = sched.tick("close")
    assert [o.period for o in outcomes] == ["2026-10-31"]
    [waiting] = sched.runner.history.runs("close", status="waiting")
    assert waiting.period == "2026-10"
    assert "nightly 2026-10-14 failed (sample file unreadable)" in (waiting.error or "")
    assert any(
        "close 2026-10 waits: nightly 2026-10-14 failed" in r.getMessage() for r in caplog.records
    )
    assert ledger.calls("close_month") == []
    with pytest.raises(CloseError, match="nightly 2026-10-14 failed"):
        run_close(
            sched.runner.config, Window.month(2026, 10), clock=clock, registry=ledger.registry()
        )

    # a person fixes the data and re-runs the night by hand; the next tick closes the month
    del ledger.failures[("consolidate", "2026-10-14")]
    run_nightly(sched.runner.config, date(2026, 10, 14), clock=clock, registry=ledger.registry())
    outcomes = sched.tick("collect", utc(2026, 11, 1, 3, 0))
    assert [(o.pipeline, o.period, o.status) for o in outcomes if o.pipeline == "close"] == [
        ("close", "2026-10", "succeeded")
    ]
    assert [p for _, _, p in ledger.calls("close_month")] == ["2026-10"]
    assert sched.runner.history.runs("close", status="waiting") == []
    later = sched.tick("close", utc(2026, 11, 2, 3, 0))
    assert [o.pipeline for o in later] == ["nightly"]  # the next night, but the month closed once


def test_close_waits_for_a_night_that_never_ran(tmp_path: Path, ledger: Ledger) -> None:
    clock = FakeClock(utc(2026, 11, 1, 2, 0))
    config = make_config(tmp_path)
    runner = PipelineRunner(config, registry=ledger.registry(), clock=clock)
    with runner.locked():
        for day in Window.month(2026, 10).days():
            if day != date(2026, 10, 20):
                runner.run("nightly", day.isoformat(), "manual")
    clock.set(utc(2026, 11, 1, 1, 59))  # before the close is due: the missing night just runs
    outcomes = catch_up(runner, clock.now())
    assert [o.period for o in outcomes] == ["2026-10-20"]
    assert catch_up(runner, utc(2026, 11, 1, 2, 0))[0].period == "2026-10"


def test_the_close_is_not_due_before_its_day_and_time(tmp_path: Path, ledger: Ledger) -> None:
    sched, _clock = _scheduler(
        tmp_path, ledger, utc(2026, 10, 2, 1, 0), close_day=2, close_at="06:00"
    )
    _run_october(sched)
    before = sched.tick("close", utc(2026, 11, 2, 4, 59))
    assert [(o.pipeline, o.period) for o in before] == [
        ("nightly", "2026-10-31"),
        ("nightly", "2026-11-01"),
    ]
    assert [(o.pipeline, o.period) for o in sched.tick("close", utc(2026, 11, 2, 5, 0))] == [
        ("close", "2026-10")
    ]


def test_manual_nightly_refuses_a_day_that_has_not_ended(tmp_path: Path, ledger: Ledger) -> None:
    clock = FakeClock(utc(2026, 10, 5, 12, 0))
    with pytest.raises(Exception, match="has not ended"):
        run_nightly(
            make_config(tmp_path), date(2026, 10, 5), clock=clock, registry=ledger.registry()
        )


def test_collect_tick_collects_the_grid_instant_once(tmp_path: Path, ledger: Ledger) -> None:
    sched, _ = _scheduler(tmp_path, ledger, utc(2026, 10, 1, 5, 3), start_date="2026-12-01")
    assert [o.period for o in sched.tick("collect")] == ["2026-10-01T05:00Z"]
    assert sched.tick("collect", utc(2026, 10, 1, 5, 20)) == []
    assert sched.tick("collect", utc(2026, 10, 1, 6, 45)) == []  # beyond the misfire grace: skipped
    assert [p for _, _, p in ledger.calls("collect")] == ["2026-10-01T05:00Z"]
    assert timedelta(minutes=30) == sched.settings.misfire_grace


def test_the_waiting_reason_groups_nights_and_names_each_failure(
    tmp_path: Path, ledger: Ledger
) -> None:
    ledger.failures[("consolidate", "2026-10-05")] = fail_with(TerminalError, "bad file")
    ledger.failures[("consolidate", "2026-10-06")] = fail_with(TerminalError, "bad file")
    clock = FakeClock(utc(2026, 11, 1, 2, 0))
    runner = PipelineRunner(make_config(tmp_path), registry=ledger.registry(), clock=clock)
    with runner.locked():
        for day in range(1, 11):
            runner.run("nightly", f"2026-10-{day:02d}", "manual")
    blockers = runner.blockers(runner.pipeline("close"), "2026-10")
    assert blockers == [
        "nightly 2026-10-05 failed (bad file)",
        "nightly 2026-10-06 failed (bad file)",
        "nightly 2026-10-11 .. 2026-10-31 have not run",
    ]


def test_run_close_issues_despite_gaps_only_with_a_recorded_reason(
    tmp_path: Path, ledger: Ledger
) -> None:
    # a rated month with no collected samples behind it: the gate finds coverage 0 everywhere
    config = build_month(tmp_path)
    path = tmp_path / "provider.toml"
    path.write_text(
        path.read_text().replace('coverage_threshold = "0"', 'coverage_threshold = "0.95"')
    )
    config = load_config(path)
    clock = FakeClock(utc(2026, 11, 2, 12, 0))
    registry = {**ledger.registry(), "close_month": STEPS["close_month"]}  # the real close
    runner = PipelineRunner(config, registry=registry, clock=clock)
    with runner.locked():
        for day in Window.month(2026, 10).days():
            runner.run("nightly", day.isoformat(), "manual")
    month = Window.month(2026, 10)
    with pytest.raises(TerminalError, match=r"close 2026-10 refused for \d+ tenant\(s\)"):
        run_close(config, month, clock=clock, registry=registry)
    register = Register(load_settings(config).register_path, config.name)
    assert [d.number for d in register.documents("2026-10") if d.number] == []
    reason = "az1 collector outage, usage confirmed from VCD events"
    outcome = run_close(config, month, clock=clock, registry=registry, accept_gaps=reason)
    assert outcome.status == "succeeded"
    issued = [d for d in register.documents("2026-10") if d.number]
    assert issued and set(register.accepted_gaps([d.id for d in issued]).values()) == {reason}
    register.close()
