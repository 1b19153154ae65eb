"""Examples shown under every command's ``--help`` (each command and group has some).

Kept in one place, keyed by the command's path, and attached to the commands when the CLI
starts (:func:`add_examples`), except where a command's docstring has its own ``Example``
(``sql``, ``quote``); a command with neither fails tests/foundation/test_cli_usage.py.
``-c provider.toml`` is the default (``--config``, or the ``METERING_CONFIG`` environment
variable) and is left out where nothing else is given.
"""

from __future__ import annotations

from typing import Any

from rich.markup import escape

EXAMPLES: dict[str, tuple[tuple[str, str], ...]] = {
    "": (
        ("metering demo --out out", "simulate a provider, bill a month, write ./out"),
        ("metering rate --month 2026-10 -c provider.toml", "then: metering close ..."),
        ("metering COMMAND --help", "each command's options and examples"),
    ),
    "demo": (
        ("metering demo", "the sample provider's October 2026 into ./out"),
        ("metering demo --out /tmp/demo --fresh", "start over in another directory"),
        ("metering demo --tenants 200 --vms 2000", "a generated, larger provider"),
    ),
    "simulate": (
        ("metering simulate --port 8900 --config-out sim/", "serve it, write sim/provider.toml"),
        (
            "metering simulate --fault 'kind=site_down,site=az2,start=2026-10-10T05:00Z'",
            "with an outage",
        ),
    ),
    "collect": (
        ("metering collect", "one sample of every site and source, now"),
        ("metering collect --at 2026-10-14T05:00Z --sites az1", "one instant, one site"),
    ),
    "backfill": (("metering backfill --from 2026-10-01T00:00Z --to 2026-10-08T00:00Z", "a week"),),
    "runs": (("metering runs -n 50", "the last 50 collection runs"),),
    "check-site": (
        ("metering check-site", "probe every configured site and source (read-only)"),
        ("metering check-site --site az2", "one site"),
    ),
    "rate": (
        ("metering rate --month 2026-10", "price October 2026 and refresh the warehouse"),
        ("metering rate --month 2026-10 --consolidate", "turn every day's samples first"),
        ("metering rate --month 2026-10 --per-site 2", "one process per site, two at a time"),
        ("metering rate --month 2026-10 --engine spark", "needs pip install 'metering[spark]'"),
    ),
    "consolidate": (("metering consolidate --day 2026-10-14", "one day's samples → intervals"),),
    "close": (
        ("metering close --month 2026-10", "issue numbered invoices, report, FOCUS export"),
        ("metering close --month 2026-10 --draft", "DRAFT PDFs and what would be refused"),
        (
            'metering close --month 2026-10 --accept-gaps "az2 down 10 Oct, agreed"',
            "issue despite the gate's gaps; the reason is recorded",
        ),
    ),
    "showback": (
        ("metering showback --tenant acme --month-to-date", "this month so far, as HTML"),
        ("metering showback --tenant acme --month 2026-10", "a past month"),
    ),
    "coverage": (("metering coverage --month 2026-10", "collected vs expected, per site/day"),),
    "scheduler": (
        ("metering scheduler", "run forever: collect, nightly, month-end close"),
        ("metering scheduler --once", "catch up what is due, print what ran, exit"),
        ("metering scheduler --log-format json", "one JSON object per log line"),
    ),
    "pipeline-runs": (
        ("metering pipeline-runs --pipeline close --status failed", "failed closes"),
        ("metering pipeline-runs -n 50", "the last 50 runs"),
    ),
    "serve": (
        ("metering serve", "the tenant portal and billing API on 127.0.0.1:8800"),
        ("metering serve -c out/provider.toml --with-simulator", "the demo's, with sign-in"),
        ("metering serve --openapi openapi.json", "write the API description and exit"),
    ),
    "lake": (
        ("metering lake sweep", "remove stale temporary files"),
        ("metering lake set-aside FILE --reason '...'", "move a damaged file aside"),
    ),
    "lake set-aside": (
        (
            "metering lake set-aside vcd_vm/site=az1/day=2026-10-14/part-0.parquet",
            "the file as the error names it, relative to the lake",
        ),
        ("metering lake set-aside FILE --reason 'truncated: disk full'", "kept in a note"),
    ),
    "lake sweep": (("metering lake sweep", "remove temporary files of runs that died"),),
    "register": (
        ("metering register rename-provider --from old --to new", "after renaming [provider]"),
    ),
    "register rename-provider": (
        (
            'metering register rename-provider --from "Old Cloud" --to "Sample Cloud"',
            "rename [provider] name first",
        ),
    ),
    "run": (
        ("metering run nightly --date 2026-10-14", "one UTC day by hand"),
        ("metering run close --month 2026-10", "a month's close, once its nights ran"),
    ),
    "run nightly": (
        ("metering run nightly --date 2026-10-14", "re-collect, consolidate, rate to date"),
    ),
    "run close": (
        ("metering run close --month 2026-10", "refused while a night is missing"),
        ('metering run close --month 2026-10 --accept-gaps "reason"', "issue despite gaps"),
    ),
    "run collect": (("metering run collect --at 2026-10-14T05:00Z", "one sampling instant"),),
    "api-key": (
        ("metering api-key create --tenant acme --label erp", "a key for one tenant"),
        ("metering api-key list", "every key (never the secret)"),
    ),
    "api-key create": (
        ("metering api-key create --tenant acme --label erp", "shown once"),
        ("metering api-key create --provider --label finance", "a provider-wide key"),
    ),
    "api-key list": (("metering api-key list", "ids and scopes; never the keys themselves"),),
    "api-key revoke": (("metering api-key revoke KEY_ID", "as api-key list shows it"),),
    "webhooks": (
        ("metering webhooks list", "every delivery, its state and attempts"),
        ("metering webhooks deliver", "deliver what is due, once"),
    ),
    "webhooks deliver": (
        ("metering webhooks deliver", "discover new events, deliver what is due"),
    ),
    "webhooks list": (("metering webhooks list", "every delivery, its state and attempts"),),
}


def epilog(path: str) -> str | None:
    """The ``Examples`` text for the command at ``path`` (``"run close"``): one paragraph
    per example (rich help joins single lines), the comment beside a short command and
    above a long one, so nothing wraps in an 80-column terminal."""
    examples = EXAMPLES.get(path)
    if not examples:
        return None
    paragraphs = ["[bold]Examples[/bold]"]
    for line, what in examples:
        both = f"{escape(line)}   [dim]# {escape(what)}[/dim]"
        if len(line) + len(what) + 5 <= 78:
            paragraphs.append(both)
        else:
            paragraphs += [f"[dim]# {escape(what)}[/dim]", escape(line)]
    return "\n\n".join(paragraphs)


def add_examples(app: Any, path: str = "") -> None:
    """Attach :func:`epilog` to every command and group of the typer ``app``."""
    info = getattr(app, "info", None)
    if info is not None and not getattr(info, "epilog", None):
        info.epilog = epilog(path)
    for command in app.registered_commands:
        name = command.name or command.callback.__name__.replace("_", "-")
        own = command.help or getattr(command.callback, "__doc__", None) or ""
        if not command.epilog and "Example" not in own:  # some docstrings carry their own
            command.epilog = epilog(f"{path} {name}".strip())
    for group in app.registered_groups:
        sub = group.typer_instance
        name = group.name or sub.info.name
        add_examples(sub, f"{path} {name}".strip())
