"""``close_month``: freeze, issue, render — resumable at every step.

0. the completeness gate (``metering.completeness.gate``): a month that has not ended (plus
   its grace) is refused before anything else; after rating, every tenant a problem touches
   (a night not consolidated, a coverage shortfall, unrated usage) and every unmapped org is
   held: drafted without a number. ``accept_gaps`` issues the gap-held tenants anyway and
   records the reason on their documents;
1. (optionally) rate the month, then open its rating outputs;
2. freeze: hash the rated content and the pricing inputs; if both equal the last close of
   the month, nothing is issued;
3. issue: draft + number the documents the change needs, in one transaction (``issue.py``);
4. render every issued document whose PDF is missing, in parallel worker processes;
5. write the provider report and the FOCUS export when something was issued or a file is
   missing.

A run killed anywhere (even ``kill -9``) is finished by running it again: step 3 is atomic
and steps 4-5 only fill in what is missing, from the register's frozen bodies.
"""

from __future__ import annotations

import fcntl
import importlib
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from metering.close.billto import load_bill_to
from metering.close.contract import month_key
from metering.close.documents import iter_bodies
from metering.close.inputs import MEMORY_LIMIT, check_published, content_hash, files_hash
from metering.close.issue import NO_HOLDS, Holds, Issued, issue_month
from metering.close.numbering import check_register
from metering.close.register import DocumentState, Register, documents_table
from metering.close.rendering import (
    documents_dir,
    record_rendered,
    render_drafts,
    render_pending,
)
from metering.close.settings import InvoicingSettings, load_settings
from metering.close.settings import focus_period as check_focus_period
from metering.completeness.gate import GateReport, check_month, open_month
from metering.completeness.settings import gate_settings
from metering.config import ProviderConfig
from metering.einvoice.parties import check_seller
from metering.errors import IncompleteMonth, LockError
from metering.lake.storage import LakePath, write_bytes
from metering.rating.engine import bounded_connection
from metering.reports.focus import DAILY_COLUMNS, lake_replication_factors, write_focus
from metering.reports.labels import label_settings
from metering.reports.provider import write_provider_report
from metering.reports.render import RenderPool, template_env
from metering.window import Window


@dataclass(frozen=True)
class CloseResult:
    """What one close did. ``changed`` is false when the month was already closed as is."""

    month: str
    usage_hash: str
    pricing_hash: str
    changed: bool
    invoices: tuple[str, ...]
    credit_notes: tuple[str, ...]
    credited: tuple[str, ...]
    rendered: tuple[str, ...]
    out_dir: Path
    outputs: dict[str, LakePath] = field(default_factory=dict)
    repaired: tuple[str, ...] = ()  # issued PDFs found damaged and rendered again
    # the gate: its problem lines, the tenants held (tenant → why), unmapped orgs' tenants,
    # the --accept-gaps reason the gap-held tenants were issued with, the drafts rendered
    problems: tuple[str, ...] = ()
    held: dict[str, str] = field(default_factory=dict)
    unmapped: tuple[str, ...] = ()
    accepted_gaps: str | None = None
    drafts: tuple[Path, ...] = ()

    @property
    def refused(self) -> bool:
        """Whether the gate held tenants for gaps (and they were not accepted)."""
        return bool(self.problems) and self.accepted_gaps is None


def output_paths(settings: InvoicingSettings, month: str) -> dict[str, LakePath]:
    """Where the month's provider report and FOCUS export are written."""
    report, focus = settings.out_dir / "report", settings.out_dir / "focus"
    return {
        "provider_csv": report / f"provider-report-{month}.csv",
        "provider_html": report / f"provider-report-{month}.html",
        "provider_pdf": report / f"provider-report-{month}.pdf",
        "provider_labels": report / f"provider-report-{month}.labels.csv",  # private (0600)
        "focus_parquet": focus / f"focus-{month}.parquet",
        "focus_csv": focus / f"focus-{month}.csv",
        "documents": settings.lake_dir / "close" / "documents" / f"month={month}" / "part.parquet",
    }


def rate_if_installed(config: ProviderConfig, month: Window) -> None:
    """Run rating first when the rating stage is installed; otherwise use its last outputs."""
    try:
        module = importlib.import_module("metering.rating.run")
    except ModuleNotFoundError as exc:
        if exc.name not in ("metering.rating.run", "metering.rating"):
            raise
        return
    module.rate_month(config, month)


def _replication_factors(config: ProviderConfig, month: Window) -> dict[str, Decimal]:
    """Storage policy → copies (FOCUS ``x_ReplicationFactor``): from the collected Cloudian
    policies, overridden or completed by ``[invoicing.replication_factors]``."""
    result = lake_replication_factors(config.lake, month)
    section = config.section("invoicing").sub("replication_factors")
    for name, value in section.data.items():
        try:
            result[str(name)] = Decimal(str(value))
        except InvalidOperation:
            raise section.error(str(name), f"must be a number as a string, got {value!r}") from None
    return result


def _write_outputs(
    con: duckdb.DuckDBPyConnection,
    config: ProviderConfig,
    settings: InvoicingSettings,
    register: Register,
    month: Window,
    paths: dict[str, LakePath],
    pool: RenderPool,
) -> None:
    """The provider report, the FOCUS export and the documents table of the month; the
    report's PDF renders in ``pool`` while this process writes the rest."""
    pool.submit([write_provider_report(con, config, template_env(), settings, month, paths)])
    docs = [
        d
        for d in register.documents(month_key(month), bodies=False)
        if d.state is not DocumentState.DRAFT
    ]
    focus = (paths["focus_parquet"], paths["focus_csv"])
    assert isinstance(focus[0], Path) and isinstance(focus[1], Path)  # under out_dir: local
    write_focus(
        docs,
        register.bodies_json,
        (focus[0], focus[1]),
        issuer=settings.branding.legal_name,
        region_id=settings.region_id,
        month_start=month.start,
        month_end=month.end,
        replication_factors=_replication_factors(config, month),
        batch=settings.batch_tenants,
        daily=_daily_weights(con) if settings.focus_period == "day" else None,
    )
    # the register's documents of the month, for finance next to the rating outputs
    out = io.BytesIO()
    ids = [d.id for d in docs]
    einvoices = {i: tuple(f) for i, f in register.einvoices(month_key(month)).items()}
    table = documents_table(docs, register.accepted_gaps(ids), register.headlines(ids), einvoices)
    pq.write_table(table, out, compression="zstd")
    write_bytes(paths["documents"], out.getvalue())


def _daily_weights(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """The month's rated usage per resource and day, to split FOCUS rows per day by."""
    columns = ", ".join(DAILY_COLUMNS)
    return con.sql(f"select {columns} from rated_usage").to_arrow_table()


@contextmanager
def _close_lock(settings: InvoicingSettings) -> Iterator[None]:
    """One close at a time per register (an OS lock: a killed close releases it at once)."""
    path = settings.register_path.with_suffix(".close.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockError(f"another close is running (lock {path}); retry when it ends") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _issue(
    con: duckdb.DuckDBPyConnection,
    config: ProviderConfig,
    settings: InvoicingSettings,
    register: Register,
    month: Window,
    hashes: tuple[str, str],
    at: datetime,
    draft_only: bool,
    holds: Holds,
) -> Issued:
    """Draft and number the documents the month's change needs (one transaction; the
    bodies are built a batch of tenants at a time inside it)."""
    catalog = load_bill_to(config.tenant_catalog, settings.default_locale)
    wanted = {f for b in catalog.values() if b.einvoice for f in b.einvoice.formats}
    brand = f"{config.source_file.name}: provider.branding"
    check_seller(settings.branding.einvoice, settings.branding.vat_id, brand, wanted)
    bodies = iter_bodies(con, month, settings, catalog)
    key = month_key(month)
    return issue_month(
        register, settings, key, bodies, hashes, at, draft_only=draft_only, holds=holds
    )


UNMAPPED_PREFIX = "unmapped:"
UNMAPPED = "unmapped org: no tenant catalog entry names it; held until the catalog maps it"


def unmapped_tenants(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Tenants of the month rating made of an org no catalog entry names (``unmapped:<org>``,
    a prefix the catalog may not use): held until the catalog maps the org."""
    rows = con.execute(
        "select tenant_id from invoice_totals where starts_with(tenant_id, ?) order by tenant_id",
        [UNMAPPED_PREFIX],
    ).fetchall()
    return tuple(str(r[0]) for r in rows)


def _holds(report: GateReport, unmapped: tuple[str, ...], accept_gaps: str | None) -> Holds:
    """Who is held and who is issued despite the gate (``accept_gaps``)."""
    held = {t: UNMAPPED for t in unmapped}
    accepted: dict[str, tuple[str, ...]] = {}
    for tenant, lines in report.held.items():
        if accept_gaps is None:
            more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
            held.setdefault(tenant, lines[0] + more)
        elif tenant not in held:
            accepted[tenant] = lines
    return Holds(held, accepted, accept_gaps)


def _renders_ahead(
    con: duckdb.DuckDBPyConnection, settings: InvoicingSettings, month: str, workers: int
) -> bool:
    """Whether the close will render enough documents to start its workers before issuing:
    the month's tenants outnumber its invoice PDFs by ``2 × workers`` (a first close, or
    PDFs to render again). A correction's few documents start them when queued instead."""
    if workers <= 1:
        return False
    row = con.execute("select count(distinct tenant_id) from invoice_totals").fetchone()
    pdfs = sum(1 for _ in documents_dir(settings, "invoices", month).glob("*.pdf"))
    return row is not None and int(row[0]) - pdfs >= 2 * workers


def close_month(
    config: ProviderConfig,
    month: Window,
    *,
    rate: bool = True,
    now: datetime | None = None,
    workers: int | None = None,
    show_progress: bool = True,
    draft_only: bool = False,
    accept_gaps: str | None = None,
    focus_period: str | None = None,
) -> CloseResult:
    """Close ``month``: issue what changed since the last close, render, report, export.

    Refuses (:class:`IncompleteMonth`) a month that has not ended plus its grace, unless
    ``draft_only``; holds the tenants the gate's problems touch (``result.problems``,
    ``result.held``) unless ``accept_gaps`` gives the reason to issue them anyway.
    ``focus_period`` ("month" or "day") overrides ``[invoicing] focus_period``."""
    settings = load_settings(config)
    if focus_period is not None:
        settings = replace(settings, focus_period=check_focus_period(focus_period))
    label_settings(config)  # the report's label key: refused before anything is issued
    if accept_gaps is not None and not accept_gaps.strip():
        raise IncompleteMonth("--accept-gaps needs a reason (it is recorded on the documents)")
    at = now or datetime.now(UTC)
    problem = open_month(month, at, gate_settings(config))
    if problem is not None and not draft_only:
        raise IncompleteMonth(f"close {month_key(month)} refused:\n{problem.line()}")
    with _close_lock(settings):
        return _close(
            config, settings, month, rate, at, workers, show_progress, draft_only, accept_gaps
        )


def _close(
    config: ProviderConfig,
    settings: InvoicingSettings,
    month: Window,
    rate: bool,
    now: datetime,
    workers: int | None,
    show_progress: bool,
    draft_only: bool,
    accept_gaps: str | None,
) -> CloseResult:
    if rate:
        rate_if_installed(config, month)
    with bounded_connection(MEMORY_LIMIT) as con:
        check_published(con, config, month)  # one rating's outputs, lines adding up
        report = check_month(con, config, month, now)
        unmapped = unmapped_tenants(con)
        holds = _holds(report, unmapped, accept_gaps)
        register = Register(settings.register_path, settings.provider)
        try:
            result = _close_open(
                con,
                register,
                config,
                settings,
                month,
                now,
                workers,
                show_progress,
                draft_only,
                holds,
            )
        finally:
            register.close()
    return replace(
        result,
        problems=tuple(report.lines()),
        held=dict(holds.held),
        unmapped=unmapped,
        accepted_gaps=accept_gaps if report.problems else None,
    )


def _close_open(
    con: duckdb.DuckDBPyConnection,
    register: Register,
    config: ProviderConfig,
    settings: InvoicingSettings,
    month: Window,
    now: datetime,
    workers: int | None,
    show_progress: bool,
    draft_only: bool,
    holds: Holds = NO_HOLDS,
) -> CloseResult:
    """The close's steps on its open DuckDB connection and register."""
    key = month_key(month)
    check_register(settings, register)  # the numbers on disk are the register's own
    count = workers or settings.workers
    with RenderPool(count, label=f"rendering {key}", show_progress=show_progress) as pool:
        if not draft_only and _renders_ahead(con, settings, key, count):
            pool.start()  # the workers load WeasyPrint while this process hashes and issues
        hashes = (
            content_hash(con),
            files_hash([config.pricing_dir, config.tenant_catalog]),
        )
        # a tenant drafted by an earlier close (held, or a draft-only run) and no longer held
        # now may be issued: the month counts as changed for it
        released = register.draft_tenants(key) - set(holds.held)
        changed = register.last_close(key) != hashes or draft_only or bool(released)
        issued = Issued((), (), ())
        if changed:
            issued = _issue(con, config, settings, register, month, hashes, now, draft_only, holds)
        outputs = output_paths(settings, key)
        pending = render_pending(settings, register, key, pool)
        drafts = render_drafts(settings, register, key, pool, now, again=changed)
        # the provider report and FOCUS cover the whole month: not while the gate holds tenants
        complete = not any(why != UNMAPPED for why in holds.held.values())
        missing = not all(p.exists() for p in outputs.values())
        if not draft_only and complete and (changed or missing):
            _write_outputs(con, config, settings, register, month, outputs, pool)
        pool.wait()
        record_rendered(register, pending)
    return CloseResult(
        month=key,
        usage_hash=hashes[0],
        pricing_hash=hashes[1],
        changed=bool(issued.invoices or issued.credit_notes),
        invoices=issued.invoices,
        credit_notes=issued.credit_notes,
        credited=issued.credited,
        rendered=pending.numbers,
        out_dir=settings.out_dir,
        outputs=outputs,
        repaired=pending.repaired,
        drafts=drafts,
    )
