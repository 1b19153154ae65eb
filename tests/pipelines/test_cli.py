"""The commands: `metering run ...` and `metering pipeline-runs`, errors as one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from metering.cli import main
from metering.errors import SourceDataError, SourceUnavailable, TransientError
from metering.pipelines.api import run_nightly
from metering.pipelines.definitions import load_pipelines
from metering.pipelines.runner import SystemClock
from metering.pipelines.steps import STEPS

from .conftest import FakeClock, Ledger, fail_with, make_config, utc


def test_pipeline_runs_lists_runs_with_status_rows_and_error(
    tmp_path: Path, ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path)
    clock = FakeClock(utc(2026, 10, 3, 12, 0))
    run_nightly(config, date(2026, 10, 1), clock=clock, registry=ledger.registry())
    ledger.failures[("backfill", "2026-10-02")] = fail_with(
        SourceUnavailable, "site az1 unreachable"
    )
    with pytest.raises(TransientError, match="nightly 2026-10-02 failed at step backfill"):
        run_nightly(config, date(2026, 10, 2), clock=clock, registry=ledger.registry())
    capsys.readouterr()
    assert main(["pipeline-runs", "--config", str(config.source_file)]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "nightly" in line]
    assert "2026-10-02" in lines[0] and "failed" in lines[0] and "site az1" in lines[0]
    assert "2026-10-01" in lines[1] and "succeeded" in lines[1] and " 4 " in lines[1]
    assert main(["pipeline-runs", "--config", str(config.source_file), "--status", "failed"]) == 0
    assert "2026-10-01" not in capsys.readouterr().out


def test_run_close_refuses_with_the_missing_nights_as_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path)
    assert main(["run", "close", "--month", "2026-10", "--config", str(config.source_file)]) == 1
    err = capsys.readouterr().err
    assert "close 2026-10 waits: nightly 2026-10-01 .. 2026-10-31 have not run" in err
    assert "Traceback" not in err


def test_run_arguments_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(make_config(tmp_path).source_file)
    for args, usage, problem in (
        (["run", "nightly", "--date", "2026-13-01"], "run nightly", "--date must be YYYY-MM-DD"),
        (["run", "close", "--month", "October"], "run close", "--month: month must be YYYY-MM"),
        (["scheduler", "--log-format", "xml"], "scheduler", "--log-format must be text or json"),
    ):
        assert main([*args, "--config", config]) == 2
        err = capsys.readouterr().err
        assert f"Usage: metering {usage} [OPTIONS]" in err and f"Error: {problem}" in err


def test_scheduler_once_with_nothing_due_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config(tmp_path, start_date="2030-01-01")
    assert main(["scheduler", "--once", "--config", str(config.source_file)]) == 0
    assert capsys.readouterr().out.startswith("nothing was due")


def test_scheduler_once_prints_what_it_ran_and_what_waits(
    tmp_path: Path, ledger: Ledger, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    for name, step in ledger.registry().items():  # the scheduler's own registry, recording
        monkeypatch.setitem(STEPS, name, step)
    monkeypatch.setattr(SystemClock, "now", lambda self: utc(2026, 11, 2, 6, 0))
    config = str(make_config(tmp_path, start_date="2026-10-30").source_file)
    ledger.failures[("backfill", "2026-10-31")] = fail_with(
        SourceDataError, "vcd_vm: numberOfCpus missing"
    )
    assert main(["scheduler", "--once", "--config", config]) == 1
    out = capsys.readouterr().out.splitlines()
    steps = len(load_pipelines(None)["nightly"].steps)  # a ledger step writes one row
    assert out[0] == "ran 3 pipeline run(s):"
    assert out[1].split()[:4] == ["nightly", "2026-10-30", "succeeded", str(steps)]
    assert out[2].split()[:3] == ["nightly", "2026-10-31", "failed"]
    assert "at step backfill: vcd_vm: numberOfCpus missing  (run " in out[2]
    assert out[3].split()[:4] == ["nightly", "2026-11-01", "succeeded", str(steps)]
    assert out[4].startswith("waiting: close 2026-10 waits: nightly 2026-10-01")
    assert len(out) == 5
