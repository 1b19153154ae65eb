"""``metering register rename-provider``: the invoice register after a provider rename
(docs/operations.md, "Renaming the provider")."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from metering.cli import app
from metering.cli.options import CONFIG_OPTION
from metering.config import load_config
from metering.errors import ConfigError

register_app = typer.Typer(name="register", help="Operations on the invoice register.")
app.add_typer(register_app)
console = Console()


@register_app.command("rename-provider")
def rename_provider_command(
    old: str = typer.Option(..., "--from", help="The provider name the documents were issued as."),
    new: str = typer.Option(..., "--to", help="The new name: [provider] name in the config."),
    config: Path = CONFIG_OPTION,
) -> None:
    """Move every document, sequence and close of provider --from to --to, so the next close
    continues the same numbering under the new name (issued documents keep their numbers)."""
    from metering.close.register import Register
    from metering.close.settings import load_settings
    from metering.pipelines.api import pipeline_lock

    provider = load_config(config)
    settings = load_settings(provider)
    if new != settings.provider:
        raise ConfigError(
            f"--to {new!r} is not the provider name in {provider.source_file.name} "
            f"({settings.provider!r}): rename it there first"
        )
    with pipeline_lock(provider, "metering register rename-provider"):
        register = Register(settings.register_path, settings.provider)
        try:
            moved = register.rename_provider(old, new)
        finally:
            register.close()
    console.print(f"{moved} document(s) of {old!r} now belong to {new!r}", highlight=False)
