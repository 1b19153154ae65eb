"""What month end costs against the peers, in the terms issue 21 asks for.

Two pieces of our work, each set against the raw DuckDB scan of the month's samples and the
naive pandas and polars scripts measured in the same run, in CPU seconds (what compares on
a shared machine), wall seconds and peak memory:

- **month end**: what the product runs on the month's last night. The scheduler
  consolidated and rated every earlier night on its night, so month end derives the last
  night and rates the month, the earlier days' lineage reused (``month end: last night`` +
  ``month end: rate``).
- **whole month**: every day derived again, then the month rated with every day from its
  intervals (``derive: all days`` + ``rate month``): a replay, or a month whose nights were
  never consolidated.

The two stages of a piece run one after the other, so its peak is the larger of theirs.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table

Stage = dict[str, Any]

WORK = (
    ("month end: last night + rate", ("month end: last night", "month end: rate")),
    ("whole month: derive + rate", ("derive: all days", "rate month")),
)
PEERS = (
    ("scan", "raw DuckDB scan"),
    ("pandas", "naive pandas rating"),
    ("polars", "naive polars rating"),
)


def _ratio(ours: float, peer: float) -> float | None:
    return round(ours / peer, 2) if peer > 0 else None


def comparisons(stages: list[Stage]) -> list[Stage]:
    """One row per piece of our work whose stages were measured, with its ratios to every
    peer measured (a peer not measured, e.g. the naive scripts at full size, is left out)."""
    by_name = {s["stage"]: s for s in stages}
    peers = {key: by_name[name] for key, name in PEERS if name in by_name}
    rows = []
    for work, parts in WORK:
        if not all(p in by_name for p in parts):
            continue
        measured = [by_name[p] for p in parts]
        row: Stage = {
            "work": work,
            "stages": list(parts),
            "cpu_seconds": round(sum(s["median_cpu_seconds"] for s in measured), 3),
            "seconds": round(sum(s["median_seconds"] for s in measured), 3),
            "peak_rss_mib": max(s["peak_rss_mib"] for s in measured),
        }
        for key, peer in peers.items():
            row[f"over_{key}_cpu"] = _ratio(row["cpu_seconds"], peer["median_cpu_seconds"])
            row[f"over_{key}_wall"] = _ratio(row["seconds"], peer["median_seconds"])
            row[f"over_{key}_peak"] = _ratio(row["peak_rss_mib"], peer["peak_rss_mib"])
        rows.append(row)
    return rows


def _cell(row: Stage, key: str) -> str:
    cpu, wall = row.get(f"over_{key}_cpu"), row.get(f"over_{key}_wall")
    if cpu is None:
        return "—"
    return f"×{cpu:.2f}  ×{wall:.2f}  ×{row[f'over_{key}_peak']:.2f}"


def comparison_table(rows: list[Stage], stages: list[Stage]) -> Table:
    """Our work and the peers: CPU, wall, peak, and ours ÷ each peer."""
    out = Table(title="month end against the peers: ours ÷ the peer's CPU, wall and peak")
    for name in ("work", "cpu s", "wall s", "peak MiB"):
        out.add_column(name, justify="left" if name == "work" else "right")
    for key, _ in PEERS:
        out.add_column(f"÷ {key}: cpu  wall  peak", justify="left")
    for row in rows:
        out.add_row(
            row["work"],
            f"{row['cpu_seconds']:.2f}",
            f"{row['seconds']:.2f}",
            f"{row['peak_rss_mib']:.0f}",
            *(_cell(row, key) for key, _ in PEERS),
        )
    by_name = {s["stage"]: s for s in stages}
    for _, name in PEERS:
        if name in by_name:
            peer = by_name[name]
            out.add_row(
                f"peer: {name}",
                f"{peer['median_cpu_seconds']:.2f}",
                f"{peer['median_seconds']:.2f}",
                f"{peer['peak_rss_mib']:.0f}",
                "",
                "",
                "",
            )
    return out
