"""`metering demo`: the main job on the embedded default.

Starts the built-in simulated provider on loopback, writes a provider config pointing at it,
then lives through a month with the same pipeline code the scheduler runs (hourly collect,
nightly ingest, month-end close) and prints where the invoices, reports and warehouse are.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from metering.cli import app
from metering.config import ProviderConfig, load_config
from metering.window import Window

console = Console()


_OUT = typer.Option(Path("out"), "--out", help="Directory for every output.")
_MONTH = typer.Option("2026-10", "--month", help="The simulated month to bill (YYYY-MM).")
_SEED = typer.Option(7, "--seed", help="Seed of the simulated provider's month.")
_FRESH = typer.Option(False, "--fresh", help="Delete OUT first (otherwise a re-run is idempotent).")
_TENANTS = typer.Option(
    None, "--tenants", help="Generate a provider of this many tenants instead of sample_data/."
)
_VMS = typer.Option(200, "--vms", help="With --tenants: plain VMs of the generated provider.")
_CLUSTERS = typer.Option(4, "--clusters", help="With --tenants: TKG clusters generated.")


@app.command()
def demo(
    out: Path = _OUT,
    month: str = _MONTH,
    seed: int = _SEED,
    fresh: bool = _FRESH,
    tenants: int | None = _TENANTS,
    vms: int = _VMS,
    clusters: int = _CLUSTERS,
) -> None:
    """Simulate a provider, ingest a month of usage, close it, and write invoices to OUT."""
    from metering.pipelines.api import replay, simulator_clock
    from metering.simulator import Simulation, serve_in_process

    window = Window.parse_month(month)
    out = out.resolve()
    if fresh and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if tenants is None:
        sim = Simulation.from_sample_data(seed=seed, start=window.start)
    else:
        sim = Simulation.generate(
            vms=vms, clusters=clusters, tenants=tenants, seed=seed, start=window.start
        )
    with serve_in_process(sim) as server:
        config = load_config(sim.provider_config(out, server))
        console.print(
            f"simulated provider [bold]{config.name}[/]: sites "
            f"{', '.join(site.name for site in config.sites)} at {server.base_url}"
        )
        replay(config, window, set_time=simulator_clock(server.base_url), progress=True)
    books = _provider_books(config, window)
    _summary(config.warehouse_path, out, window, time.monotonic() - started, books)
    if tenants is None:
        _portal_hint(out, seed, window)


def _portal_hint(out: Path, seed: int, window: Window) -> None:
    """How to open the tenant portal on this output (the simulated provider served again
    for the sign-in, as the demo's ends with the demo)."""
    options = "" if seed == 7 else f" --seed {seed}"
    options += "" if f"{window.start:%Y-%m}" == "2026-10" else f" --month {window.start:%Y-%m}"
    console.print(
        "\nthe tenant portal on this output:\n"
        f"  metering serve -c {out / 'provider.toml'} --with-simulator{options}\n"
        "  then open http://localhost:8800/ and sign in as orgadmin@acme (password and API"
        f" token of every org in {out / 'secrets' / 'org-users.json'}), or as provider staff"
        f" as administrator@System (password in {out / 'secrets' / 'az1-vcd.password'})",
        highlight=False,
    )


def _provider_books(config: ProviderConfig, window: Window) -> list[tuple[str, Path]]:
    """The provider's books on the demo month: the margin report from the sample cost card
    (pricing/costs/) and a what-if quote with the example price book
    (pricing/examples/proposed-2027; the real outputs stay as they are)."""
    from metering.commerce.costs import cost_dir
    from metering.commerce.margin import write_margin_report
    from metering.commerce.quote import quote_month
    from metering.resources import resource_dir

    books: list[tuple[str, Path]] = []
    if cost_dir(config) is not None:
        with console.status("margin of the month against pricing/costs/"):
            books.append(("margin report", write_margin_report(config, window).pdf_path.parent))

    proposed = resource_dir("pricing") / "examples" / "proposed-2027"
    with console.status("quoting the month with pricing/examples/proposed-2027"):
        # the demo has lived through the simulated month: it is closed whatever today is
        quote = quote_month(config, window, proposed, now=window.end)
    return [*books, ("what-if quote", quote.pdf_path.parent)]


def _summary(
    warehouse: Path,
    out: Path,
    window: Window,
    seconds: float,
    books: Sequence[tuple[str, Path]] = (),
) -> None:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select tenant_name, currency, total_amount from invoice_totals"
            " where month = ? order by total_amount desc, tenant_name",
            [window.start.date()],
        ).fetchall()
    table = Table(title=f"Invoices for {window.start:%B %Y}: {len(rows)} tenants")
    table.add_column("tenant")
    table.add_column("total", justify="right")
    shown = 8
    for name, currency, total in rows[:shown]:
        table.add_row(escape(str(name)), f"{currency} {total:,.2f}")
    if len(rows) > shown:
        table.add_row(f"... and {len(rows) - shown} more", "")
    totals: dict[str, Decimal] = {}
    for _, currency, total in rows:
        totals[currency] = totals.get(currency, Decimal(0)) + total
    for currency, total in sorted(totals.items()):
        table.add_row(f"[bold]all tenants ({currency})[/]", f"[bold]{currency} {total:,.2f}[/]")
    console.print(table)
    for label, path in (
        ("invoices", out / "invoices" / f"{window.start:%Y-%m}"),
        ("provider report", out / "report"),
        ("FOCUS export", out / "focus"),
        ("warehouse (duckdb)", warehouse),
        ("provider config", out / "provider.toml"),
        *books,
    ):
        console.print(f"  {label:<20} {path}", highlight=False)
    console.print(
        "probe the sites first (the first step of going live; needs the simulator running: "
        f"metering simulate): metering check-site --config {out / 'provider.toml'}",
        highlight=False,
    )
    console.print(f"done in {seconds:.0f} s")
