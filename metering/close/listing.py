"""Reading the invoice register without opening it for writing: what the read model
(metering.readmodel) lists the portal's documents from. The SQL stays beside the register's
schema (metering.close.register); this module only reads."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from metering.close.register import _COLUMNS, Document, _row
from metering.errors import CloseError


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection to an existing register: it never creates, migrates or locks
    the file for writing. ``pragma data_version`` on it changes whenever another connection
    (any process) has committed, which is how the read model knows its listing is stale."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise CloseError(f"cannot open the invoice register {path}: {exc}") from None


def data_version(con: sqlite3.Connection) -> int:
    return int(con.execute("pragma data_version").fetchone()[0])


@dataclass(frozen=True)
class Listed:
    """A numbered document's register row without its body, and its e-invoice formats."""

    id: int
    month: str
    tenant_id: str
    kind: str
    state: str
    number: str
    currency: str
    total_amount: str
    issued_at: str
    credits_id: int | None
    einvoice: tuple[str, ...]


def listing(con: sqlite3.Connection, provider: str) -> tuple[list[Listed], set[str]]:
    """Every numbered document of ``provider`` (no bodies), and every month with any document
    (drafts too); one read transaction, so the two agree."""
    sql = (
        "select d.id, d.month, d.tenant_id, d.kind, d.state, d.number, d.currency, "
        "d.total_amount, coalesce(d.issued_at, ''), d.credits_id, "
        "(select group_concat(e.format, ' ') from einvoices e where e.document_id = d.id) "
        "from documents d where d.provider = ? and d.number is not null"
    )
    con.execute("begin")
    try:
        rows = con.execute(sql, [provider]).fetchall()
        months = con.execute("select distinct month from documents where provider = ?", [provider])
        found = {str(m) for (m,) in months.fetchall()}
    finally:
        con.execute("commit")
    docs = [
        Listed(
            id=int(r[0]),
            month=str(r[1]),
            tenant_id=str(r[2]),
            kind=str(r[3]),
            state=str(r[4]),
            number=str(r[5]),
            currency=str(r[6]),
            total_amount=str(r[7]),
            issued_at=str(r[8]),
            credits_id=None if r[9] is None else int(r[9]),
            einvoice=tuple(sorted(str(r[10] or "").split())),
        )
        for r in rows
    ]
    return docs, found


def read_document(
    con: sqlite3.Connection, provider: str, doc_id: int, *, bodies: bool = True
) -> Document | None:
    """One document of ``provider`` by id (``bodies``: as in :meth:`Register.documents`)."""
    columns = _COLUMNS if bodies else _COLUMNS.replace("body", "'' as body")
    sql = f"select {columns} from documents where provider = ? and id = ?"
    row = con.execute(sql, [provider, doc_id]).fetchone()
    return _row(row) if row else None
