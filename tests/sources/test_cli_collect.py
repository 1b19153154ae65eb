"""`metering collect|backfill|runs`: one-line errors, the run log shown."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from metering.cli import main
from metering.lake import store

T0 = datetime(2026, 10, 1, 5, tzinfo=UTC)


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEST_VCD_PW", "pw")
    path = tmp_path / "provider.toml"
    path.write_text(
        """
[provider]
name = "test"
data_dir = "data"
tenant_catalog = "tenants.toml"
pricing_dir = "pricing"

[[sites]]
name = "az1"
vcd_url = "http://127.0.0.1:9/az1/vcd"
vcd_user = "admin"
vcd_password_env = "TEST_VCD_PW"
timeout_seconds = 0.5
""",
        encoding="utf-8",
    )
    return path


def test_runs_shows_the_run_log(
    config_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from metering.cli import collect as cli

    monkeypatch.setattr(cli.console, "width", 160)
    assert main(["runs", "--config", str(config_file)]) == 0
    assert "no runs recorded yet" in capsys.readouterr().out
    lake = config_file.parent / "data" / "lake"
    row = {
        "run_id": "20261001T0500Z-abc",
        "site": "az1",
        "source": "vcd",
        "sample_time": T0,
        "window_start": T0,
        "window_end": T0,
        "status": "failed",
        "rows": 0,
        "quarantined": 0,
        "errors": 1,
        "error": "GET /api/query: HTTP 503",
        "datasets": [],
        "started_at": T0,
        "finished_at": T0,
        "duration_ms": 5,
    }
    store.write_partition(lake, "runs", "az1", T0, [row], suffix="20261001T0500Z-abc")
    assert main(["runs", "--config", str(config_file)]) == 0
    out = capsys.readouterr().out
    assert "20261001T0500Z-abc" in out and "failed" in out and "HTTP 503" in out


def test_bad_arguments_are_one_line_errors(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["backfill", "--config", str(config_file), "--from", "2026-10-02", "--to", "2026-10-01"]
    assert main(args) == 2  # usage errors
    err = capsys.readouterr().err
    assert "--from/--to" in err and "Traceback" not in err
    assert main(["collect", "--config", str(config_file), "--at", "tomorrow"]) == 2
    assert "--at: not an ISO-8601 timestamp" in capsys.readouterr().err
    assert main(["collect", "--config", str(config_file), "--sources", "nope"]) == 1
    assert "unknown source(s) ['nope']" in capsys.readouterr().err


def test_an_unreachable_site_fails_the_run_and_records_the_gap(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "collect",
        "--config",
        str(config_file),
        "--at",
        "2026-10-01T05:20Z",
        "--sources",
        "alp",
    ]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "az1" in out and "failed" in out
    lake = config_file.parent / "data" / "lake"
    runs = store.read_dataset(lake, "runs").to_pylist()
    assert [(r["source"], r["status"], r["sample_time"]) for r in runs] == [
        ("alp", "failed", datetime(2026, 10, 1, 5, tzinfo=UTC))  # floored to the hourly grid
    ]
    assert store.dataset_files(lake, "alp_app") == []
