"""The measured stages. Each is a module-level function of plain arguments (paths, ISO
strings) returning a dict of facts, so :mod:`bench.measure` can run it in a fresh process."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from bench.measure import Facts


def _config(config_path: str) -> Any:
    from metering.config import load_config

    return load_config(Path(config_path))


def collect_site(config_path: str, site: str, at: str) -> Facts:
    """One site's full snapshot over loopback HTTP; counts the HTTP requests (pages)."""
    import httpx

    from metering.sources.collect import collect

    requests = 0
    send = httpx.AsyncHTTPTransport.handle_async_request  # the collectors' requests all pass here

    async def counting(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        nonlocal requests
        requests += 1
        return await send(self, request)

    httpx.AsyncHTTPTransport.handle_async_request = counting  # type: ignore[method-assign]
    summary = collect(_config(config_path), datetime.fromisoformat(at), sites=[site])
    failed = [r.line() for r in summary.results if r.status == "failed"]
    if failed:
        raise RuntimeError("collection failed: " + "; ".join(failed))
    return {"records": summary.rows, "requests": requests, "status": summary.status}


def collect_all(config_path: str, at: str) -> Facts:
    """Every site and source at ``at``: the snapshot the month is built from."""
    from metering.sources.collect import collect

    summary = collect(_config(config_path), datetime.fromisoformat(at))
    return {"records": summary.rows, "status": summary.status}


def write_month(config_path: str, start: str, hours: int) -> Facts:
    """Repeat the snapshot at ``start`` for ``hours`` hours (the lake stage)."""
    from bench.lake_gen import dataset_bytes, repeat_hourly

    lake = _config(config_path).lake_dir
    rows = repeat_hourly(lake, datetime.fromisoformat(start), hours)
    size, files = dataset_bytes(lake, "vcd_vm")
    return {
        "rows": sum(rows.values()),
        "vcd_vm_rows": rows.get("vcd_vm", 0),
        "vcd_vm_bytes": size,
        "vcd_vm_files": files,
    }


def consolidate_one(config_path: str, day: str) -> Facts:
    """Nightly consolidation of one UTC day."""
    from metering.rating.consolidate import consolidate_day

    rows = consolidate_day(_config(config_path), date.fromisoformat(day))
    return {"intervals": rows}


def consolidate_days(config_path: str, days: list[str]) -> Facts:
    """Consolidate every day of the month (the "derive" half of derive + rate)."""
    from metering.rating.consolidate import consolidate_day

    config = _config(config_path)
    rows = sum(consolidate_day(config, date.fromisoformat(d)) for d in days)
    return {"intervals": rows, "days": len(days)}


def rate(
    config_path: str,
    month: str,
    engine: str = "duckdb",
    per_site: int = 0,
    lineage: str = "keep",
) -> Facts:
    """The month rated on one DuckDB, DuckDB per site (``per_site`` processes) or Spark
    (``engine`` = ``spark-sail``: a Sail Spark Connect server in this process, no JVM;
    ``spark-local``: PySpark local mode), with digests of what it wrote to compare engines.

    ``lineage`` (one DuckDB; metering.rating.day_lineage): ``none`` removes the month's day
    lineage first, so every day is rated from its intervals; an ISO date removes that day's
    only, as on the month's last night (its day was consolidated that night, the earlier
    days were rated on theirs); ``keep`` leaves it."""
    from metering.rating.day_lineage import lineage_path
    from metering.rating.engines import EngineChoice, rate_month_with
    from metering.window import Window

    config, window = _config(config_path), Window.parse_month(month)
    removed = {"none": list(window.days()), "keep": []}.get(lineage)
    for day in removed if removed is not None else [date.fromisoformat(lineage)]:
        lineage_path(config.lake, day).unlink(missing_ok=True)
    if engine == "spark-sail":
        from pysail.spark import SparkConnectServer

        server = SparkConnectServer("127.0.0.1", 0)
        server.start(background=True)
        try:
            url = f"sc://127.0.0.1:{server.listening_address[1]}"
            result = rate_month_with(config, window, EngineChoice("spark", master=url))
        finally:
            server.stop()
    elif engine == "spark-local":
        result = rate_month_with(config, window, EngineChoice("spark", master="local[2]"))
    else:
        result = rate_month_with(config, window, EngineChoice(site_workers=per_site))
    return {
        "rated_rows": result.rows,
        "invoice_lines": result.invoice_lines,
        "tenants": result.tenants,
        "unrated_rows": result.unrated_rows,
        "reused_days": len(result.reused_days),
        "paths": {name: str(path) for name, path in result.paths.items()},
    }


def digests(paths: dict[str, str]) -> Facts:
    """sha256 of the invoice totals (tenant, total), of every line's quantity and amount and
    of every rated quantity, in order.

    Run after the measured rating, in its own process, one row group at a time: the rating's
    time and peak memory are the rating's own, not this check's."""
    import hashlib

    import pyarrow.parquet as pq

    def sha(path: str, columns: list[str]) -> str:
        digest = hashlib.sha256()
        for batch in pq.ParquetFile(path).iter_batches(batch_size=65_536, columns=columns):
            for name in columns:
                digest.update(name.encode())
                digest.update(str(batch.column(name).to_pylist()).encode())
        return digest.hexdigest()[:16]

    return {
        "totals_sha": sha(paths["invoice_totals"], ["tenant_id", "total_amount"]),
        "lines_sha": sha(
            paths["invoice_lines"], ["tenant_id", "line_no", "quantity", "list_amount"]
        ),
        # quantities only: rated_usage carries no money since issue 21 (the lines' lineage), so
        # this digest is not comparable with one written before (list_amount and quantity)
        "rated_sha": sha(paths["rated_usage"], ["quantity"]),
    }


def month_files(lake: Path, days: list[str]) -> list[str]:
    """The ``vcd_vm`` sample files of ``days`` (every site)."""
    return [str(f) for d in days for f in sorted((lake / "vcd_vm").glob(f"site=*/date={d}/*"))]


def raw_scan(config_path: str, days: list[str]) -> Facts:
    """The practical limit: DuckDB reads the month's VM sample columns and sums them."""
    import duckdb

    pattern = month_files(_config(config_path).lake_dir, days)
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")  # it would write into the bench's table
        rows = con.execute(
            "select org_name, storage_policy, count(*), count(distinct vm_id),"
            " sum(vcpu * powered_on::int), sum(memory_mb * powered_on::int), sum(storage_mb)"
            " from read_parquet(?) group by org_name, storage_policy",
            [pattern],
        ).fetchall()
    return {"sample_rows": sum(int(r[2]) for r in rows)}


PANDAS_PRICES = {"vcpu": 0.011, "ram_gib": 0.004, "disk_gb_month": 0.08}


def pandas_rate(config_path: str, days: list[str]) -> Facts:
    """The naive baseline a provider would script: every sample file into pandas, price each
    sample-hour in float, group by org. (No gap rule, no tiers, no exact money: the figure is
    what the straightforward script costs, for comparison only.)"""
    import pandas as pd  # type: ignore[import-untyped]

    lake = _config(config_path).lake_dir
    frames = [
        pd.read_parquet(
            f,
            columns=[
                "org_name",
                "vm_id",
                "powered_on",
                "vcpu",
                "memory_mb",
                "storage_mb",
                "storage_policy",
                "sample_time",
            ],
        )
        for f in month_files(lake, days)
    ]
    df = pd.concat(frames, ignore_index=True)
    df = df.drop_duplicates(["vm_id", "sample_time"])
    on = df["powered_on"].astype(int)
    hours_in_month = 744
    df["amount"] = (
        df["vcpu"] * on * PANDAS_PRICES["vcpu"]
        + df["memory_mb"] / 1024 * on * PANDAS_PRICES["ram_gib"]
        + df["storage_mb"] / 1024 / hours_in_month * PANDAS_PRICES["disk_gb_month"]
    )
    totals = df.groupby("org_name")["amount"].sum().round(2)
    return {"sample_rows": len(df), "tenants": len(totals)}


def polars_rate(config_path: str, days: list[str]) -> Facts:
    """The same naive script in polars (the design card's dataframe library): every sample
    file read eagerly, de-duplicated, each sample-hour priced in float, summed by org. Written
    as a provider would first write it (no lazy query, no streaming), like the pandas one."""
    import polars as pl

    lake = _config(config_path).lake_dir
    columns = ["org_name", "vm_id", "powered_on", "vcpu", "memory_mb", "storage_mb"]
    frames = [
        pl.read_parquet(f, columns=[*columns, "storage_policy", "sample_time"])
        for f in month_files(lake, days)
    ]
    df = pl.concat(frames).unique(subset=["vm_id", "sample_time"])
    on = pl.col("powered_on").cast(pl.Int64)
    hours_in_month = 744
    df = df.with_columns(
        (
            pl.col("vcpu") * on * PANDAS_PRICES["vcpu"]
            + pl.col("memory_mb") / 1024 * on * PANDAS_PRICES["ram_gib"]
            + pl.col("storage_mb") / 1024 / hours_in_month * PANDAS_PRICES["disk_gb_month"]
        ).alias("amount")
    )
    totals = df.group_by("org_name").agg(pl.col("amount").sum().round(2))
    return {"sample_rows": df.height, "tenants": totals.height}


# The bench's lake is written as usage intervals, with no collected samples behind them: the
# close's completeness gate would hold every tenant for coverage, so the close accepts it.
SYNTHETIC = "benchmark: synthetic usage intervals, no collected samples"


def close(config_path: str, month: str, workers: int) -> Facts:
    """Month-end close of rated usage (no re-rating): invoices issued and rendered to PDF."""
    from metering.close.run import close_month
    from metering.window import Window

    result = close_month(
        _config(config_path),
        Window.parse_month(month),
        rate=False,
        workers=workers,
        show_progress=False,
        accept_gaps=SYNTHETIC,
    )
    return {"invoices": len(result.invoices), "rendered": len(result.rendered)}


def render_again(config_path: str, month: str, workers: int) -> Facts:
    """Invoice PDFs only: delete the month's invoice PDFs of a closed month and close again.
    The usage is unchanged, so nothing is re-issued and the close renders just the missing
    PDFs (its documented resume path) in ``workers`` processes."""
    from metering.close.run import close_month
    from metering.close.settings import load_settings
    from metering.window import Window

    config = _config(config_path)
    folder = load_settings(config).out_dir / "invoices" / month
    for pdf in folder.glob("*.pdf"):
        pdf.unlink()
    result = close_month(
        config,
        Window.parse_month(month),
        rate=False,
        workers=workers,
        show_progress=False,
        accept_gaps=SYNTHETIC,
    )
    if result.invoices:
        raise RuntimeError("a second close of unchanged usage issued invoices again")
    return {"rendered": len(result.rendered)}
