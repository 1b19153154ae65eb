"""Render a month's issued documents from the register, in the close's worker processes.

A render job carries only where the document is (the register file and its id), not its
body: the main process queues every job of a month at once, and 5,000 frozen bodies with
their usage appendices would otherwise sit in its memory (and in the pool's queue) until
rendered. Each worker reads the one body it renders.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from metering.close.register import Document, DocumentKind, DocumentState, Register
from metering.close.settings import InvoicingSettings
from metering.errors import CloseError
from metering.reports.invoice import DocumentRender, render_document
from metering.reports.render import Job, Renderer, RenderPool

log = logging.getLogger("metering.close")


@dataclass(frozen=True)
class RegisteredDocument:
    """One issued document to render (picklable): its register row, number and files."""

    register: str
    doc_id: int
    number: str
    issued_at: str
    pdf_path: str
    csv_path: str
    draft: bool = False
    xml_path: str = ""


def render_registered(renderer: Renderer, job: RegisteredDocument) -> None:
    """Read the document's frozen body from the register and render its CSV and PDF."""
    con = sqlite3.connect(job.register, timeout=60)
    try:
        row = con.execute("select body from documents where id = ?", [job.doc_id]).fetchone()
    finally:
        con.close()
    if row is None:
        raise CloseError(f"the invoice register {job.register} has no document {job.doc_id}")
    render_document(
        renderer,
        DocumentRender(
            job.number,
            job.issued_at,
            str(row[0]),
            job.pdf_path,
            job.csv_path,
            job.draft,
            job.xml_path,
        ),
    )


def documents_dir(settings: InvoicingSettings, folder: str, month: str) -> Path:
    """``<out>/invoices/<YYYY-MM>`` or ``<out>/credit_notes/<YYYY-MM>``."""
    return settings.out_dir / folder / month


def document_paths(settings: InvoicingSettings, doc: Document) -> tuple[Path, Path]:
    """Where a document's PDF and usage CSV live."""
    assert doc.number is not None
    folder = "invoices" if doc.kind is DocumentKind.INVOICE else "credit_notes"
    base = documents_dir(settings, folder, doc.month)
    return base / f"{doc.number}.pdf", base / f"{doc.number}-usage.csv"


def ubl_path(pdf: Path) -> Path:
    """Where a document's Peppol BIS UBL e-invoice lives: beside its PDF."""
    return pdf.with_name(f"{pdf.stem}-ubl.xml")


@dataclass(frozen=True)
class Pending:
    """What :func:`render_pending` queued: the numbers, those whose PDF was damaged, and
    each queued document's PDF by id (to store its hash once rendered), and its UBL file
    when it has one."""

    numbers: tuple[str, ...]
    repaired: tuple[str, ...]
    pdfs: dict[int, Path]
    ubls: dict[int, Path] = field(default_factory=dict)


def pdf_digest(path: Path) -> tuple[str, int]:
    data = path.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def pdf_problem(path: Path, stored: tuple[str, int] | None) -> str | None:
    """Why the issued PDF at ``path`` is not the one rendered (None when it is): its
    SHA-256 differs from the one stored at render time, or, rendered before hashes were
    stored, it is not a whole PDF (truncated: no ``%%EOF`` at its end)."""
    data = path.read_bytes()
    if stored is not None:
        if (hashlib.sha256(data).hexdigest(), len(data)) != stored:
            return f"{len(data)} bytes whose SHA-256 is not the one stored when it was rendered"
        return None
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        return f"{len(data)} bytes, not a whole PDF"
    return None


def render_pending(
    settings: InvoicingSettings, register: Register, month: str, pool: RenderPool
) -> Pending:
    """Queue on ``pool`` every numbered document of ``month`` whose PDF does not exist or is
    damaged (each damaged one is logged), and sweep the temp files a killed run may have
    left. Issued documents render again to the same bytes, so a damaged PDF is replaced by
    the one issued."""
    for folder in ("invoices", "credit_notes"):
        for stale in documents_dir(settings, folder, month).glob(".*.tmp"):
            stale.unlink(missing_ok=True)
    stored = register.pdf_hashes(month)
    einvoices = register.einvoices(month)
    jobs, repaired, pdfs, legacy, ubls = [], [], {}, {}, {}
    for doc in register.documents(month, bodies=False):
        if doc.state is DocumentState.DRAFT or doc.number is None:
            continue
        pdf, csv = document_paths(settings, doc)
        ubl = ubl_path(pdf) if "peppol-ubl" in einvoices.get(doc.id, {}) else None
        if pdf.exists():
            problem = pdf_problem(pdf, stored.get(doc.id))
            if problem is None and ubl is not None:
                problem = _ubl_problem(ubl, einvoices[doc.id]["peppol-ubl"])
            if problem is None:
                if doc.id not in stored:  # rendered by an older release: anchor it now
                    legacy[doc.id] = pdf_digest(pdf)
                continue
            log.warning(
                "issued %s %s is damaged (%s); rendering it again", doc.number, pdf, problem
            )
            repaired.append(doc.number)
        where = RegisteredDocument(
            str(register.path),
            doc.id,
            doc.number,
            str(doc.issued_at),
            str(pdf),
            str(csv),
            xml_path=str(ubl or ""),
        )
        jobs.append(Job(doc.number, render_registered, where))
        pdfs[doc.id] = pdf
        if ubl is not None:
            ubls[doc.id] = ubl
    if legacy:
        register.record_pdfs(legacy)
    pool.submit(jobs)
    return Pending(tuple(job.key for job in jobs), tuple(repaired), pdfs, ubls)


def _ubl_problem(path: Path, stored: tuple[str, int] | None) -> str | None:
    """Why the issued UBL file is missing or not the one written (None when it is)."""
    if not path.exists():
        return f"its e-invoice {path.name} is missing"
    if stored is not None and pdf_digest(path) != stored:
        return f"its e-invoice {path.name} is not the one written when it was issued"
    return None


def record_rendered(register: Register, pending: Pending) -> None:
    """Store the SHA-256 of every PDF and UBL file :func:`render_pending` queued (after the
    pool ran)."""
    done = {i: pdf_digest(p) for i, p in pending.pdfs.items() if p.exists()}
    if done:
        register.record_pdfs(done)
    ubls = {(i, "peppol-ubl"): pdf_digest(p) for i, p in pending.ubls.items() if p.exists()}
    if ubls:
        register.record_einvoices(ubls)


DRAFT_NUMBER = "DRAFT"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def drafts_dir(settings: InvoicingSettings, month: str) -> Path:
    """``<out>/drafts/<YYYY-MM>``: draft PDFs for review, apart from the issued documents."""
    return settings.out_dir / "drafts" / month


def render_drafts(
    settings: InvoicingSettings,
    register: Register,
    month: str,
    pool: RenderPool,
    now: datetime,
    *,
    again: bool,
) -> tuple[Path, ...]:
    """Queue a watermarked DRAFT PDF of every draft of ``month`` (a ``--draft`` run's, or a
    held tenant's) into :func:`drafts_dir`; drafts have no number, so each file is named by
    kind, tenant and register id. ``again`` (the close drafted anew): the folder's earlier
    drafts are removed first; otherwise only missing PDFs are rendered."""
    folder = drafts_dir(settings, month)
    if again and folder.is_dir():
        for old in folder.iterdir():
            if old.is_file():
                old.unlink()
    jobs, paths = [], []
    for doc in register.documents(month, state=DocumentState.DRAFT, bodies=False):
        name = f"DRAFT-{doc.kind.value}-{_UNSAFE.sub('_', doc.tenant_id)}-{doc.id}"
        pdf, csv = folder / f"{name}.pdf", folder / f"{name}-usage.csv"
        paths.append(pdf)
        if pdf.exists():
            continue
        where = RegisteredDocument(
            str(register.path), doc.id, DRAFT_NUMBER, now.isoformat(), str(pdf), str(csv), True
        )
        jobs.append(Job(name, render_registered, where))
    pool.submit(jobs)
    return tuple(paths)
