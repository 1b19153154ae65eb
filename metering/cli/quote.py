"""The provider's books: ``metering quote`` (a closed month priced with a proposed price
book, beside its bill) and ``metering margin`` (revenue against the cost cards)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from metering.cli import app
from metering.cli.options import CONFIG_OPTION, month_option
from metering.config import load_config

console = Console()

_PRICING = typer.Option(..., "--pricing", help="Directory of the proposed rate cards.")
_CATALOG = typer.Option(
    None, "--catalog", help="A proposed tenant catalog (default: the config's)."
)
_TENANT = typer.Option(None, "--tenant", help="Only this tenant id.")
_OUT = typer.Option(
    None, "--out", help="Where to write (default: <out_dir>/quotes/YYYY-MM/<pricing name>)."
)


@app.command("quote")
def quote_command(
    month: str = typer.Option(..., "--month", help="The closed month to price (YYYY-MM, UTC)."),
    pricing: Path = _PRICING,
    catalog: Path | None = _CATALOG,
    tenant: str | None = _TENANT,
    out: Path | None = _OUT,
    config: Path = CONFIG_OPTION,
) -> None:
    """Rate a closed month's usage with a proposed price book, in a scratch space, and write
    per tenant and product old / new / delta (CSV and a one-page PDF).

    The month's real outputs, the invoice register and the warehouse are never touched.

    Example: metering quote -c provider.toml --month 2026-10 --pricing pricing/examples/quote
    """
    from metering.commerce.quote import quote_month

    window = month_option(month)
    provider = load_config(config)
    with console.status(f"pricing {month} with {pricing.name}"):
        result = quote_month(provider, window, pricing, catalog=catalog, tenant=tenant, out=out)
    from metering.commerce.quote_pdf import currency_totals

    table = Table("currency", "billed", "quoted", "change", title=f"Quote {month}: {pricing.name}")
    for row in currency_totals(result.rows):
        table.add_row(
            row["currency"], f"{row['old']:,.2f}", f"{row['new']:,.2f}", f"{row['delta']:+,.2f}"
        )
    console.print(table)
    if result.unrated_rows:
        console.print(f"{result.unrated_rows} usage rows have no price in the proposed book")
    console.print(f"  CSV {result.csv_path}\n  PDF {result.pdf_path}", highlight=False)


@app.command("margin")
def margin_command(
    month: str = typer.Option(..., "--month", help="The rated month (YYYY-MM, UTC)."),
    config: Path = CONFIG_OPTION,
) -> None:
    """Write the month's margin report: revenue per tenant and product against the provider's
    cost cards (pricing/costs/ or [costs] dir), as CSV and PDF under <out_dir>/margin/.

    Example: metering margin -c provider.toml --month 2026-10
    """
    from metering.commerce.margin import summarise, write_margin_report

    window = month_option(month)
    provider = load_config(config)
    with console.status(f"margin of {month}"):
        report = write_margin_report(provider, window)
    table = Table("currency", "revenue", "cost", "margin", "%", title=f"Margin {month}")
    for row in summarise(report.rows, "currency"):
        table.add_row(
            row["currency"],
            f"{row['revenue_amount']:,.2f}",
            f"{row['cost_amount']:,.2f}",
            f"{row['margin_amount']:,.2f}",
            f"{row['margin_percent'] or ''}",
        )
    console.print(table)
    console.print(f"  CSV {report.csv_path}\n  PDF {report.pdf_path}", highlight=False)
