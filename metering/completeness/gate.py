"""The completeness gate: what must hold before a month's invoices get numbers.

Every path to a numbered document runs it (``close_month``: ``metering close``, ``metering
run close`` and the scheduler's close). A month may be invoiced when

1. it has ended, plus ``[close] grace_hours`` for late data (never overridable);
2. every day of it is consolidated (``usage_intervals`` has the day's file);
3. nothing the month owes is unrated (``unrated_usage`` is empty);
4. every site × source × day collected at least ``[close] coverage_threshold`` of its
   expected instants (``coverage``).

Each failure is a :class:`Problem`: one line naming the site, source and day(s) and the
command that fixes it, and the tenants it touches. A tenant no problem touches is ready and
is issued; the others wait (drafts without a number), so one site down holds only the
tenants with usage on it. ``--accept-gaps "reason"`` issues them anyway, recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb

from metering.completeness.coverage import DayCoverage, by_day, month_coverage
from metering.completeness.settings import GateSettings, gate_settings
from metering.config import ProviderConfig
from metering.lake.storage import LakePath
from metering.resources import read_sql
from metering.window import Window

# The products each source's data is billed as (OSE reports the same object storage).
SOURCE_PRODUCTS: dict[str, frozenset[str]] = {
    "vcd": frozenset(
        {
            "vcpu",
            "ram",
            "vm_disk",
            "independent_disk",
            "vm_snapshot",
            "os_licence",
            "os_licence_vm",
            "vdc_cpu",
            "vdc_ram",
            "catalog_media",
            "edge_gateway",
            "edge_gateway_month",
            "public_ip",
            "public_ip_month",
            "vapp_template",
        }
    ),
    "cse": frozenset({"tkg_cluster"}),
    "alp": frozenset({"alp_instance"}),
    "dse": frozenset({"dse_core"}),
    "ose": frozenset({"object_storage", "object_requests"}),
    "cloudian": frozenset({"object_storage", "object_requests"}),
}


@dataclass(frozen=True)
class Problem:
    """One reason a final close refuses; ``tenants`` None means every tenant."""

    kind: str  # open_month | night | coverage | unrated
    detail: str
    fix: str
    site: str | None = None
    source: str | None = None
    days: tuple[date, date] | None = None
    tenants: frozenset[str] | None = None
    can_accept: bool = True  # whether --accept-gaps may issue despite it

    def line(self) -> str:
        where = [self.site or "all sites", self.source or "all sources"]
        if self.days is not None:
            first, last = self.days
            where.append(first.isoformat() if first == last else f"{first} .. {last}")
        return f"{' '.join(where)}: {self.detail}; fix: {self.fix}"


@dataclass(frozen=True)
class GateReport:
    """The gate's verdict on a month: its problems and the tenants they hold."""

    month: str
    problems: tuple[Problem, ...]
    held: dict[str, tuple[str, ...]] = field(default_factory=dict)  # tenant → problem lines

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        return [p.line() for p in self.problems]


def month_key(month: Window) -> str:
    return f"{month.start:%Y-%m}"


def open_month(
    month: Window, now: datetime, settings: GateSettings, draft_hint: bool = True
) -> Problem | None:
    """The month has not ended, or its grace for late data has not passed."""
    ready = month.end + settings.grace
    if now >= ready:
        return None
    key = month_key(month)
    state = "has not ended" if now < month.end else "ended less than [close] grace_hours ago"
    fix = f"wait until {ready:%Y-%m-%d %H:%M}Z"
    if draft_hint:
        fix += f" (`metering close --month {key} --draft` shows the invoices so far)"
    return Problem("open_month", f"the month {state}", fix, can_accept=False)


def _ranges(days: Sequence[date]) -> list[tuple[date, date]]:
    """Consecutive days as (first, last) ranges."""
    out: list[tuple[date, date]] = []
    for day in sorted(days):
        if out and out[-1][1] + timedelta(days=1) == day:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def unconsolidated(lake: LakePath, days: Iterable[date]) -> list[Problem]:
    """Days with no ``usage_intervals`` file (their night never finished)."""
    from metering.rating.consolidate import intervals_path

    missing = [d for d in days if not intervals_path(lake, d).is_file()]
    problems = []
    for first, last in _ranges(missing):
        fix = f"`metering run nightly --date {first}`"
        if last != first:
            fix += f" for each day to {last}"
        problems.append(Problem("night", "not consolidated", fix, days=(first, last)))
    return problems


def _coverage_fix(source: str, key: str) -> str:
    if source == "cloudian":
        return "`metering run nightly --date <day>` (its backfill re-reads Cloudian)"
    return (
        "missed samples cannot be re-read; see `metering runs`, then decide with finance: "
        f'`metering close --month {key} --accept-gaps "<reason>"`'
    )


def short_coverage(
    days: Iterable[DayCoverage],
    threshold: object,
    key: str,
    usage: dict[tuple[str, str], set[str]],
    unseen: frozenset[str] = frozenset(),
) -> list[Problem]:
    """One problem per site × source and run of days below the threshold. It touches the
    tenants with usage of that source on that site, and the ``unseen`` tenants (billed, but
    with no usage anywhere: nothing shows they have none on the site that was missed).

    A site × source that collected nothing on any day of the month touches every tenant: its
    tenants have no usage there to be recognised by, so a tenant with resources on that site
    and on a healthy one would otherwise be issued for the healthy site alone."""
    low: dict[tuple[str, str], list[DayCoverage]] = {}
    gathered: dict[tuple[str, str], int] = {}
    for day in days:
        where = (day.site, day.source)
        gathered[where] = gathered.get(where, 0) + day.collected
        if day.ratio < threshold:  # type: ignore[operator]
            low.setdefault(where, []).append(day)
    problems = []
    for (site, source), found in sorted(low.items()):
        by_date = {d.day: d for d in found}
        tenants: frozenset[str] | None = unseen | frozenset(
            t for product in SOURCE_PRODUCTS[source] for t in usage.get((site, product), set())
        )
        if not gathered[(site, source)]:
            tenants = None  # nothing collected all month: no usage shows whose it is
        for first, last in _ranges(list(by_date)):
            span = [by_date[first + timedelta(days=i)] for i in range((last - first).days + 1)]
            expected = sum(d.expected for d in span)
            collected = sum(d.collected for d in span)
            causes = sorted({d.cause for d in span})
            detail = f"{collected}/{expected} instants collected ({'; '.join(causes)})"
            fix = _coverage_fix(source, key).replace("<day>", first.isoformat())
            problems.append(
                Problem("coverage", detail, fix, site, source, (first, last), tenants=tenants)
            )
    return problems


def unrated(con: duckdb.DuckDBPyConnection, key: str) -> list[Problem]:
    """One problem per site × product × reason with unrated usage."""
    rows = con.execute(read_sql("completeness/gate_unrated.sql")).fetchall()
    problems = []
    for site, product, dimension, reason, count, tenants, orphan in rows:
        what = product + (f"/{dimension}" if dimension else "")
        fix = (
            "map the org in the tenant catalog"
            if str(reason).startswith("no tenant")
            else f"add a rate for {what} to the pricing policy"
        )
        fix += f", then `metering rate --month {key}`"
        named = frozenset(t for t in tenants if t is not None)
        problems.append(
            Problem(
                "unrated",
                f"{count} unrated row(s) of {what} ({reason})",
                fix,
                site,
                None,
                tenants=None if orphan else named,
            )
        )
    return problems


def _usage(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], set[str]]:
    """(site, product) → tenants with rated usage there."""
    found: dict[tuple[str, str], set[str]] = {}
    rows = con.execute(read_sql("completeness/gate_usage_sites.sql")).fetchall()
    for site, product, tenant in rows:
        found.setdefault((str(site), str(product)), set()).add(str(tenant))
    return found


def check_month(
    con: duckdb.DuckDBPyConnection, config: ProviderConfig, month: Window, now: datetime
) -> GateReport:
    """Run the gate on a month whose rating outputs are registered on ``con``."""
    settings = gate_settings(config)
    key = month_key(month)
    problems: list[Problem] = []
    opened = open_month(month, now, settings)
    if opened is not None:
        problems.append(opened)
    # days still to come are not gaps (a draft of an open month): the open month says it
    ended = [d for d in month.days() if Window.day(d).end <= now]
    problems += unconsolidated(config.lake, ended)
    found = con.execute(read_sql("completeness/gate_tenants.sql")).fetchall()
    tenants = [str(r[0]) for r in found]
    usage = _usage(con)
    unseen = frozenset(tenants) - {t for found in usage.values() for t in found}
    coverage = by_day(month_coverage(config, ended, now))
    problems += short_coverage(coverage, settings.coverage_threshold, key, usage, unseen)
    problems += unrated(con, key)
    held: dict[str, list[str]] = {}
    for problem in problems:
        touched = tenants if problem.tenants is None else problem.tenants
        for tenant in touched:
            held.setdefault(tenant, []).append(problem.line())
    return GateReport(key, tuple(problems), {t: tuple(v) for t, v in held.items()})
