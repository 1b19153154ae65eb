"""``metering check-site``: probe each site read-only before trusting its bills."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from metering.cli import app
from metering.cli.options import CONFIG_OPTION
from metering.config import load_config
from metering.errors import TerminalError
from metering.sources.http import run_loop
from metering.sources.probe import SiteProbe, probe_site

console = Console()
_STYLE = {"ok": "green", "quarantined": "yellow", "failed": "red", "skipped": "dim"}


def _print(report: SiteProbe) -> None:
    offered = ", ".join(report.offered) or "none"
    console.print(
        f"[bold]site {escape(report.site)}[/]: {report.tls}; API version "
        f"{report.api_version or '-'} (offered: {offered}); login {report.login}",
        highlight=False,
    )
    for probe in report.sources:
        style = _STYLE.get(probe.status, "white")
        detail = "; ".join(probe.datasets) or (probe.problem or "")
        console.print(
            f"  [{style}]{probe.source:<9} {probe.status:<11}[/] {escape(detail)}", highlight=False
        )
        for line in probe.endpoints:
            console.print(f"      {escape(line)}", highlight=False)
        for reason in probe.reasons:
            console.print(f"      quarantined: {escape(reason)}", highlight=False)


@app.command("check-site")
def check_site_command(
    config: Path = CONFIG_OPTION,
    site: str | None = typer.Option(None, "--site", help="Probe only this site."),
) -> None:
    """Read-only probe of every site and source: reachable, TLS, API version, login,
    endpoints, and a parse of what they answer. Exits 1 when a configured source cannot be
    read (one line per problem at the end)."""
    provider = load_config(config)
    sites = [provider.site(site)] if site else list(provider.sites)
    reports = [run_loop(probe_site(s)) for s in sites]
    for report in reports:
        _print(report)
    problems = [line for report in reports for line in report.problems]
    for line in problems:
        console.print(f"[red]problem:[/] {escape(line)}", highlight=False)
    if problems:
        raise TerminalError(f"check-site: {len(problems)} problem(s); the lines above say where")
    console.print("[green]every configured source of every site can be read[/]")
