"""The scheduler process: APScheduler wiring, the locks, crashes, clean shutdown, logs."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from metering.errors import LockError, TerminalError
from metering.pipelines.api import run_nightly
from metering.pipelines.logs import configure_logging
from metering.pipelines.runner import PipelineRunner
from metering.pipelines.scheduler import PipelineScheduler

from .conftest import FakeClock, Ledger, fail_with, make_config, utc, write_config

REPO = Path(__file__).resolve().parents[2]


def _wait_for(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def test_apscheduler_catches_up_on_start_and_schedules_from_the_job_store(
    tmp_path: Path, ledger: Ledger
) -> None:
    clock = FakeClock(utc(2026, 10, 4, 3, 0))
    sched = PipelineScheduler(make_config(tmp_path), registry=ledger.registry(), clock=clock)
    sched.start()
    try:
        # the start-up catch-up job runs in APScheduler's worker thread
        _wait_for(lambda: len(sched.runner.history.runs("nightly", status="succeeded")) == 3)
        amsterdam = ZoneInfo("Europe/Amsterdam")
        next_times = sched.next_run_times()
        assert next_times["nightly"].astimezone(amsterdam).time() == clock_time(2, 0)
        close_next = next_times["close"].astimezone(amsterdam)
        assert (close_next.day, close_next.time()) == (1, clock_time(3, 0))
        assert (next_times["collect"].minute, next_times["collect"].second) == (0, 0)
    finally:
        sched.shutdown()
    assert [p for _, _, p in ledger.calls("consolidate")] == [
        "2026-10-01",
        "2026-10-02",
        "2026-10-03",
    ]
    with sqlite3.connect(sched.settings.jobstore_path) as db:
        ids = {row[0] for row in db.execute("select id from apscheduler_jobs")}
    assert {"collect", "nightly", "close"} <= ids


def test_a_second_scheduler_is_refused_in_process_and_from_another_process(
    tmp_path: Path, ledger: Ledger
) -> None:
    clock = FakeClock(utc(2026, 10, 1, 12, 0))
    first = PipelineScheduler(make_config(tmp_path), registry=ledger.registry(), clock=clock)
    first.start()
    try:
        second = PipelineScheduler(make_config(tmp_path), registry=ledger.registry(), clock=clock)
        with pytest.raises(LockError, match=r"another scheduler is running.*pid \d+"):
            second.start()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "metering",
                "scheduler",
                "--config",
                str(tmp_path / "provider.toml"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            check=False,
        )
        assert proc.returncode == 1
        assert "another scheduler is running" in proc.stderr
        assert "Traceback" not in proc.stderr
    finally:
        first.shutdown()
    # once the first is gone, a scheduler starts again
    third = PipelineScheduler(make_config(tmp_path), registry=ledger.registry(), clock=clock)
    third.start()
    third.shutdown()


def test_a_manual_run_cannot_overlap_a_running_pipeline(tmp_path: Path, ledger: Ledger) -> None:
    clock = FakeClock(utc(2026, 10, 3, 12, 0))
    config = make_config(tmp_path)
    refused: list[str] = []

    def try_manual_run(_ctx: object) -> None:
        with pytest.raises(LockError) as info:
            run_nightly(config, date(2026, 10, 1), clock=clock, registry=ledger.registry())
        refused.append(str(info.value))

    ledger.hooks[("consolidate", "2026-10-02")] = try_manual_run
    runner = PipelineRunner(config, registry=ledger.registry(), clock=clock, holder="the scheduler")
    with runner.locked():
        assert runner.run("nightly", "2026-10-02", "schedule").ok
    assert len(refused) == 1
    assert "a pipeline is running" in refused[0] and "the scheduler" in refused[0]
    # and the night that was refused ran nothing
    assert [p for _, _, p in ledger.calls("consolidate")] == ["2026-10-02"]


_KILLED_CHILD = """
import sys, time, pathlib
sys.path.insert(0, {repo!r})
from datetime import date
from tests.pipelines.conftest import FakeClock, Ledger, utc
from metering.config import load_config
from metering.pipelines.api import run_nightly

ledger = Ledger(pathlib.Path({ledger!r}))
def hang(ctx):
    pathlib.Path({marker!r}).write_text("in step")
    time.sleep(600)
ledger.hooks[("consolidate", "2026-10-02")] = hang
config = load_config(pathlib.Path({config!r}))
clock = FakeClock(utc(2026, 10, 3, 12, 0))
run_nightly(config, date(2026, 10, 2), clock=clock, registry=ledger.registry())
"""


def test_a_run_killed_mid_step_runs_again_once_and_leaves_no_duplicates(
    tmp_path: Path, ledger: Ledger
) -> None:
    config_path = write_config(tmp_path, start_date="2026-10-01")
    marker = tmp_path / "in-step"
    script = _KILLED_CHILD.format(
        repo=str(REPO), ledger=str(ledger.path), marker=str(marker), config=str(config_path)
    )
    child = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        _wait_for(marker.exists, timeout=60)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)

    clock = FakeClock(utc(2026, 10, 3, 12, 0))
    sched = PipelineScheduler(make_config(tmp_path), registry=ledger.registry(), clock=clock)
    outcomes = sched.tick("catch-up")
    assert [(o.period, o.status) for o in outcomes] == [
        ("2026-10-01", "succeeded"),
        ("2026-10-02", "succeeded"),
    ]
    history = sched.runner.history.runs("nightly", period="2026-10-02")
    assert [run.status for run in history] == ["succeeded", "interrupted"]
    assert f"process {child.pid}" in (history[1].error or "")
    assert history[1].step == "consolidate"
    # every output exactly once (the ledger's outputs are keyed by step and period)
    assert ledger.outputs() == sorted(
        (step, day)
        for step in ("backfill", "consolidate", "rate_month_to_date", "refresh_warehouse")
        for day in ("2026-10-01", "2026-10-02")
    )
    assert sched.tick("catch-up") == []


def test_shutdown_lets_the_step_finish_and_the_run_resumes_at_next_start(
    tmp_path: Path, ledger: Ledger
) -> None:
    clock = FakeClock(utc(2026, 10, 2, 1, 0))
    sched = PipelineScheduler(make_config(tmp_path), registry=ledger.registry(), clock=clock)
    # SIGTERM arrives while consolidate runs: that step finishes, the rating step does not start
    ledger.hooks[("consolidate", "2026-10-01")] = lambda ctx: ctx.stop.set()
    [outcome] = sched.tick("nightly")
    assert (outcome.status, outcome.step) == ("interrupted", "rate_month_to_date")
    assert ("consolidate", "2026-10-01") in ledger.outputs()
    assert ("rate_month_to_date", "2026-10-01") not in ledger.outputs()

    del ledger.hooks[("consolidate", "2026-10-01")]
    restarted = PipelineScheduler(make_config(tmp_path), registry=ledger.registry(), clock=clock)
    assert [o.status for o in restarted.tick("catch-up")] == ["succeeded"]
    assert ("rate_month_to_date", "2026-10-01") in ledger.outputs()


def test_sigterm_stops_the_scheduler_process_cleanly(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, start_date="2030-01-01")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "metering",
            "scheduler",
            "--config",
            str(config_path),
            "--log-format",
            "json",
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if "scheduler started" in line:
                break
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=60)  # a hang here is the bug this test is for
        lines += rest.splitlines()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, lines
    messages = [json.loads(line)["message"] for line in lines if line.startswith("{")]
    assert any(m.startswith("received SIGTERM") for m in messages)
    assert messages[-1] == "scheduler stopped"
    # the lock went with the process: a new scheduler may start
    sched = PipelineScheduler(make_config(tmp_path, start_date="2030-01-01"))
    sched.lock.acquire()
    sched.lock.release()


def test_json_logs_carry_the_run_context_and_one_line_per_failure(
    tmp_path: Path, ledger: Ledger
) -> None:
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    try:
        ledger.failures[("consolidate", "2026-10-01")] = fail_with(TerminalError, "bad sample file")
        clock = FakeClock(utc(2026, 10, 2, 1, 0))
        with pytest.raises(
            TerminalError, match="nightly 2026-10-01 failed at step consolidate: bad sample file"
        ):
            run_nightly(
                make_config(tmp_path), date(2026, 10, 1), clock=clock, registry=ledger.registry()
            )
    finally:
        for name in ("metering", "apscheduler"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    [failure] = [e for e in entries if e["level"] == "error"]
    assert failure["message"] == "nightly 2026-10-01 failed at step consolidate: bad sample file"
    assert (failure["pipeline"], failure["period"], failure["step"], failure["error_kind"]) == (
        "nightly",
        "2026-10-01",
        "consolidate",
        "terminal",
    )
    assert all(e["logger"].startswith("metering") for e in entries)


def test_pid_in_lock_message_is_this_process(tmp_path: Path, ledger: Ledger) -> None:
    runner = PipelineRunner(make_config(tmp_path), registry=ledger.registry(), holder="a replay")
    other = PipelineRunner(make_config(tmp_path), registry=ledger.registry())
    with runner.locked(), pytest.raises(LockError, match=f"held by a replay \\(pid {os.getpid()}"):
        other.lock.acquire()


def test_a_tick_during_a_manual_run_skips_and_the_next_catches_up(
    tmp_path: Path, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "metering")
    clock = FakeClock(utc(2026, 10, 2, 1, 0))
    sched = PipelineScheduler(make_config(tmp_path), registry=ledger.registry(), clock=clock)
    manual = PipelineRunner(make_config(tmp_path), registry=ledger.registry(), clock=clock)
    with manual.locked():
        assert sched.tick("nightly") == []
    assert any(
        "nightly tick skipped: a pipeline is running" in r.getMessage() for r in caplog.records
    )
    outcomes = sched.tick("collect", utc(2026, 10, 2, 2, 0))
    assert [o.period for o in outcomes] == ["2026-10-02T02:00Z", "2026-10-01"]
