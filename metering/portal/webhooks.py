"""Webhooks: ``invoice.issued``, ``credit_note.issued`` and ``close.blocked``, signed, retried
with backoff, every attempt recorded.

An outbox: :meth:`Webhooks.discover` turns what the read model shows (issued documents, closes
the run history has waiting) into events, each once (its id is its key, e.g.
``invoice.issued:INV-2026-000001``); :meth:`Webhooks.deliver_due` POSTs every due delivery.
Both run every ``interval`` seconds inside ``metering serve`` and once per
``metering webhooks deliver``. Nothing is lost if the portal is down when a close issues:
the next discovery finds the documents.

Each POST carries the JSON event and::

    X-Metering-Event: invoice.issued
    X-Metering-Delivery: <delivery id>
    X-Metering-Timestamp: <unix seconds>
    X-Metering-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares in
constant time, and refuses a timestamp older than a few minutes (replays). A 2xx answer
delivers; anything else (or no answer in 10 s) is retried after 30 s, 1, 2, 4 … minutes,
at most :data:`MAX_ATTEMPTS` times, then the delivery is marked failed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from metering.portal.settings import WebhookTarget
from metering.readmodel import BillingReadModel

MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 30.0
MAX_RETRY_SECONDS = 6 * 3600.0

_SCHEMA = """
create table if not exists webhook_events (
    id text primary key,            -- the event's key: type and what it is about
    type text not null,
    created_at text not null,
    body text not null              -- the JSON delivered, exactly
);
create table if not exists webhook_deliveries (
    id text primary key,
    event_id text not null references webhook_events(id),
    url text not null,
    state text not null check (state in ('pending', 'delivered', 'failed')),
    attempts integer not null default 0,
    next_attempt_at real not null,  -- unix seconds
    unique (event_id, url)
);
create table if not exists webhook_attempts (
    delivery_id text not null references webhook_deliveries(id),
    attempt integer not null,
    at text not null,
    status_code integer,            -- null: no HTTP answer
    error text,                     -- one line, never the secret
    duration_ms integer not null
);
"""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones."""
    return float(min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS))


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    event_id: str
    url: str
    attempt: int
    status_code: int | None
    error: str | None


class Webhooks:
    """The outbox in the portal's state file, and its delivery."""

    def __init__(
        self,
        path: Path,
        targets: tuple[WebhookTarget, ...],
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.path = path
        self.targets = targets
        self.clock = clock
        self.transport = transport
        path.parent.mkdir(parents=True, exist_ok=True)
        con = self._connect()
        try:
            con.executescript(_SCHEMA)
        finally:
            con.close()

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("pragma journal_mode = wal")
        return con

    # -- discovery -----------------------------------------------------------------------------

    def _candidates(self, model: BillingReadModel) -> list[tuple[str, str, dict[str, Any]]]:
        found = []
        for doc in model.documents():
            kind = "invoice.issued" if doc.kind == "invoice" else "credit_note.issued"
            found.append((f"{kind}:{doc.number}", kind, doc.as_json()))
        for blocked in model.blocked_closes():
            key = f"close.blocked:{blocked['month']}:{blocked['run_id']}"
            found.append((key, "close.blocked", blocked))
        return found

    def discover(self, model: BillingReadModel) -> int:
        """Record new events (and a pending delivery per subscribed target); returns how
        many events were new."""
        now = self.clock()
        stamp = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        new = 0
        con = self._connect()
        try:
            con.execute("begin immediate")
            known = {row[0] for row in con.execute("select id from webhook_events")}
            for key, kind, data in self._candidates(model):
                if key in known:
                    continue
                body = {"id": key, "type": kind, "created_at": stamp, "data": data}
                text = json.dumps(body, sort_keys=True, ensure_ascii=False)
                con.execute(
                    "insert into webhook_events values (?, ?, ?, ?)", [key, kind, stamp, text]
                )
                for target in self.targets:
                    if kind in target.events:
                        con.execute(
                            "insert into webhook_deliveries values (?, ?, ?, 'pending', 0, ?)",
                            [uuid.uuid4().hex, key, target.url, now],
                        )
                new += 1
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            con.close()
        return new

    # -- delivery ------------------------------------------------------------------------------

    def deliver_due(self) -> list[Attempt]:
        """POST every pending delivery whose time has come; record each attempt."""
        con = self._connect()
        try:
            due = con.execute(
                "select d.id, d.event_id, d.url, d.attempts, e.type, e.body"
                " from webhook_deliveries d join webhook_events e on e.id = d.event_id"
                " where d.state = 'pending' and d.next_attempt_at <= ?"
                " order by d.next_attempt_at, d.id",
                [self.clock()],
            ).fetchall()
        finally:
            con.close()
        secrets = {t.url: t.secret for t in self.targets}
        done = []
        with httpx.Client(timeout=10, transport=self.transport) as client:
            for delivery_id, event_id, url, attempts, kind, body in due:
                if url not in secrets:
                    continue  # a target no longer configured keeps its record, unsent
                done.append(
                    self._attempt(client, delivery_id, event_id, url, attempts + 1, kind, body,
                                  secrets[url].reveal())
                )  # fmt: skip
        return done

    def _attempt(
        self,
        client: httpx.Client,
        delivery_id: str,
        event_id: str,
        url: str,
        attempt: int,
        kind: str,
        body: str,
        secret: str,
    ) -> Attempt:
        data = body.encode("utf-8")
        stamp = str(int(self.clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "metering-webhooks/1",
            "X-Metering-Event": kind,
            "X-Metering-Delivery": delivery_id,
            "X-Metering-Timestamp": stamp,
            "X-Metering-Signature": signature(secret, stamp, data),
        }
        started = time.monotonic()
        status: int | None = None
        error: str | None = None
        try:
            status = client.post(url, content=data, headers=headers).status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: no answer"
        self._record(delivery_id, attempt, status, error, time.monotonic() - started)
        return Attempt(delivery_id, event_id, url, attempt, status, error)

    def _record(
        self, delivery_id: str, attempt: int, status: int | None, error: str | None, took: float
    ) -> None:
        now = self.clock()
        if error is None:
            state, next_at = "delivered", now
        elif attempt >= MAX_ATTEMPTS:
            state, next_at = "failed", now
        else:
            state, next_at = "pending", now + backoff(attempt)
        con = self._connect()
        try:
            con.execute("begin immediate")
            con.execute(
                "insert into webhook_attempts values (?, ?, ?, ?, ?, ?)",
                [
                    delivery_id,
                    attempt,
                    datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
                    status,
                    error,
                    int(took * 1000),
                ],
            )
            con.execute(
                "update webhook_deliveries set state = ?, attempts = ?, next_attempt_at = ?"
                " where id = ?",
                [state, attempt, next_at, delivery_id],
            )
            con.execute("commit")
        finally:
            con.close()

    def deliveries(self) -> list[dict[str, Any]]:
        """Every delivery with its attempts (newest event first): the record the provider
        pages and ``metering webhooks list`` show."""
        con = self._connect()
        con.row_factory = sqlite3.Row
        try:
            rows = [dict(r) for r in con.execute(
                "select d.*, e.type, e.created_at from webhook_deliveries d"
                " join webhook_events e on e.id = d.event_id order by e.created_at desc, d.id"
            )]  # fmt: skip
            for row in rows:
                row["attempt_log"] = [dict(a) for a in con.execute(
                    "select attempt, at, status_code, error, duration_ms from webhook_attempts"
                    " where delivery_id = ? order by attempt", [row["id"]]
                )]  # fmt: skip
        finally:
            con.close()
        return rows

    def run_once(self, model: BillingReadModel) -> list[Attempt]:
        self.discover(model)
        return self.deliver_due()
