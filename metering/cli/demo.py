"""`metering demo`: the main job on the embedded default.

Starts the built-in simulated provider on loopback, writes a provider config pointing at it,
then lives through a month with the same pipeline code the scheduler runs (hourly collect,
nightly ingest, month-end close) and prints where the invoices, reports and warehouse are.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from metering.cli import app
from metering.config import load_config
from metering.window import Window

console = Console()


_OUT = typer.Option(Path("out"), "--out", help="Directory for every output.")
_MONTH = typer.Option("2026-10", "--month", help="The simulated month to bill (YYYY-MM).")
_SEED = typer.Option(7, "--seed", help="Seed of the simulated provider's month.")
_FRESH = typer.Option(False, "--fresh", help="Delete OUT first (otherwise a re-run is idempotent).")


@app.command()
def demo(
    out: Path = _OUT,
    month: str = _MONTH,
    seed: int = _SEED,
    fresh: bool = _FRESH,
) -> None:
    """Simulate a provider, ingest a month of usage, close it, and write invoices to OUT."""
    from metering.pipelines.api import replay, simulator_clock
    from metering.simulator import Simulation, serve_in_thread

    window = Window.parse_month(month)
    out = out.resolve()
    if fresh and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    sim = Simulation.from_sample_data(seed=seed, start=window.start)
    with serve_in_thread(sim) as server:
        config = load_config(sim.provider_config(out, server))
        console.print(
            f"simulated provider [bold]{config.name}[/]: sites "
            f"{', '.join(site.name for site in config.sites)} at {server.base_url}"
        )
        replay(config, window, set_time=simulator_clock(server.base_url), progress=True)
    _summary(config.warehouse_path, out, window, time.monotonic() - started)


def _summary(warehouse: Path, out: Path, window: Window, seconds: float) -> None:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select currency, count(*), sum(total_amount) from invoice_totals"
            " where month = ? group by currency order by currency",
            [window.start.date()],
        ).fetchall()
    table = Table(title=f"Invoices for {window.start:%B %Y}")
    table.add_column("currency")
    table.add_column("tenants", justify="right")
    table.add_column("total", justify="right")
    for currency, tenants, total in rows:
        table.add_row(str(currency), str(tenants), f"{total:,.2f}")
    console.print(table)
    for label, path in (
        ("invoices", out / "invoices"),
        ("provider report", out / "report"),
        ("FOCUS export", out / "focus"),
        ("warehouse (duckdb)", warehouse),
    ):
        console.print(f"  {label:<20} {path}")
    console.print(f"done in {seconds:.0f} s")
