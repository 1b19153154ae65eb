"""Rating a month with one DuckDB process per site, merged exactly: the cheap scale-out.

Where sites meet in the rating SQL decides the split. Up to ``int_rate_parts`` and
``int_unrated_parts`` every row depends on its own usage interval and on its tenant's rates
only: the rate join, the best-rate window (partitioned by site) and the nano-hour
arithmetic never cross sites, and a tenant's rates do not depend on which other tenants a
site sees. From ``int_charge_periods`` on they do meet: graduated and volume tiers apply to
a tenant's month over all sites (their lines carry site ``*``), and minimums, discounts,
fixed fees and line numbers are per tenant. So each worker process rates one site's usage
up to the parts and writes them (Parquet, exact types); the merging process registers the
union of those files under the same view names and runs the rest of the SQL and every audit
unchanged. The union of the sites' parts is exactly the one process's parts, so every
output is identical (tests/rating/test_per_site.py).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import duckdb

from metering.processes import die_with_parent
from metering.rating.catalog import Tenant
from metering.rating.day_digest import usage_days
from metering.rating.engine import (
    audit,
    bounded_connection,
    connect,
    quote,
    register_files,
    register_table,
    run_models,
)
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.outputs import raise_on_audit
from metering.rating.policy import Pricing
from metering.rating.run import (
    INTERMEDIATE,
    MARTS,
    THROUGH_LINEAGE,
    audit_names,
    register_inputs,
)
from metering.rating.settings import RatingSettings
from metering.window import Window

# Per site: everything up to the parts' sums (each later file reads only these and small
# tables).
SITE_MODELS = THROUGH_LINEAGE
# The parts stay in their site's process: only their sums per resource and day (a site is one
# of their keys) are merged.
SITE_OUTPUTS = ("int_rating_usage", "int_rated_usage", "int_unrated_parts")
# After the merge: the small models again over the union, then the rest of the chain.
MERGE_MODELS = (
    "intermediate/int_usage_levels.sql",
    "intermediate/int_tenants.sql",
    "intermediate/int_tenant_rates.sql",
    "intermediate/int_usage_keys.sql",
    "intermediate/int_usage_rates.sql",
)


def month_sites(files: list[Path]) -> list[str]:
    """The sites that have usage in ``files`` (a scan of one column)."""
    if not files:
        return []
    con = connect()
    try:
        register_files(con, "usage_all", list(files), INTERVALS_SCHEMA)
        rows = con.sql("select distinct site from usage_all order by site").fetchall()
    finally:
        con.close()
    return [str(r[0]) for r in rows]


def rate_site_parts(
    files: list[Path],
    site: str,
    month: Window,
    inputs: tuple[RatingSettings, Pricing, tuple[Tenant, ...]],
    out_dir: Path,
) -> dict[str, Path]:
    """One worker: ``site``'s usage rated up to the parts, written as Parquet to ``out_dir``."""
    settings, pricing, tenants = inputs
    con = connect()
    try:
        con.execute("set threads = 1")  # one core per process: processes are the parallelism
        register_files(con, "usage_all", list(files), INTERVALS_SCHEMA)
        con.execute(
            "create or replace temp view usage_intervals as "
            f"select * from usage_all where site = {quote(site)}"
        )
        register_inputs(con, month, settings, pricing, tenants)
        run_models(con, SITE_MODELS, materialize=True)
        paths = {}
        for name in SITE_OUTPUTS:
            path = out_dir / name / f"{site}.parquet"
            path.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy {name} to {quote(path)} (format parquet)")
            paths[name] = path
        return paths
    finally:
        con.close()


def register_site_parts(con: duckdb.DuckDBPyConnection, parts: list[dict[str, Path]]) -> None:
    """The merged views: the union of every site's parts under the single-process names."""
    for name in SITE_OUTPUTS:
        listing = ", ".join(quote(p[name]) for p in parts)
        con.execute(
            f"create or replace temp table {name} as select * from read_parquet([{listing}])"
        )


def rate_parts_per_site(
    files: list[Path],
    month: Window,
    inputs: tuple[RatingSettings, Pricing, tuple[Tenant, ...]],
    out_dir: Path,
    *,
    workers: int,
) -> list[dict[str, Path]]:
    """Every site's parts, ``workers`` sites at a time in separate processes."""
    sites = month_sites(files)
    # spawn, not fork: a forked DuckDB (threads, open handles) is not safe to reuse
    context = multiprocessing.get_context("spawn")
    # each worker dies with this process (kill -9 included): none rates on behind it
    with ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=context,
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    ) as pool:
        futures = [
            pool.submit(rate_site_parts, files, site, month, inputs, out_dir) for site in sites
        ]
        return [f.result() for f in futures]


@contextmanager
def rated_per_site(
    files: list[Path],
    month: Window,
    inputs: tuple[RatingSettings, Pricing, tuple[Tenant, ...]],
    *,
    workers: int,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection holding the four rating outputs of ``files``' usage (rated one site per
    process, merged and audited), open while the caller writes them."""
    settings, pricing, tenants = inputs
    with bounded_connection() as con, tempfile.TemporaryDirectory(prefix="metering-sites-") as tmp:
        parts = rate_parts_per_site(files, month, inputs, Path(tmp), workers=workers)
        register_inputs(con, month, settings, pricing, tenants)
        register_table(con, "usage_days", usage_days(files))
        if parts:
            register_site_parts(con, parts)
            rest = [m for m in INTERMEDIATE if m not in SITE_MODELS]
            run_models(con, [*MERGE_MODELS, *rest, *MARTS], materialize=True)
        else:  # no usage at all: nothing to split
            register_table(con, "usage_intervals", INTERVALS_SCHEMA.empty_table())
            run_models(con, [*INTERMEDIATE, *MARTS], materialize=True)
        for name in audit_names():
            raise_on_audit(name, audit(con, name), month)
        yield con
