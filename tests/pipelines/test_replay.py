"""`replay`, what `metering demo` runs: every instant collected, each night, then the close,
all under the run lock and in the run history."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from metering.errors import LockError, TerminalError
from metering.pipelines.api import replay, run_nightly
from metering.pipelines.history import RunHistory
from metering.pipelines.settings import load_settings
from metering.window import Window

from .conftest import FakeClock, Ledger, fail_with, make_config, utc


def test_replay_interleaves_collects_and_nights_then_closes_whole_months(
    tmp_path: Path, ledger: Ledger
) -> None:
    config = make_config(tmp_path, interval_minutes=360)
    moved: list[datetime] = []
    window = Window(utc(2026, 9, 30, 12), utc(2026, 11, 1))
    outcomes = replay(config, window, set_time=moved.append, registry=ledger.registry())

    # the clock moved to each instant, and to each whole day's end before its night runs
    # (a night runs once its day has ended; sources serve the day's last hour only then)
    expected: list[datetime] = []
    for day in window.days():
        day_window = Window.day(day)
        expected += [t for t in window.steps(config.sampling_interval) if t in day_window]
        if day_window.start >= window.start and day_window.end <= window.end:
            expected.append(day_window.end)
    assert moved == expected
    assert all(o.ok for o in outcomes)
    calls = ledger.calls()
    # Sep 30 is partial (starts at noon): collected, but no night for it; October's 31 nights
    nights = [period for _, step, period in calls if step == "consolidate"]
    assert nights == [d.isoformat() for d in Window.month(2026, 10).days()]
    # each night runs right after its day's last instant, before the next day's first
    first_of_2nd = calls.index(("collect", "collect", "2026-10-02T00:00Z"))
    night_1st = calls.index(("nightly", "backfill", "2026-10-01"))
    assert calls[night_1st - 1] == ("collect", "collect", "2026-10-01T18:00Z")
    assert night_1st < first_of_2nd
    # one close, for October only, last
    assert [c for c in calls if c[0] == "close"] == [
        ("close", "rate_month", "2026-10"),
        ("close", "close_month", "2026-10"),
        ("close", "refresh_warehouse", "2026-10"),
    ]
    assert calls[-1] == ("close", "refresh_warehouse", "2026-10")
    history = RunHistory(load_settings(config).history_path)
    assert {r.trigger for r in history.runs()} == {"replay"}
    assert len(history.runs("collect", status="succeeded")) == 126


def test_replay_holds_the_lock_and_stops_at_the_first_failure(
    tmp_path: Path, ledger: Ledger
) -> None:
    config = make_config(tmp_path, interval_minutes=720)
    refused: list[str] = []

    def manual_run_meanwhile(_ctx: object) -> None:
        with pytest.raises(LockError) as info:
            run_nightly(
                config,
                date(2026, 10, 1),
                clock=FakeClock(utc(2026, 11, 1)),
                registry=ledger.registry(),
            )
        refused.append(str(info.value))

    ledger.hooks[("collect", "2026-10-02T12:00Z")] = manual_run_meanwhile
    ledger.failures[("consolidate", "2026-10-03")] = fail_with(TerminalError, "bad samples")
    with pytest.raises(
        TerminalError, match="nightly 2026-10-03 failed at step consolidate: bad samples"
    ):
        replay(config, Window.month(2026, 10), registry=ledger.registry())
    assert refused and "held by a replay" in refused[0]
    assert ledger.calls("close_month") == []
    assert ledger.calls()[-1] == ("nightly", "consolidate", "2026-10-03")
