"""Plan a month's documents against the register and issue them, in one transaction.

For each tenant: no live invoice → a new invoice; a live invoice with the same content
hash → nothing; a different hash → a credit note for the old invoice (which becomes
``credited``) and a corrected invoice that names the one it replaces; a live invoice whose
tenant has no charges any more → a credit note only. Documents are drafted, then numbered
in tenant order, in the same ``BEGIN IMMEDIATE`` transaction, so numbers are gap-free and
a crash (even ``kill -9``) leaves the register as it was before the close or after it.

A *held* tenant (the completeness gate touched it, or its org is unmapped) gets a draft of
its new body and nothing else: no number, no credit note for a live invoice; the next close
drafts it again. A tenant issued despite the gate (``--accept-gaps``) has the reason and the
problems recorded with its documents (table ``accepted_gaps``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from metering.close.documents import (
    Body,
    content_hash,
    credit_note_body,
    legacy_content_hash,
    same_billing,
)
from metering.close.register import Document, DocumentKind, DocumentState, Register
from metering.close.settings import InvoicingSettings
from metering.einvoice.model import check_body, formats
from metering.errors import CloseError


@dataclass(frozen=True)
class Issued:
    """What one close issued: numbers of new invoices, credit notes, and credited invoices."""

    invoices: tuple[str, ...]
    credit_notes: tuple[str, ...]
    credited: tuple[str, ...]


@dataclass(frozen=True)
class Holds:
    """Tenants the close must not number (tenant → why), and tenants numbered despite the
    gate with the accepted reason and problems."""

    held: Mapping[str, str]
    accepted: Mapping[str, tuple[str, ...]]
    reason: str | None = None


NO_HOLDS = Holds({}, {})


def _insert_draft(
    con: sqlite3.Connection,
    register: Register,
    month: str,
    body: Body,
    *,
    at: datetime,
    credits: Document | None = None,
    replaces: Document | None = None,
) -> int:
    kind = DocumentKind(body["kind"])
    check_body(body, at.isoformat())  # its e-invoice's arithmetic, before any number
    cur = con.execute(
        "insert into documents (provider, month, tenant_id, kind, state, content_hash, currency, "
        "total_amount, credits_id, replaces_id, created_at, body) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            register.provider,
            month,
            body["tenant_id"],
            kind.value,
            DocumentState.DRAFT.value,
            content_hash(body),
            body["currency"],
            body["totals"]["total_amount"],
            credits.id if credits else None,
            replaces.id if replaces else None,
            at.isoformat(),
            json.dumps(body, sort_keys=True),
        ],
    )
    assert cur.lastrowid is not None
    con.executemany(  # the e-invoices it is issued with, listed with it (metering.einvoice)
        "insert into einvoices (document_id, format) values (?, ?)",
        [(cur.lastrowid, fmt) for fmt in formats(body)],
    )
    return cur.lastrowid


def _pairs(
    bodies: Iterable[tuple[str, Body]], live: Mapping[str, Document]
) -> Iterator[tuple[str, Document | None, Body | None]]:
    """Every tenant with a body or a live invoice, in tenant order: a merge of the bodies
    (which come in tenant order, a batch at a time) with the live invoices' tenants."""
    waiting = sorted(live)
    at = 0
    previous: str | None = None
    for tenant, body in bodies:
        if previous is not None and tenant <= previous:
            raise ValueError(f"invoice bodies out of tenant order: {tenant!r} after {previous!r}")
        previous = tenant
        while at < len(waiting) and waiting[at] < tenant:
            yield waiting[at], live[waiting[at]], None
            at += 1
        if at < len(waiting) and waiting[at] == tenant:
            at += 1
        yield tenant, live.get(tenant), body
    for tenant in waiting[at:]:
        yield tenant, live[tenant], None


def _draft(
    con: sqlite3.Connection,
    register: Register,
    month: str,
    bodies: Iterable[tuple[str, Body]],
    live: Mapping[str, Document],
    at: datetime,
    held: Mapping[str, str],
) -> None:
    """Insert the drafts this close needs (credit notes before the invoices they make room
    for). ``live`` holds the live invoices without their bodies: a credited one's body is
    read when its credit note is drafted. A held tenant gets only a draft of its body."""
    for tenant, old, body in _pairs(bodies, live):
        if (
            old is not None
            and body is not None
            and old.content_hash
            in (
                content_hash(body),
                legacy_content_hash(body),
            )
        ):
            continue
        if old is not None and body is not None and same_billing(register.body(con, old.id), body):
            continue
        if tenant in held:
            if body is not None:
                _insert_draft(con, register, month, {**body, "held": held[tenant]}, at=at)
            continue
        if old is not None:
            reason = "corrected usage or prices" if body is not None else "no charges remain"
            assert old.number is not None
            note = credit_note_body(register.body(con, old.id), old.number, reason)
            _insert_draft(con, register, month, note, at=at, credits=old)
        if body is not None:
            if old is not None:  # printed on the corrected invoice; not part of its hash
                body = {**body, "replaces_number": old.number}
            _insert_draft(con, register, month, body, at=at, replaces=old)


def _number_drafts(
    con: sqlite3.Connection,
    register: Register,
    settings: InvoicingSettings,
    month: str,
    at: datetime,
    holds: Holds,
) -> Issued:
    year, mon = (int(p) for p in month.split("-"))
    drafts = con.execute(
        "select id, kind, credits_id, tenant_id from documents "
        "where provider = ? and month = ? and state = ? order by tenant_id, kind, id",
        [register.provider, month, DocumentState.DRAFT.value],
    ).fetchall()
    invoices: list[str] = []
    notes: list[str] = []
    credited: list[str] = []
    for doc_id, kind_text, credits_id, tenant in drafts:
        if tenant in holds.held:
            continue  # stays a draft, without a number
        kind = DocumentKind(kind_text)
        if credits_id is not None:  # the credited invoice leaves 'issued' before its successor
            con.execute(
                "update documents set state = ? where id = ? and state = ?",
                [DocumentState.CREDITED.value, credits_id, DocumentState.ISSUED.value],
            )
            credited.append(
                str(
                    con.execute(
                        "select number from documents where id = ?", [credits_id]
                    ).fetchone()[0]
                )
            )
        seq = register.next_seq(con, kind)
        number = settings.number(kind.value, seq, year, mon)
        con.execute(
            "update documents set state = ?, seq = ?, number = ?, issued_at = ? where id = ?",
            [DocumentState.ISSUED.value, seq, number, at.isoformat(), doc_id],
        )
        if tenant in holds.accepted:
            con.execute(
                "insert into accepted_gaps (document_id, reason, problems, accepted_at) "
                "values (?, ?, ?, ?)",
                [
                    doc_id,
                    holds.reason or "",
                    json.dumps(list(holds.accepted[tenant])),
                    at.isoformat(),
                ],
            )
        (notes if kind is DocumentKind.CREDIT_NOTE else invoices).append(number)
    return Issued(tuple(invoices), tuple(notes), tuple(credited))


def issue_month(
    register: Register,
    settings: InvoicingSettings,
    month: str,
    bodies: Iterable[tuple[str, Body]],
    hashes: tuple[str, str],
    at: datetime,
    *,
    draft_only: bool = False,
    holds: Holds = NO_HOLDS,
) -> Issued:
    """Draft and (unless ``draft_only``) issue the month's documents atomically. ``bodies``
    is ``(tenant id, body)`` in tenant order (a mapping's items, or a stream of batches):
    it is consumed inside the transaction, so a failure while building leaves no trace.
    Tenants in ``holds.held`` stay drafts (see the module docstring)."""
    try:
        return _issue_in(register, settings, month, bodies, hashes, at, draft_only, holds)
    except sqlite3.IntegrityError as exc:  # a number the register already holds
        raise CloseError(
            f"the invoice register {register.path} refused to issue {month}: {exc} (a number "
            "it already holds under another provider name? see `metering register "
            "rename-provider`, docs/operations.md); nothing was issued"
        ) from None


def _issue_in(
    register: Register,
    settings: InvoicingSettings,
    month: str,
    bodies: Iterable[tuple[str, Body]],
    hashes: tuple[str, str],
    at: datetime,
    draft_only: bool,
    holds: Holds,
) -> Issued:
    with register.transaction() as con:
        drafts = [register.provider, month, DocumentState.DRAFT.value]
        con.execute(
            "delete from einvoices where document_id in (select id from documents "
            "where provider = ? and month = ? and state = ?)",
            drafts,
        )
        con.execute("delete from documents where provider = ? and month = ? and state = ?", drafts)
        live = register.live_invoices(month, bodies=False)
        _draft(con, register, month, bodies, live, at, {} if draft_only else holds.held)
        if draft_only:
            return Issued((), (), ())
        issued = _number_drafts(con, register, settings, month, at, holds)
        register.record_close(
            con, month, hashes, len(issued.invoices) + len(issued.credit_notes), at
        )
    return issued
