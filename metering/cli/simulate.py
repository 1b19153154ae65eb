"""`metering simulate`: serve the simulated provider on loopback until interrupted."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from metering.cli import app
from metering.errors import UsageError
from metering.window import Window, parse_utc

console = Console()

_FAULT_HELP = (
    "A fault rule as key=value pairs, e.g. 'kind=429,pattern=*/api/query*,rate=0.1,"
    "retry_after=2' or 'kind=site_down,site=az2,start=2026-10-10T05:00Z'. Kinds: 429, 500, "
    "502, 503, slow (delay=), drop, truncate, malformed, duplicate, loop, site_down. "
    "Repeat for several rules."
)
_NUMBERS = {"rate": float, "delay": float, "retry_after": int, "limit": int}


def parse_fault(text: str) -> dict[str, Any]:
    """``kind=429,pattern=…,rate=0.1`` → the JSON form of a fault rule."""
    rule: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            raise UsageError(f"--fault {text!r}: expected key=value pairs, got {part!r}")
        convert = _NUMBERS.get(key.strip(), str)
        try:
            rule[key.strip()] = convert(value.strip())
        except ValueError:
            raise UsageError(f"--fault {text!r}: {key} must be a number") from None
    return rule


@app.command()
def simulate(
    seed: int = typer.Option(7, "--seed", help="Seed of the month: same seed, same provider."),
    month: str = typer.Option("2026-10", "--month", help="The simulated month (YYYY-MM)."),
    now: str = typer.Option(
        "", "--now", help="Initial simulated clock (ISO time, default: the month start)."
    ),
    tick: float = typer.Option(
        0.0, "--tick", help="Advance the clock one hour every TICK seconds (0: only on request)."
    ),
    vms: int = typer.Option(0, "--vms", help="Scale: plain VMs (0: the sample inventory)."),
    clusters: int = typer.Option(0, "--clusters", help="Scale: TKG clusters."),
    tenants: int = typer.Option(0, "--tenants", help="Scale: tenants (orgs)."),
    sites: int = typer.Option(2, "--sites", help="Scale: number of sites (az1, az2, ...)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback)."),
    port: int = typer.Option(8900, "--port", help="Port to bind (0: any free port)."),
    token_lifetime: float = typer.Option(
        1800.0, "--token-lifetime", help="Seconds a VCD session token stays valid."
    ),
    fault: list[str] = typer.Option([], "--fault", help=_FAULT_HELP),  # noqa: B008
    vcd_release: list[str] = typer.Option(  # noqa: B008
        [],
        "--vcd-release",
        help="SITE=RELEASE: the VCD release a site runs (10.4, 10.5, 10.6, future); "
        "default 10.6. Repeatable.",
    ),
    config_out: Path | None = typer.Option(  # noqa: B008
        None, "--config-out", help="Write provider.toml (and its password files) here."
    ),
) -> None:
    """Serve a simulated provider (VCD, CSE, ALP, DSE, OSE, Cloudian per site) until Ctrl-C.

    Sites are path prefixes: http://HOST:PORT/<site>/vcd, /<site>/ose, /<site>/cloudian.
    Control: GET/POST /_sim/clock {"now": iso}, GET /_sim/truth?start=&end=,
    GET/POST/DELETE /_sim/faults. See docs/simulator.md.
    """
    from metering.simulator import Simulation
    from metering.simulator.server import RunningServer

    start = Window.parse_month(month).start
    if vms or clusters or tenants:
        sim = Simulation.generate(
            vms=vms,
            clusters=clusters,
            tenants=max(tenants, 1),
            sites=sites,
            seed=seed,
            start=start,
            token_lifetime=token_lifetime,
        )
    else:
        sim = Simulation.from_sample_data(seed=seed, start=start, token_lifetime=token_lifetime)
    if now:
        sim.set_now(_parse_now(now))
    for text in vcd_release:
        site, _, release = text.partition("=")
        try:
            sim.set_release(site.strip(), release.strip())
        except ValueError as exc:
            raise UsageError(f"--vcd-release {text!r}: {exc}") from None
    for text in fault:
        try:
            sim.faults.add(**parse_fault(text))
        except (TypeError, ValueError) as exc:
            raise UsageError(f"--fault {text!r}: {exc}") from None
    server = RunningServer(sim, host, port)
    _announce(sim, server, config_out)
    stop = threading.Event()
    if tick > 0:
        threading.Thread(target=_ticker, args=(sim, tick, stop), daemon=True).start()
    try:
        server.serve_forever()
    finally:
        stop.set()


def _parse_now(text: str) -> datetime:
    try:
        return parse_utc(text)
    except ValueError as exc:
        raise UsageError(f"--now: {exc}") from None


def _ticker(sim: Any, seconds: float, stop: threading.Event) -> None:
    while not stop.wait(seconds):
        sim.advance()


def _announce(sim: Any, server: Any, config_out: Path | None) -> None:
    console.print(f"simulated provider [bold]{sim.world.inventory.provider_name}[/]")
    console.print(f"  clock  {sim.now.isoformat()}   control  {server.base_url}/_sim/clock")
    for site in sim.sites:
        urls = server.site_urls(site)
        console.print(
            f"  {site:<6} vcd {urls['vcd']}  ose {urls['ose']}  cloudian {urls['cloudian']}"
        )
    if config_out is not None:
        sim.server = server
        path = sim.provider_config(config_out.resolve(), server)
        console.print(f"  config {path}  (passwords in private files under secrets/)")
    console.print("serving; press Ctrl-C to stop")
