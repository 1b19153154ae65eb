"""The durable run history: one SQLite file under the data directory.

Every pipeline run (scheduled, caught up, manual or replayed) is a row of ``runs`` with its
steps in ``steps``. The history is what catch-up reads to decide which nights are missing,
and what ``metering pipeline-runs`` shows. Each call opens its own short connection, so the
scheduler's threads and a manual run in another process can share the file (WAL mode).

Run states::

    running      a process is executing it (or died doing so: see ``interrupted``)
    succeeded    every step finished
    failed       a step raised; ``error_kind`` says transient (retried) or terminal (a person)
    interrupted  the process stopped or died mid-run; catch-up runs the period again
    waiting      a close that is due but blocked (``error`` says which night and why)
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from metering.window import Window

_SCHEMA = """
create table if not exists runs (
    run_id text primary key,
    pipeline text not null,
    period text not null,
    window_start text not null,
    window_end text not null,
    trigger text not null,
    status text not null,
    step text,
    rows integer not null default 0,
    error text,
    error_kind text,
    started_at text not null,
    finished_at text,
    pid integer,
    host text
);
create index if not exists runs_by_period on runs (pipeline, period, started_at);
create table if not exists steps (
    run_id text not null references runs (run_id),
    seq integer not null,
    step text not null,
    status text not null,
    rows integer not null default 0,
    error text,
    started_at text not null,
    finished_at text,
    primary key (run_id, seq)
);
create table if not exists state (key text primary key, value text not null);
"""


def _now_text(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class RunRecord:
    """One row of the run history."""

    run_id: str
    pipeline: str
    period: str
    window_start: str
    window_end: str
    trigger: str
    status: str
    step: str | None
    rows: int
    error: str | None
    error_kind: str | None
    started_at: str
    finished_at: str | None
    pid: int | None
    host: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        started = datetime.fromisoformat(self.started_at)
        return (datetime.fromisoformat(self.finished_at) - started).total_seconds()


class RunHistory:
    """Read and write the run history file."""

    def __init__(self, path: Path, *, now: Callable[[], datetime] | None = None) -> None:
        self.path = path
        self._now = now or (lambda: datetime.now(UTC))
        path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by this process's threads (the scheduler's worker, the main
        # thread), serialised by a lock; other processes share the file through WAL.
        self._guard = threading.RLock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("pragma journal_mode=wal")
        # NORMAL in WAL mode never corrupts; a power cut may lose the last records, which at
        # worst makes catch-up run an (idempotent) period again.
        self._db.execute("pragma synchronous=normal")
        self._db.executescript(_SCHEMA)
        weakref.finalize(self, self._db.close)  # closed when the history is dropped

    def close(self) -> None:
        with self._guard:
            self._db.close()

    def _stamp(self) -> str:
        return _now_text(self._now())

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._guard:
            yield self._db

    # --- writing ----------------------------------------------------------------------------

    def start_run(self, pipeline: str, period: str, window: Window, trigger: str) -> str:
        """Record a new running run; a ``waiting`` row of the same period becomes this run."""
        run_id = uuid.uuid4().hex[:12]
        with self._connect() as db:
            db.execute("begin immediate")
            db.execute(
                "delete from runs where pipeline = ? and period = ? and status = 'waiting'",
                (pipeline, period),
            )
            db.execute(
                "insert into runs (run_id, pipeline, period, window_start, window_end, trigger,"
                " status, started_at, pid, host) values (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
                (
                    run_id,
                    pipeline,
                    period,
                    _now_text(window.start),
                    _now_text(window.end),
                    trigger,
                    self._stamp(),
                    os.getpid(),
                    socket.gethostname(),
                ),
            )
            db.execute("commit")
        return run_id

    def start_step(self, run_id: str, seq: int, step: str) -> None:
        with self._connect() as db:
            db.execute(
                "insert or replace into steps (run_id, seq, step, status, started_at)"
                " values (?, ?, ?, 'running', ?)",
                (run_id, seq, step, self._stamp()),
            )
            db.execute("update runs set step = ? where run_id = ?", (step, run_id))

    def finish_step(
        self, run_id: str, seq: int, status: str, rows: int = 0, error: str | None = None
    ) -> None:
        with self._connect() as db:
            db.execute(
                "update steps set status = ?, rows = ?, error = ?, finished_at = ?"
                " where run_id = ? and seq = ?",
                (status, rows, error, self._stamp(), run_id, seq),
            )
            db.execute("update runs set rows = rows + ? where run_id = ?", (rows, run_id))

    def finish_run(
        self,
        run_id: str,
        status: str,
        *,
        error: str | None = None,
        error_kind: str | None = None,
    ) -> None:
        with self._connect() as db:
            db.execute(
                "update runs set status = ?, error = ?, error_kind = ?, finished_at = ?"
                " where run_id = ?",
                (status, error, error_kind, self._stamp(), run_id),
            )

    def record_waiting(self, pipeline: str, period: str, window: Window, reason: str) -> bool:
        """Record (or refresh) that ``period`` is due but blocked; True if the reason is new."""
        with self._connect() as db:
            db.execute("begin immediate")
            row = db.execute(
                "select error from runs where pipeline = ? and period = ? and status = 'waiting'",
                (pipeline, period),
            ).fetchone()
            if row is not None and row["error"] == reason:
                db.execute("commit")
                return False
            db.execute(
                "delete from runs where pipeline = ? and period = ? and status = 'waiting'",
                (pipeline, period),
            )
            db.execute(
                "insert into runs (run_id, pipeline, period, window_start, window_end, trigger,"
                " status, error, started_at) values (?, ?, ?, ?, ?, 'schedule', 'waiting', ?, ?)",
                (
                    uuid.uuid4().hex[:12],
                    pipeline,
                    period,
                    _now_text(window.start),
                    _now_text(window.end),
                    reason,
                    self._stamp(),
                ),
            )
            db.execute("commit")
        return True

    def mark_abandoned(self) -> list[RunRecord]:
        """Turn every ``running`` row into ``interrupted`` (call only while holding the lock).

        Whoever holds the run lock is the only process that may be running a pipeline, so a
        ``running`` row seen then belongs to a process that died or was killed mid-run.
        """
        with self._connect() as db:
            db.execute("begin immediate")
            rows = [_record(r) for r in db.execute("select * from runs where status = 'running'")]
            for run in rows:
                db.execute(
                    "update runs set status = 'interrupted', error_kind = 'interrupted',"
                    " error = ?, finished_at = ? where run_id = ?",
                    (
                        f"process {run.pid} on {run.host} stopped during step {run.step}",
                        self._stamp(),
                        run.run_id,
                    ),
                )
                db.execute(
                    "update steps set status = 'interrupted', finished_at = ?"
                    " where run_id = ? and status = 'running'",
                    (self._stamp(), run.run_id),
                )
            db.execute("commit")
        return rows

    def get_state(self, key: str) -> str | None:
        with self._connect() as db:
            row = db.execute("select value from state where key = ?", (key,)).fetchone()
        return None if row is None else str(row["value"])

    def set_state_once(self, key: str, value: str) -> str:
        """Store ``value`` under ``key`` unless one is there; return the stored value."""
        with self._connect() as db:
            db.execute("insert or ignore into state (key, value) values (?, ?)", (key, value))
        stored = self.get_state(key)
        assert stored is not None
        return stored

    def set_state(self, key: str, value: str) -> None:
        with self._connect() as db:
            db.execute("insert or replace into state (key, value) values (?, ?)", (key, value))

    def delete_state(self, key: str) -> None:
        with self._connect() as db:
            db.execute("delete from state where key = ?", (key,))

    # --- reading ----------------------------------------------------------------------------

    def runs(
        self,
        pipeline: str | None = None,
        *,
        period: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[RunRecord]:
        """Runs, newest first, filtered by pipeline, period and status."""
        clauses, params = [], []
        for column, value in (("pipeline", pipeline), ("period", period), ("status", status)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        where = f"where {' and '.join(clauses)}" if clauses else ""
        sql = f"select * from runs {where} order by started_at desc, rowid desc"
        if limit is not None:
            sql += f" limit {int(limit)}"
        with self._connect() as db:
            return [_record(r) for r in db.execute(sql, params)]

    def latest_by_period(self, pipeline: str) -> dict[str, list[RunRecord]]:
        """Every run of ``pipeline`` grouped by period, newest first within each."""
        grouped: dict[str, list[RunRecord]] = {}
        for run in self.runs(pipeline):
            grouped.setdefault(run.period, []).append(run)
        return grouped

    def steps(self, run_id: str) -> list[sqlite3.Row]:
        with self._connect() as db:
            return list(db.execute("select * from steps where run_id = ? order by seq", (run_id,)))


def _record(row: sqlite3.Row) -> RunRecord:
    return RunRecord(**{key: row[key] for key in row.keys()})  # noqa: SIM118
