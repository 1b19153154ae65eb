"""How a collection's per-source results decide a collect/backfill step's outcome."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from metering.errors import SourceUnavailable
from metering.pipelines.steps import StepContext, _raise_failed_sources
from metering.sources.summary import CollectSummary, SourceResult
from metering.window import Window

from .conftest import make_config

AT = datetime(2026, 10, 1, 5, tzinfo=UTC)


def context(tmp_path: Path) -> StepContext:
    window = Window(AT, datetime(2026, 10, 1, 6, tzinfo=UTC))
    return StepContext(make_config(tmp_path), "collect", "2026-10-01T05:00Z", window, "r1")


def test_quarantined_records_alone_do_not_fail_the_step(tmp_path: Path, caplog) -> None:
    summary = CollectSummary(
        "r1", AT, [SourceResult("az1", "vcd", "partial", rows=10, quarantined=2)]
    )
    _raise_failed_sources(context(tmp_path), [summary])  # no retry: they would fail again
    assert "2 record(s) quarantined" in caplog.text


def test_an_unread_source_fails_the_step_as_transient(tmp_path: Path) -> None:
    summary = CollectSummary(
        "r1",
        AT,
        [
            SourceResult("az1", "vcd", "ok", rows=10),
            SourceResult("az2", "cse", "partial", rows=3, errors=1, error="HTTP 503"),
        ],
    )
    with pytest.raises(SourceUnavailable, match="az2/cse: HTTP 503"):
        _raise_failed_sources(context(tmp_path), [summary])


def test_manual_close_and_collect_wait_for_no_one_while_a_run_holds_the_lock(
    tmp_path: Path, capsys
) -> None:
    from metering.cli import main
    from metering.pipelines.api import pipeline_lock

    config = make_config(tmp_path)
    with pipeline_lock(config, "the scheduler"):
        for argv in (
            ["close", "--month", "2026-10", "--config", str(config.source_file)],
            ["collect", "--at", "2026-10-01T05:00:00Z", "--config", str(config.source_file)],
        ):
            assert main(argv) == 1
            err = capsys.readouterr().err
            assert "the scheduler" in err and "Traceback" not in err
