"""``python -m bench --size small``: build a generated provider, measure each stage, print a
table and write ``bench/results/<time>-<size>.json``.

Stages (docs/benchmarks.md): collect one site over loopback HTTP, write a month of hourly
samples to the lake, consolidate one day, derive (consolidate every day) + rate the month
against a raw DuckDB scan of the same samples, the naive pandas rating, and the close with
1 and 2 render workers.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import stages
from bench.compare import comparison_table, comparisons
from bench.machine import machine_facts
from bench.measure import Measurement, measure, process_cpu_seconds, run_isolated
from bench.report import table

RESULTS = Path(__file__).resolve().parent / "results"
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
console = Console(width=150)


@dataclass(frozen=True)
class Size:
    """A generated provider and how much of it to measure."""

    vms: int
    clusters: int
    tenants: int
    sites: int
    days: int
    repeats: int
    pandas: bool = True


# Scale factors toward the default (4 sites, 5,000 tenants, 200,000 VMs, 10,000 clusters).
SIZES = {
    "tiny": Size(vms=40, clusters=2, tenants=4, sites=1, days=1, repeats=1),
    "small": Size(vms=2_000, clusters=100, tenants=50, sites=4, days=31, repeats=3),
    "medium": Size(vms=20_000, clusters=1_000, tenants=500, sites=4, days=31, repeats=3),
    "third": Size(vms=66_667, clusters=3_333, tenants=1_667, sites=4, days=31, repeats=3),
    "full": Size(
        vms=200_000, clusters=10_000, tenants=5_000, sites=4, days=31, repeats=3, pandas=False
    ),
}
STAGES = (
    "collect",
    "lake",
    "consolidate",
    "rate",
    "scaleout",
    "pandas",
    "polars",
    "invoices",
    "close",
)
# docs/scale-out.md: the same month on DuckDB per site and on Spark, equal to one DuckDB?
SCALE_OUT = (
    ("rate: DuckDB per site (2 processes)", "duckdb", 2),
    ("rate: Spark on Sail (Spark Connect)", "spark-sail", 0),
    ("rate: PySpark local[2]", "spark-local", 0),
)


def _collect(config: str, sim: Any, server: Any, size: Size) -> list[Measurement]:
    site = sim.sites[0]
    pid = server._process.pid  # the simulator's child process: its CPU is the server side
    before = process_cpu_seconds(pid)
    m = measure(
        "collect one site",
        stages.collect_site,
        config,
        site,
        MONTH_START.isoformat(),
        repeats=size.repeats,
    )
    m.extra["server_cpu_seconds"] = round((process_cpu_seconds(pid) - before) / size.repeats, 3)
    m.extra["site"] = site
    m.extra["records_per_s"] = round(m.facts["records"] / m.seconds)
    m.extra["pages_per_s"] = round(m.facts["requests"] / m.seconds, 1)
    return [m]


def _month_lake(config: str, size: Size) -> Measurement:
    run_isolated(stages.collect_all, config, MONTH_START.isoformat())
    hours = (size.days + 1) * 24 - 1  # one day more: the last day's next samples
    m = measure(
        "lake: write month", stages.write_month, config, MONTH_START.isoformat(), hours, repeats=1
    )
    m.extra["vcd_vm_mib"] = round(m.facts["vcd_vm_bytes"] / 2**20, 1)
    m.extra["rows_per_s"] = round(m.facts["rows"] / m.seconds)
    return m


def _with_digests(rated: Measurement) -> Measurement:
    """Add the digests of what the rating wrote, computed outside its measured process."""
    paths = rated.runs[-1].facts.pop("paths")
    rated.extra.update(run_isolated(stages.digests, paths).facts)
    return rated


def _rating(config: str, size: Size, month: str) -> list[Measurement]:
    days = [(MONTH_START + timedelta(days=d)).date().isoformat() for d in range(size.days)]
    one = measure(
        "consolidate one day",
        stages.consolidate_one,
        config,
        days[len(days) // 2],
        repeats=size.repeats,
    )
    derive = measure("derive: all days", stages.consolidate_days, config, days, repeats=1)
    # every day rated from its intervals (the lineage of earlier ratings removed first)
    rated = _with_digests(
        measure("rate month", stages.rate, config, month, "duckdb", 0, "none", repeats=size.repeats)
    )
    # month end: the earlier nights were consolidated and rated on their nights
    # (bench/compare.py); the last night's day is rated from its intervals
    last = measure(
        "month end: last night", stages.consolidate_one, config, days[-1], repeats=size.repeats
    )
    end = _with_digests(
        measure(
            "month end: rate",
            stages.rate,
            config,
            month,
            "duckdb",
            0,
            days[-1],
            repeats=size.repeats,
        )
    )
    end.extra["equal_to_rate_month"] = all(
        end.facts[k] == rated.facts[k] for k in ("totals_sha", "lines_sha", "rated_sha")
    )
    scan = measure("raw DuckDB scan", stages.raw_scan, config, days, repeats=size.repeats)
    rows = scan.facts["sample_rows"]
    one.extra["samples_per_s"] = round(rows / size.days / one.seconds)
    rated.extra["derive_plus_rate_seconds"] = round(derive.seconds + rated.seconds, 3)
    rated.extra["ratio_to_scan"] = round((derive.seconds + rated.seconds) / scan.seconds, 1)
    # on a shared machine CPU seconds compare better than wall seconds
    cpu = derive.cpu_seconds + rated.cpu_seconds
    rated.extra["derive_plus_rate_cpu_seconds"] = round(cpu, 2)
    rated.extra["cpu_ratio_to_scan"] = round(cpu / scan.cpu_seconds, 1)
    rated.extra["sample_rows_per_s"] = round(rows / (derive.seconds + rated.seconds))
    scan.extra["rows_per_s"] = round(rows / scan.seconds)
    return [one, derive, rated, last, end, scan]


def _scale_out(config: str, size: Size, month: str, rated: Measurement) -> list[Measurement]:
    """Each scale-out engine on the month just rated; equal = same digests as one DuckDB."""
    out = []
    for stage, engine, per_site in SCALE_OUT:
        if engine == "spark-local" and shutil.which("java") is None:
            continue
        m = _with_digests(
            measure(stage, stages.rate, config, month, engine, per_site, repeats=size.repeats)
        )
        m.extra["equal_to_duckdb"] = all(
            m.facts[k] == rated.facts[k] for k in ("totals_sha", "lines_sha", "rated_sha")
        )
        out.append(m)
    return out


def _naive(
    config: str, size: Size, derive_rate: tuple[float, float] | None, library: str
) -> Measurement:
    """The naive script in ``library`` (pandas or polars) on the same samples."""
    days = [(MONTH_START + timedelta(days=d)).date().isoformat() for d in range(size.days)]
    script = stages.pandas_rate if library == "pandas" else stages.polars_rate
    m = measure(f"naive {library} rating", script, config, days, repeats=size.repeats)
    if derive_rate:
        m.extra[f"ours_over_{library}"] = round(derive_rate[0] / m.seconds, 2)
        m.extra[f"ours_over_{library}_cpu"] = round(derive_rate[1] / m.cpu_seconds, 2)
    return m


def _close_config(workdir: Path, name: str) -> str:
    """A provider config of its own data and out dirs over the shared lake."""
    variant = workdir / name
    variant.mkdir()
    source = (workdir / "provider.toml").read_text(encoding="utf-8")
    lake = workdir / "data" / "lake"
    text = source.replace('data_dir = "data"', f'data_dir = "data"\nlake_dir = "{lake}"')
    text = text.replace('= "secrets/', f'= "{workdir / "secrets"}/')  # relative to the config
    (variant / "provider.toml").write_text(text, encoding="utf-8")
    return str(variant / "provider.toml")


def _invoices(
    workdir: Path, size: Size, month: str, workers_list: tuple[int, ...], pdfs_alone: bool
) -> list[Measurement]:
    """The whole close once per worker count, then (``pdfs_alone``) the invoice PDFs alone."""
    out = []
    for workers in workers_list:
        config = _close_config(workdir, f"close-{workers}")
        whole = Measurement(f"close, {workers} worker(s)")
        whole.runs.append(run_isolated(stages.close, config, month, workers))
        whole.extra["documents_per_s"] = round(whole.facts["rendered"] / whole.seconds, 2)
        out.append(whole)
        if not pdfs_alone:
            continue
        pdfs = measure(
            f"invoice PDFs, {workers} worker(s)",
            stages.render_again,
            config,
            month,
            workers,
            repeats=size.repeats,
        )
        pdfs.extra["invoices_per_s"] = round(pdfs.facts["rendered"] / pdfs.seconds, 2)
        out.append(pdfs)
    return out


def _lake_marker(size_name: str, size: Size) -> dict[str, Any]:
    return {"size": size_name, "days": size.days, "month": f"{MONTH_START:%Y-%m}"}


def _mark_lake(workdir: Path, size_name: str, size: Size) -> None:
    """Say which lake this workdir holds, so ``--reuse-lake`` can trust it later."""
    marker = json.dumps(_lake_marker(size_name, size))
    (workdir / "bench-lake.json").write_text(marker + "\n", encoding="utf-8")


def _built_lake(workdir: Path, size_name: str, size: Size) -> str | None:
    """The config of the lake a previous run built here at the same size and days."""
    marker = workdir / "bench-lake.json"
    if not marker.exists():
        return None
    held = json.loads(marker.read_text(encoding="utf-8"))
    if held != _lake_marker(size_name, size):
        raise ValueError(f"{workdir} holds a different lake ({held}); use another --workdir")
    for variant in workdir.glob("close-*"):
        shutil.rmtree(variant)  # a fresh register for each close measured
    return str(workdir / "provider.toml")


def run(
    size_name: str,
    workdir: Path,
    wanted: tuple[str, ...],
    days: int | None = None,
    repeats: int | None = None,
    workers: tuple[int, ...] = (1, 2),
    reuse_lake: bool = False,
) -> dict[str, Any]:
    """Measure the wanted stages at one size; return the JSON document."""
    from metering.simulator import Simulation, serve_in_process

    size = SIZES[size_name]
    size = replace(size, days=days or size.days, repeats=repeats or size.repeats)
    month = f"{MONTH_START:%Y-%m}"
    if reuse_lake and "collect" in wanted:
        raise ValueError("--reuse-lake measures the stages after the lake; drop collect")
    results: list[Measurement] = []
    derive_rate = None
    needs_lake = {"lake", "consolidate", "rate", "scaleout", "pandas", "polars"}
    needs_lake |= {"invoices", "close"}
    built = _built_lake(workdir, size_name, size) if reuse_lake else None
    if built is not None:
        console.print(f"[bold]lake[/]: reusing the {size.days}-day lake in {workdir}")
        config = built
    else:
        sim = Simulation.generate(
            vms=size.vms,
            clusters=size.clusters,
            tenants=size.tenants,
            sites=size.sites,
            start=MONTH_START,
        )
        with serve_in_process(sim) as server:
            config = str(sim.provider_config(workdir, server))
            if "collect" in wanted:
                console.print(f"[bold]collect[/] one site of {size_name}")
                results += _collect(config, sim, server, size)
            if needs_lake & set(wanted):
                console.print(f"[bold]lake[/]: {size.days} days of hourly samples")
                results.append(_month_lake(config, size))
                _mark_lake(workdir, size_name, size)
    if {"consolidate", "rate", "scaleout", "invoices", "close"} & set(wanted):
        console.print("[bold]consolidate, derive + rate, raw scan[/]")
        rating = _rating(config, size, month)
        rated = next(m for m in rating if m.stage == "rate month")
        derive_rate = (
            rated.facts["derive_plus_rate_seconds"],
            rated.facts["derive_plus_rate_cpu_seconds"],
        )
        results += rating
    if "scaleout" in wanted:
        console.print("[bold]scale-out: DuckDB per site, Spark (Sail, local)[/]")
        results += _scale_out(config, size, month, rated)
    for library in ("pandas", "polars"):
        if library in wanted and size.pandas:
            console.print(f"[bold]naive {library} rating[/]")
            results.append(_naive(config, size, derive_rate, library))
    if {"invoices", "close"} & set(wanted):
        names = " and ".join(str(w) for w in workers)
        console.print(f"[bold]close: invoices with {names} worker(s)[/]")
        results += _invoices(workdir, size, month, workers, pdfs_alone="invoices" in wanted)
    measured = [m.as_dict() for m in results]
    return {
        "size": size_name,
        "scale": size.__dict__,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_facts(),
        "stages": measured,
        "month_end": comparisons(measured),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument(
        "--stages",
        default=",".join(s for s in STAGES if s != "scaleout"),  # a JVM: only when asked
        help=f"comma-separated subset of {','.join(STAGES)} (default: all but scaleout)",
    )
    parser.add_argument("--days", type=int, default=None, help="override the size's month days")
    parser.add_argument("--repeats", type=int, default=None, help="override the size's repeats")
    parser.add_argument(
        "--workers",
        default="1,2",
        help="render worker counts of the close stages, comma-separated (default: 1,2)",
    )
    parser.add_argument(
        "--reuse-lake",
        action="store_true",
        help="with --workdir: measure again on the lake a previous run built there (same size"
        " and days) instead of building it; the lake stage is then not measured",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="where the JSON goes")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep the generated lake here (default: a temporary directory)",
    )
    args = parser.parse_args(argv)
    wanted = tuple(s.strip() for s in args.stages.split(",") if s.strip())
    unknown = set(wanted) - set(STAGES)
    if unknown:
        parser.error(f"unknown stage(s): {', '.join(sorted(unknown))}")
    try:
        workers = tuple(int(w) for w in args.workers.split(",") if w.strip())
    except ValueError:
        parser.error(f"--workers takes whole numbers, e.g. 1,2 (got {args.workers!r})")
    if not workers or min(workers) < 1:
        parser.error("--workers needs at least one count of 1 or more")
    if args.reuse_lake and args.workdir is None:
        parser.error("--reuse-lake needs --workdir (the lake to measure again)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="metering-bench-") as tmp:
        workdir = (args.workdir or Path(tmp)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            document = run(
                args.size,
                workdir,
                wanted,
                days=args.days,
                repeats=args.repeats,
                workers=workers,
                reuse_lake=args.reuse_lake,
            )
        except ValueError as exc:
            parser.error(str(exc))
    document["harness_seconds"] = round(time.perf_counter() - started, 1)
    console.print(table(document))
    if document["month_end"]:
        console.print(comparison_table(document["month_end"], document["stages"]))
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = args.results / f"{stamp}-{args.size}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    console.print(f"results: {path.name} in bench/results/ ({document['harness_seconds']} s)")
    return 0
