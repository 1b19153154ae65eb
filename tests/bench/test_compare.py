"""Month end against the peers: the ratios the bench's JSON and table carry."""

from __future__ import annotations

from rich.console import Console

from bench.compare import comparison_table, comparisons


def stage(name: str, cpu: float, wall: float, peak: float) -> dict[str, object]:
    return {
        "stage": name,
        "median_cpu_seconds": cpu,
        "median_seconds": wall,
        "peak_rss_mib": peak,
    }


STAGES = [
    stage("derive: all days", 40.0, 60.0, 300.0),
    stage("month end: last night", 1.5, 3.0, 320.0),
    stage("rate month", 3.5, 5.0, 450.0),
    stage("month end: rate", 3.5, 5.0, 450.0),
    stage("raw DuckDB scan", 1.25, 2.0, 250.0),
    stage("naive pandas rating", 10.0, 16.0, 900.0),
]


def test_month_end_and_whole_month_over_each_peer_measured() -> None:
    month_end, whole = comparisons(STAGES)
    assert month_end["work"] == "month end: last night + rate"
    assert (month_end["cpu_seconds"], month_end["seconds"]) == (5.0, 8.0)
    assert month_end["peak_rss_mib"] == 450.0  # the larger of its two stages'
    assert (month_end["over_scan_cpu"], month_end["over_scan_wall"]) == (4.0, 4.0)
    assert month_end["over_scan_peak"] == 1.8
    assert month_end["over_pandas_cpu"] == 0.5 and month_end["over_pandas_peak"] == 0.5
    assert "over_polars_cpu" not in month_end  # polars was not measured: no ratio invented
    assert whole["cpu_seconds"] == 43.5 and whole["over_scan_cpu"] == 34.8
    table = Console(width=200, record=True)
    table.print(comparison_table([month_end, whole], STAGES))
    text = table.export_text()
    assert "×4.00  ×4.00  ×1.80" in text and "—" in text


def test_work_whose_stages_were_not_measured_is_left_out() -> None:
    only_rate = [s for s in STAGES if s["stage"] != "month end: last night"]
    assert [r["work"] for r in comparisons(only_rate)] == ["whole month: derive + rate"]
    assert comparisons([stage("raw DuckDB scan", 1.0, 1.0, 1.0)]) == []
