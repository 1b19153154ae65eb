"""The invoice register: a SQLite file holding every document, its number and its state.

Why SQLite: numbering must be gap-free and survive ``kill -9``. Each step that hands out
numbers runs in one ``BEGIN IMMEDIATE`` transaction together with the documents it numbers,
so a crash either commits the numbers with their documents or neither (the journal rolls
back), and two closes at once serialise on the write lock instead of racing.

Document bodies are stored verbatim (canonical JSON): an issued document is re-rendered
from its body, so it never changes after issue.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

import pyarrow as pa

from metering.errors import CloseError


class DocumentState(StrEnum):
    """Where a document is in its life; the only moves are draft → issued → credited."""

    # Planned by a close, no number yet; replaced freely by the next close of the month.
    DRAFT = "draft"
    # Numbered and final: its body never changes again; its PDF may be (re-)rendered.
    ISSUED = "issued"
    # An issued invoice reversed in full by a credit note; kept, body unchanged.
    CREDITED = "credited"


class DocumentKind(StrEnum):
    """An invoice bills a month; a credit note reverses one invoice in full."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


_SCHEMA = """
create table if not exists sequences (
    provider text not null,
    kind text not null,
    last_value integer not null,
    primary key (provider, kind)
);
create table if not exists documents (
    id integer primary key autoincrement,
    provider text not null,
    month text not null,
    tenant_id text not null,
    kind text not null check (kind in ('invoice', 'credit_note')),
    state text not null check (state in ('draft', 'issued', 'credited')),
    seq integer,
    number text unique,
    content_hash text not null,
    currency text not null,
    total_amount text not null,
    credits_id integer references documents(id),
    replaces_id integer references documents(id),
    created_at text not null,
    issued_at text,
    body text not null
);
create unique index if not exists one_live_invoice on documents(provider, month, tenant_id)
    where kind = 'invoice' and state = 'issued';
create unique index if not exists one_credit_note on documents(credits_id)
    where credits_id is not null;
create table if not exists rendered (
    document_id integer primary key references documents(id),
    pdf_sha256 text not null,
    pdf_bytes integer not null
);
create table if not exists einvoices (
    document_id integer not null references documents(id),
    format text not null check (format in ('peppol-ubl', 'factur-x')),
    sha256 text,
    bytes integer,
    primary key (document_id, format)
);
create table if not exists accepted_gaps (
    document_id integer primary key references documents(id),
    reason text not null,
    problems text not null,
    accepted_at text not null
);
create table if not exists closes (
    id integer primary key autoincrement,
    provider text not null,
    month text not null,
    usage_hash text not null,
    pricing_hash text not null,
    closed_at text not null,
    issued integer not null
);
"""


@dataclass(frozen=True)
class Document:
    """One row of the register."""

    id: int
    provider: str
    month: str
    tenant_id: str
    kind: DocumentKind
    state: DocumentState
    seq: int | None
    number: str | None
    content_hash: str
    currency: str
    total_amount: str
    credits_id: int | None
    replaces_id: int | None
    issued_at: str | None
    body_json: str

    @property
    def body(self) -> dict[str, Any]:
        return dict(json.loads(self.body_json))


_COLUMNS = (
    "id, provider, month, tenant_id, kind, state, seq, number, content_hash, currency, "
    "total_amount, credits_id, replaces_id, issued_at, body"
)


def _row(row: tuple[Any, ...]) -> Document:
    values = list(row)
    values[4] = DocumentKind(values[4])
    values[5] = DocumentState(values[5])
    return Document(*values)


class Register:
    """Open the register file (created on first use) for one provider."""

    def __init__(self, path: Path, provider: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.provider = provider
        try:
            self._con = sqlite3.connect(path, isolation_level=None, timeout=60)
            self._con.execute("pragma journal_mode = wal")
            self._con.execute("pragma synchronous = full")
            self._con.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise CloseError(f"cannot open the invoice register {path}: {exc}") from None

    def close(self) -> None:
        self._con.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it commits, or (crash, error) none of it."""
        self._con.execute("begin immediate")
        try:
            yield self._con
        except BaseException:
            self._con.execute("rollback")
            raise
        self._con.execute("commit")

    def documents(
        self,
        month: str | None = None,
        *,
        state: DocumentState | None = None,
        bodies: bool = True,
    ) -> list[Document]:
        """The provider's documents (of ``month``, in ``state``), in number order, drafts last.
        Without ``bodies``, each ``body_json`` is empty (a month's bodies are large: read one
        with :meth:`body` when needed)."""
        columns = _COLUMNS if bodies else _COLUMNS.replace("body", "'' as body")
        sql = f"select {columns} from documents where provider = ?"
        params: list[object] = [self.provider]
        if month is not None:
            sql += " and month = ?"
            params.append(month)
        if state is not None:
            sql += " and state = ?"
            params.append(state.value)
        sql += " order by seq is null, kind, seq, id"
        return [_row(r) for r in self._con.execute(sql, params).fetchall()]

    def live_invoices(self, month: str, *, bodies: bool = True) -> dict[str, Document]:
        """The issued (not credited) invoice of each tenant for ``month`` (``bodies``: as in
        :meth:`documents`)."""
        docs = self.documents(month, state=DocumentState.ISSUED, bodies=bodies)
        return {d.tenant_id: d for d in docs if d.kind is DocumentKind.INVOICE}

    def bodies_json(self, ids: list[int]) -> dict[int, str]:
        """The frozen bodies (canonical JSON) of documents ``ids``, by id."""
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"select id, body from documents where id in ({marks})"
            found.update((int(i), str(b)) for i, b in self._con.execute(sql, chunk).fetchall())
        return found

    def body(self, con: sqlite3.Connection | None, doc_id: int) -> dict[str, Any]:
        """The frozen body of document ``doc_id`` (through ``con``, inside a transaction)."""
        row = (con or self._con).execute("select body from documents where id = ?", [doc_id])
        found = row.fetchone()
        if found is None:
            raise CloseError(f"the invoice register {self.path} has no document {doc_id}")
        return dict(json.loads(found[0]))

    def draft_tenants(self, month: str) -> set[str]:
        """Tenants with drafts of ``month`` left by a close (held, or a draft-only run)."""
        rows = self._con.execute(
            "select distinct tenant_id from documents where provider = ? and month = ? "
            "and state = ?",
            [self.provider, month, DocumentState.DRAFT.value],
        ).fetchall()
        return {str(r[0]) for r in rows}

    def headlines(self, ids: list[int]) -> dict[int, tuple[str, str, str]]:
        """Tenant name, subtotal and tax of documents ``ids`` from their frozen bodies, by id
        (read inside SQLite: a body also holds every usage row)."""
        found: dict[int, tuple[str, str, str]] = {}
        for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = (
                "select id, json_extract(body, '$.tenant_name'), "
                "json_extract(body, '$.totals.subtotal_amount'), "
                f"json_extract(body, '$.totals.tax_amount') from documents where id in ({marks})"
            )
            for i, name, subtotal, tax in self._con.execute(sql, chunk).fetchall():
                found[int(i)] = (str(name), str(subtotal), str(tax))
        return found

    def accepted_gaps(self, ids: list[int]) -> dict[int, str]:
        """The ``--accept-gaps`` reason each of documents ``ids`` was issued with, by id."""
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):  # SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"select document_id, reason from accepted_gaps where document_id in ({marks})"
            found.update((int(i), str(r)) for i, r in self._con.execute(sql, chunk).fetchall())
        return found

    def last_close(self, month: str) -> tuple[str, str] | None:
        row = self._con.execute(
            "select usage_hash, pricing_hash from closes where provider = ? and month = ? "
            "order by id desc limit 1",
            [self.provider, month],
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def next_seq(self, con: sqlite3.Connection, kind: DocumentKind) -> int:
        """Take the next value of ``kind``'s sequence; only inside :meth:`transaction`."""
        row = con.execute(
            "select last_value from sequences where provider = ? and kind = ?",
            [self.provider, kind.value],
        ).fetchone()
        value = (int(row[0]) if row else 0) + 1
        con.execute(
            "insert into sequences (provider, kind, last_value) values (?, ?, ?) "
            "on conflict (provider, kind) do update set last_value = excluded.last_value",
            [self.provider, kind.value, value],
        )
        return value

    def numbers(self) -> dict[str, str]:
        """Every document number in the register (any provider) → the provider that issued it."""
        rows = self._con.execute("select number, provider from documents where number is not null")
        return {str(n): str(p) for n, p in rows.fetchall()}

    def rename_provider(self, old: str, new: str) -> int:
        """Move every document, sequence and close of provider ``old`` to ``new`` (one
        transaction); returns the documents moved. Refused when ``new`` already has any."""
        with self.transaction() as con:
            taken = con.execute("select count(*) from documents where provider = ?", [new])
            if int(taken.fetchone()[0]):
                raise CloseError(f"the invoice register already has documents of provider {new!r}")
            moved = con.execute("update documents set provider = ? where provider = ?", [new, old])
            con.execute("update sequences set provider = ? where provider = ?", [new, old])
            con.execute("update closes set provider = ? where provider = ?", [new, old])
            count = int(moved.rowcount)
        if not count:
            raise CloseError(f"the invoice register has no documents of provider {old!r}")
        return count

    def pdf_hashes(self, month: str) -> dict[int, tuple[str, int]]:
        """The stored SHA-256 and size of each rendered PDF of ``month``, by document id."""
        rows = self._con.execute(
            "select r.document_id, r.pdf_sha256, r.pdf_bytes from rendered r "
            "join documents d on d.id = r.document_id where d.provider = ? and d.month = ?",
            [self.provider, month],
        )
        return {int(i): (str(h), int(b)) for i, h, b in rows.fetchall()}

    def record_pdfs(self, hashes: dict[int, tuple[str, int]]) -> None:
        """Store the SHA-256 and size of freshly rendered PDFs."""
        with self.transaction() as con:
            con.executemany(
                "insert into rendered (document_id, pdf_sha256, pdf_bytes) values (?, ?, ?) "
                "on conflict (document_id) do update set pdf_sha256 = excluded.pdf_sha256, "
                "pdf_bytes = excluded.pdf_bytes",
                [(i, h, b) for i, (h, b) in hashes.items()],
            )

    def einvoices(self, month: str | None) -> dict[int, dict[str, tuple[str, int] | None]]:
        """Each document's e-invoice formats (recorded when it was drafted from its body),
        with the SHA-256 and size of the UBL file once rendered (None before); of one month
        or (None) of all."""
        rows = self._con.execute(
            "select e.document_id, e.format, e.sha256, e.bytes from einvoices e "
            "join documents d on d.id = e.document_id where d.provider = ? "
            "and (? is null or d.month = ?)",
            [self.provider, month, month],
        )
        result: dict[int, dict[str, tuple[str, int] | None]] = {}
        for doc_id, fmt, sha, size in rows.fetchall():
            result.setdefault(int(doc_id), {})[str(fmt)] = (str(sha), int(size)) if sha else None
        return result

    def record_einvoices(self, hashes: dict[tuple[int, str], tuple[str, int]]) -> None:
        """Store the SHA-256 and size of freshly written e-invoice files."""
        with self.transaction() as con:
            con.executemany(
                "update einvoices set sha256 = ?, bytes = ? where document_id = ? and format = ?",
                [(h, b, i, f) for (i, f), (h, b) in hashes.items()],
            )

    def record_close(
        self,
        con: sqlite3.Connection,
        month: str,
        hashes: tuple[str, str],
        issued: int,
        at: datetime,
    ) -> None:
        con.execute(
            "insert into closes (provider, month, usage_hash, pricing_hash, closed_at, issued) "
            "values (?, ?, ?, ?, ?, ?)",
            [self.provider, month, hashes[0], hashes[1], at.isoformat(), issued],
        )


DOCUMENTS_SCHEMA = pa.schema(
    [
        ("month", pa.string()),
        ("number", pa.string()),
        ("kind", pa.string()),
        ("state", pa.string()),
        ("tenant_id", pa.string()),
        ("tenant_name", pa.string()),
        ("currency", pa.string()),
        ("subtotal_amount", pa.decimal128(18, 2)),
        ("tax_amount", pa.decimal128(18, 2)),
        ("total_amount", pa.decimal128(18, 2)),
        ("issued_at", pa.timestamp("us", tz="UTC")),
        ("credits_number", pa.string()),
        ("replaces_number", pa.string()),
        ("content_hash", pa.string()),
        ("accepted_gaps", pa.string()),
        ("einvoice", pa.string()),
    ]
)


def documents_table(
    docs: list[Document],
    accepted: dict[int, str] | None = None,
    headlines: dict[int, tuple[str, str, str]] | None = None,
    einvoices: dict[int, tuple[str, ...]] | None = None,
) -> pa.Table:
    """The register's issued/credited documents as a table (for the lake and the warehouse);
    ``accepted``: the ``--accept-gaps`` reason of documents issued despite the gate;
    ``headlines``: tenant name, subtotal and tax of each (:meth:`Register.headlines`);
    ``einvoices``: the e-invoice formats issued with each (:meth:`Register.einvoices`)."""
    numbers = {d.id: d.number for d in docs}
    accepted = accepted or {}
    headlines = headlines or {}
    rows = []
    for d in docs:
        if d.state is DocumentState.DRAFT:
            continue
        name, subtotal, tax = headlines.get(d.id, (None, None, None))
        rows.append(
            {
                "month": d.month,
                "number": d.number,
                "kind": d.kind.value,
                "state": d.state.value,
                "tenant_id": d.tenant_id,
                "tenant_name": name,
                "currency": d.currency,
                "subtotal_amount": None if subtotal is None else Decimal(subtotal),
                "tax_amount": None if tax is None else Decimal(tax),
                "total_amount": Decimal(d.total_amount),
                "issued_at": datetime.fromisoformat(d.issued_at) if d.issued_at else None,
                "credits_number": numbers.get(d.credits_id) if d.credits_id else None,
                "replaces_number": numbers.get(d.replaces_id) if d.replaces_id else None,
                "content_hash": d.content_hash,
                "accepted_gaps": accepted.get(d.id),
                "einvoice": ",".join(sorted((einvoices or {}).get(d.id, ()))) or None,
            }
        )
    return pa.Table.from_pylist(rows, schema=DOCUMENTS_SCHEMA)
