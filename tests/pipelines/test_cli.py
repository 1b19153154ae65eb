"""The commands: `metering run ...` and `metering pipeline-runs`, errors as one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from metering.cli import main
from metering.errors import SourceUnavailable, TransientError
from metering.pipelines.api import run_nightly

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


def test_run_arguments_are_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = make_config(tmp_path)
    assert (
        main(["run", "nightly", "--date", "2026-13-01", "--config", str(config.source_file)]) == 1
    )
    assert "--date must be YYYY-MM-DD" in capsys.readouterr().err
    assert main(["run", "close", "--month", "October", "--config", str(config.source_file)]) == 1
    assert "--month" in capsys.readouterr().err
    assert main(["scheduler", "--log-format", "xml", "--config", str(config.source_file)]) == 1
    assert "--log-format must be text or json" in capsys.readouterr().err


def test_scheduler_once_with_nothing_due_exits_cleanly(tmp_path: Path) -> None:
    config = make_config(tmp_path, start_date="2030-01-01")
    assert main(["scheduler", "--once", "--config", str(config.source_file)]) == 0
