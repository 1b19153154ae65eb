"""The rich table a run prints."""

from __future__ import annotations

from typing import Any

from rich.table import Table

SKIP = {"stage", "median_seconds", "all_seconds", "median_cpu_seconds", "peak_rss_mib"}


def table(document: dict[str, Any]) -> Table:
    """One row per stage: median seconds, CPU, peak RSS and the stage's own figures."""
    machine = document["machine"]
    out = Table(
        title=f"metering bench, size {document['size']} "
        f"({machine['cores']} cores, {machine['memory_gib']} GiB, Python {machine['python']})"
    )
    for name, justify in (
        ("stage", "left"),
        ("median s", "right"),
        ("cpu s", "right"),
        ("peak MiB", "right"),
        ("figures", "left"),
    ):
        out.add_column(name, justify=justify)  # type: ignore[arg-type]
    for stage in document["stages"]:
        figures = ", ".join(f"{k}={v}" for k, v in stage.items() if k not in SKIP)
        out.add_row(
            stage["stage"],
            f"{stage['median_seconds']:.3f}",
            f"{stage['median_cpu_seconds']:.2f}",
            f"{stage['peak_rss_mib']:.0f}",
            figures,
        )
    return out
