"""The pipeline locks: an ``flock`` on a file under the data directory, plus a holder row.

``flock`` is the authority: the kernel releases it when the holding process exits, even on
SIGKILL, so a crash never leaves a stale lock. The holder row in the run history (who, pid,
host, since when) only makes the refusal message useful: "held by the scheduler, pid 4242".

Two locks exist: ``scheduler`` (held for the life of a ``metering scheduler`` process, so a
second scheduler is refused) and ``run`` (held while any pipeline runs, so a manual run and
a scheduled one never overlap).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from metering.errors import LockError
from metering.pipelines.history import RunHistory


class PipelineLock:
    """An exclusive, non-blocking, process-wide lock named ``name``."""

    def __init__(self, directory: Path, name: str, history: RunHistory, holder: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{name}.lock"
        self.name = name
        self.history = history
        self.holder = holder
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise :class:`LockError` naming who holds it."""
        if self._fd is not None:
            raise LockError(f"the {self.name} lock is already held by this process")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockError(self._refusal()) from None
        self._fd = fd
        self.history.set_state(
            f"lock.{self.name}",
            json.dumps(
                {
                    "holder": self.holder,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "since": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            ),
        )

    def release(self) -> None:
        if self._fd is None:
            return
        self.history.delete_state(f"lock.{self.name}")
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def _refusal(self) -> str:
        text = self.history.get_state(f"lock.{self.name}")
        what = (
            "another scheduler is running" if self.name == "scheduler" else "a pipeline is running"
        )
        if text is None:
            return f"{what}: the {self.name} lock is held by another process"
        info = json.loads(text)
        return (
            f"{what}: the {self.name} lock is held by {info['holder']} "
            f"(pid {info['pid']} on {info['host']} since {info['since']})"
        )

    def __enter__(self) -> PipelineLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
