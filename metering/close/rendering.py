"""Render a month's issued documents from the register, in the close's worker processes.

A render job carries only where the document is (the register file and its id), not its
body: the main process queues every job of a month at once, and 5,000 frozen bodies with
their usage appendices would otherwise sit in its memory (and in the pool's queue) until
rendered. Each worker reads the one body it renders.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from metering.close.register import Document, DocumentKind, DocumentState, Register
from metering.close.settings import InvoicingSettings
from metering.errors import CloseError
from metering.reports.invoice import DocumentRender, render_document
from metering.reports.render import Job, Renderer, RenderPool


@dataclass(frozen=True)
class RegisteredDocument:
    """One issued document to render (picklable): its register row, number and files."""

    register: str
    doc_id: int
    number: str
    issued_at: str
    pdf_path: str
    csv_path: str


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
        DocumentRender(job.number, job.issued_at, str(row[0]), job.pdf_path, job.csv_path),
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


def render_pending(
    settings: InvoicingSettings, register: Register, month: str, pool: RenderPool
) -> tuple[str, ...]:
    """Queue on ``pool`` every numbered document of ``month`` whose PDF does not exist yet
    (and sweep the temp files a killed run may have left); return their numbers."""
    for folder in ("invoices", "credit_notes"):
        for stale in documents_dir(settings, folder, month).glob(".*.tmp"):
            stale.unlink(missing_ok=True)
    jobs = []
    for doc in register.documents(month, bodies=False):
        if doc.state is DocumentState.DRAFT or doc.number is None:
            continue
        pdf, csv = document_paths(settings, doc)
        if pdf.exists():
            continue
        where = RegisteredDocument(
            str(register.path), doc.id, doc.number, str(doc.issued_at), str(pdf), str(csv)
        )
        jobs.append(Job(doc.number, render_registered, where))
    pool.submit(jobs)
    return tuple(job.key for job in jobs)
