"""The benchmark harness still runs end to end at its tiny size (benchmarks never run here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.run import main


def test_tiny_run_measures_every_stage_and_writes_json(tmp_path: Path) -> None:
    results = tmp_path / "results"
    assert (
        main(["--size", "tiny", "--results", str(results), "--workdir", str(tmp_path / "w")]) == 0
    )
    (path,) = results.glob("*-tiny.json")
    document = json.loads(path.read_text(encoding="utf-8"))
    stages = {s["stage"]: s for s in document["stages"]}
    assert document["machine"]["cores"] >= 1
    collect = stages["collect one site"]
    assert collect["records"] > 0 and collect["requests"] > 0 and collect["status"] == "ok"
    lake = stages["lake: write month"]
    assert (
        lake["vcd_vm_rows"] > 0 and lake["vcd_vm_files"] == (1 + 1) * 24
    )  # the days and the next one
    assert stages["consolidate one day"]["intervals"] > 0
    rated = stages["rate month"]
    assert rated["tenants"] == 4 and rated["rated_rows"] > 0 and rated["ratio_to_scan"] > 0
    assert rated["reused_days"] == 0  # every day rated from its intervals
    # month end reuses the lineage the whole month's rating wrote, but the last day's, and
    # writes the same outputs
    end = stages["month end: rate"]
    assert end["reused_days"] == document["scale"]["days"] - 1
    assert end["equal_to_rate_month"] is True
    # The raw scan and the naive baseline read the same samples.
    scan = stages["raw DuckDB scan"]["sample_rows"]
    assert scan == stages["naive pandas rating"]["sample_rows"]
    assert scan == stages["naive polars rating"]["sample_rows"]
    assert stages["naive polars rating"]["tenants"] == stages["naive pandas rating"]["tenants"]
    assert stages["naive polars rating"]["ours_over_polars_cpu"] > 0
    # month end (the last night + rate) and the whole month, each over every peer
    assert stages["month end: last night"]["intervals"] > 0
    month_end, whole = document["month_end"]
    assert month_end["work"] == "month end: last night + rate"
    assert month_end["stages"] == ["month end: last night", "month end: rate"]
    parts = [stages[name] for name in month_end["stages"]]
    assert month_end["cpu_seconds"] == pytest.approx(
        sum(s["median_cpu_seconds"] for s in parts), abs=0.01
    )
    assert month_end["peak_rss_mib"] == max(s["peak_rss_mib"] for s in parts)
    assert whole["stages"] == ["derive: all days", "rate month"]
    for row in (month_end, whole):
        for peer in ("scan", "pandas", "polars"):
            assert row[f"over_{peer}_cpu"] > 0 and row[f"over_{peer}_peak"] > 0
    for workers in (1, 2):
        close = stages[f"close, {workers} worker(s)"]
        assert close["rendered"] == close["invoices"] == 4
        assert close["median_seconds"] > 0 and close["peak_rss_mib"] > 0
        assert stages[f"invoice PDFs, {workers} worker(s)"]["rendered"] == 4


def test_close_stage_alone_runs_the_whole_close_with_the_chosen_workers(tmp_path: Path) -> None:
    results = tmp_path / "results"
    argv = ["--size", "tiny", "--stages", "close", "--workers", "2", "--results", str(results)]
    assert main([*argv, "--workdir", str(tmp_path / "w")]) == 0
    (path,) = results.glob("*-tiny.json")
    stages = {s["stage"]: s for s in json.loads(path.read_text(encoding="utf-8"))["stages"]}
    close = stages["close, 2 worker(s)"]
    assert close["rendered"] == close["invoices"] == 4
    # Only the whole close: no second close of the PDFs alone, no 1-worker run.
    assert "invoice PDFs, 2 worker(s)" not in stages and "close, 1 worker(s)" not in stages


@pytest.mark.parametrize("workers", ["0", "two", ","])
def test_bad_worker_counts_are_refused_before_any_work(workers: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--size", "tiny", "--workers", workers, "--results", str(tmp_path)])
    assert exited.value.code == 2
    assert not list(tmp_path.glob("*.json"))


def test_a_kept_lake_is_measured_again_without_building_it(tmp_path: Path) -> None:
    workdir, results = tmp_path / "w", tmp_path / "results"
    base = ["--size", "tiny", "--workdir", str(workdir), "--results", str(results)]
    assert main([*base, "--stages", "rate"]) == 0
    first = sorted(results.glob("*-tiny.json"))
    for path in first:
        path.unlink()
    assert main([*base, "--stages", "rate", "--reuse-lake"]) == 0
    (path,) = results.glob("*-tiny.json")
    stages = {s["stage"]: s for s in json.loads(path.read_text(encoding="utf-8"))["stages"]}
    assert "lake: write month" not in stages  # reused, not rebuilt
    assert stages["rate month"]["tenants"] == 4 and stages["rate month"]["rated_rows"] > 0
    # A lake of other days is refused, not silently measured.
    with pytest.raises(SystemExit) as exited:
        main([*base, "--stages", "rate", "--reuse-lake", "--days", "2"])
    assert exited.value.code == 2
