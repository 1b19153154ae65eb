"""`metering serve`: the tenant portal and billing API; `metering api-key`: its API keys."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import typer
from rich.console import Console
from rich.markup import escape

from metering.cli import app
from metering.cli.options import CONFIG_OPTION
from metering.config import ProviderConfig, load_config
from metering.errors import ConfigError, UsageError

console = Console()


def _start_simulator(config: ProviderConfig, seed: int, month: str) -> None:
    """Serve the sample simulated provider again where ``config``'s sites point (the demo's
    own), so its org users can sign in after the demo has stopped it."""
    from metering.simulator import Simulation, serve_in_thread
    from metering.window import Window

    urls = {urlparse(site.vcd_url) for site in config.sites}
    ports = {u.port for u in urls}
    hosts = {u.hostname for u in urls}
    if len(ports) != 1 or hosts != {"127.0.0.1"}:
        raise ConfigError("--with-simulator: the config's sites are not one simulated provider")
    port = ports.pop()
    assert port is not None
    sim = Simulation.from_sample_data(seed=seed, start=Window.parse_month(month).start)
    serve_in_thread(sim, port=port)
    console.print(f"simulated provider (seed {seed}) at http://127.0.0.1:{port}")


_OPENAPI = typer.Option(
    None, "--openapi", help="Write the API's OpenAPI document to this file and exit."
)


@app.command()
def serve(
    config_path: Path = CONFIG_OPTION,
    host: str = typer.Option(
        "", "--host", help="Address to bind (default: host of the portal section, 127.0.0.1)."
    ),
    port: int = typer.Option(
        -1, "--port", help="Port (default: port of the portal section, 8800)."
    ),
    with_simulator: bool = typer.Option(
        False, "--with-simulator", help="Also serve the demo's simulated provider (sign-in)."
    ),
    seed: int = typer.Option(7, "--seed", help="With --with-simulator: the demo's seed."),
    month: str = typer.Option("2026-10", "--month", help="With --with-simulator: its month."),
    openapi: Path | None = _OPENAPI,
) -> None:
    """Serve the tenant portal and the billing API (put a TLS reverse proxy in front)."""
    if openapi is not None:
        from metering.portal.openapi import document_text

        openapi.write_text(document_text(), encoding="utf-8")
        console.print(f"wrote {openapi}")
        return
    import uvicorn

    from metering.portal import create_app
    from metering.portal.settings import load_portal_settings

    config = load_config(config_path)
    settings = load_portal_settings(config)
    if with_simulator:
        _start_simulator(config, seed, month)
    bind_host = host or settings.host
    bind_port = settings.port if port < 0 else port
    shown = "localhost" if bind_host in ("127.0.0.1", "::1") else bind_host
    console.print(f"portal for {escape(config.name)}: http://{shown}:{bind_port}/", highlight=False)
    uvicorn.run(
        create_app(config, settings=settings),
        host=bind_host,
        port=bind_port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1",
    )


keys_app = typer.Typer(help="API keys of the billing API (stored hashed; shown once).")
app.add_typer(keys_app, name="api-key")


def _keys(config_path: Path):  # type: ignore[no-untyped-def]
    from metering.portal.apikeys import ApiKeys
    from metering.portal.settings import load_portal_settings

    config = load_config(config_path)
    return config, ApiKeys(load_portal_settings(config).state_path)


@keys_app.command("create")
def key_create(
    config_path: Path = CONFIG_OPTION,
    tenant: str = typer.Option("", "--tenant", help="Scope the key to this tenant id."),
    provider: bool = typer.Option(False, "--provider", help="A provider-wide key."),
    label: str = typer.Option("", "--label", help="What the key is for."),
) -> None:
    """Create a key scoped to one tenant (--tenant ID) or the provider (--provider)."""
    if bool(tenant) == provider:
        raise UsageError("api-key create: give exactly one of --tenant ID or --provider")
    config, keys = _keys(config_path)
    if tenant:
        from metering.readmodel import BillingReadModel

        if BillingReadModel(config).tenant(tenant) is None:
            raise ConfigError(f"api-key create: no tenant {tenant!r} in the catalog")
    key, record = keys.create(tenant_id=tenant or None, label=label)
    console.print(f"key {record.id} ({record.scope}{': ' + escape(tenant) if tenant else ''})")
    typer.echo(key)


@keys_app.command("list")
def key_list(config_path: Path = CONFIG_OPTION) -> None:
    """List keys (ids and scopes; the keys themselves cannot be shown again)."""
    _, keys = _keys(config_path)
    for k in keys.list():
        state = f"revoked {k.revoked_at}" if k.revoked_at else "live"
        made = f"{k.created_at} by {k.created_by}"
        typer.echo(f"{k.id}\t{k.scope}\t{k.tenant_id or ''}\t{made}\t{state}\t{k.label}")


@keys_app.command("revoke")
def key_revoke(key_id: str, config_path: Path = CONFIG_OPTION) -> None:
    """Revoke a key by its id."""
    _, keys = _keys(config_path)
    if not keys.revoke(key_id):
        raise ConfigError(f"api-key revoke: no live key {key_id!r}")
    typer.echo(f"revoked {key_id}")


hooks_app = typer.Typer(
    help="Webhook deliveries (invoice.issued, credit_note.issued, close.blocked)."
)
app.add_typer(hooks_app, name="webhooks")


@hooks_app.command("deliver")
def hooks_deliver(config_path: Path = CONFIG_OPTION) -> None:
    """Discover new events and deliver what is due, once (metering serve does it every 30 s)."""
    from metering.portal.settings import load_portal_settings
    from metering.portal.webhooks import Webhooks
    from metering.readmodel import BillingReadModel

    config = load_config(config_path)
    settings = load_portal_settings(config)
    hooks = Webhooks(settings.state_path, settings.webhooks)
    for attempt in hooks.run_once(BillingReadModel(config)):
        result = attempt.error or f"HTTP {attempt.status_code}"
        typer.echo(f"{attempt.event_id}\t{attempt.url}\tattempt {attempt.attempt}\t{result}")


@hooks_app.command("list")
def hooks_list(config_path: Path = CONFIG_OPTION) -> None:
    """Every delivery, its state and attempts."""
    from metering.portal.settings import load_portal_settings
    from metering.portal.webhooks import Webhooks

    config = load_config(config_path)
    settings = load_portal_settings(config)
    for row in Webhooks(settings.state_path, settings.webhooks).deliveries():
        typer.echo(f"{row['event_id']}\t{row['url']}\t{row['state']}\t{row['attempts']} attempt(s)")
