"""Provider-issued API keys, stored hashed, each scoped to the provider or one tenant.

A key reads ``mk_<id>_<secret>``: ``id`` finds the row, the SHA-256 of the whole key is what
the row holds (the key has 256 random bits, so a slow password hash buys nothing). The key is
shown once, when it is created (``metering api-key create`` or the provider's API keys
page); it cannot be read back. Who created and who revoked each key is recorded.
The table lives in the portal's SQLite file (``<data_dir>/portal.sqlite``), next to the
webhook deliveries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from metering.portal.signin import Principal

_SCHEMA = """
create table if not exists api_keys (
    id text primary key,
    key_hash text not null,
    scope text not null,          -- 'provider' or 'tenant'
    tenant_id text,               -- the one tenant of a tenant key
    label text not null,
    created_at text not null,
    revoked_at text,
    created_by text not null default '',  -- the staff member (user@org) or 'cli'
    revoked_by text
);
"""
_ADDED = {"created_by": "text not null default ''", "revoked_by": "text"}  # after the first release


@dataclass(frozen=True)
class ApiKey:
    id: str
    scope: str
    tenant_id: str | None
    label: str
    created_at: str
    revoked_at: str | None
    created_by: str = ""
    revoked_by: str | None = None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeys:
    """The key table of the portal's state file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)
            have = {row[1] for row in con.execute("pragma table_info(api_keys)")}
            for column, kind in _ADDED.items():
                if column not in have:
                    con.execute(f"alter table api_keys add column {column} {kind}")

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("pragma journal_mode = wal")
        return con

    def create(
        self, *, tenant_id: str | None, label: str = "", by: str = "cli"
    ) -> tuple[str, ApiKey]:
        """A new key for the provider (``tenant_id`` None) or one tenant, made by ``by``;
        returns the key text (shown once) and its record."""
        key_id = secrets.token_hex(6)
        key = f"mk_{key_id}_{secrets.token_urlsafe(32)}"
        scope = "provider" if tenant_id is None else "tenant"
        now = datetime.now(UTC).isoformat(timespec="seconds")
        con = self._connect()
        try:
            con.execute(
                "insert into api_keys (id, key_hash, scope, tenant_id, label, created_at,"
                " created_by) values (?, ?, ?, ?, ?, ?, ?)",
                [key_id, _hash(key), scope, tenant_id, label, now, by],
            )
        finally:
            con.close()
        return key, ApiKey(key_id, scope, tenant_id, label, now, None, by)

    def revoke(self, key_id: str, by: str = "cli") -> bool:
        """Revoke a live key (False: no live key of that id)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        con = self._connect()
        try:
            cur = con.execute(
                "update api_keys set revoked_at = ?, revoked_by = ?"
                " where id = ? and revoked_at is null",
                [now, by, key_id],
            )
            return cur.rowcount == 1
        finally:
            con.close()

    def list(self) -> list[ApiKey]:
        con = self._connect()
        try:
            rows = con.execute(
                "select id, scope, tenant_id, label, created_at, revoked_at, created_by,"
                " revoked_by from api_keys order by created_at, rowid"
            ).fetchall()
        finally:
            con.close()
        return [ApiKey(*row) for row in rows]

    def verify(self, key: str) -> Principal | None:
        """The principal of a live key, else None (unknown, malformed or revoked)."""
        parts = key.split("_", 2)
        if len(parts) != 3 or parts[0] != "mk":
            return None
        con = self._connect()
        try:
            row = con.execute(
                "select key_hash, scope, tenant_id from api_keys"
                " where id = ? and revoked_at is null",
                [parts[1]],
            ).fetchone()
        finally:
            con.close()
        if row is None or not hmac.compare_digest(row[0], _hash(key)):
            return None
        if row[1] == "provider":
            return Principal("provider", f"api-key:{parts[1]}")
        return Principal("tenant", f"api-key:{parts[1]}", tenant_id=row[2])
