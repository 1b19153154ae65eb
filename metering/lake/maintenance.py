"""Lake upkeep an operator asks for, or that runs when a command starts.

- :func:`set_aside` moves a damaged lake file out of its dataset (to
  ``<lake>/_set_aside/<same path>.<UTC time>``, with a note saying why), so readers see a
  gap instead of failing on it. Nothing is deleted: the file can be examined or put back.
- :func:`sweep_temp_files` removes the temp files an atomic write leaves behind when its
  process is killed between creating the temp file and moving it into place. A temp file
  carries the pid of its writer; one whose writer is still alive is kept (another command
  may be writing it right now); one without a pid (older releases) once it is an hour old.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from metering.errors import LakeError
from metering.lake.storage import LakePath, ObjectPath, write_bytes

SET_ASIDE = "_set_aside"

# ".<name>.<pid>.<random>.tmp" beside its target (storage.temp_file_beside), the warehouse's
# ".<name>.<pid>.<random>.duckdb" (and its .wal) being rebuilt (rating.warehouse), and an S3
# lake's local staging files "metering-output-<pid>.<random>.parquet" (rating.publish)
_WITH_PID = re.compile(
    r"^(?:\..*\.(?P<pid>\d+)\.\w+\.(?:tmp|duckdb|duckdb\.wal)"
    r"|metering-output-(?P<out>\d+)\.\w+\.parquet)$"
)
_LEGACY = re.compile(r"^(?:\..*\.tmp|metering-output-\w+\.parquet)$")
ORPHAN_AGE_SECONDS = 3600


def set_aside(lake: LakePath, rel: str, reason: str = "set aside by an operator") -> LakePath:
    """Move the lake file ``rel`` (relative to the lake root) to ``_set_aside/``; returns
    where it went. Refuses anything that is not a Parquet file inside a dataset."""
    parts = PurePosixPath(rel).parts
    if not parts or rel.startswith("/") or ".." in parts or parts[0] == SET_ASIDE:
        raise LakeError(f"lake set-aside: {rel!r} is not a file path inside the lake")
    if not rel.endswith(".parquet"):
        raise LakeError(f"lake set-aside: {rel!r} is not a Parquet file")
    source = lake
    for part in parts:
        source = source / part
    if not source.is_file():
        raise LakeError(f"lake set-aside: no file {rel} in the lake")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = lake / SET_ASIDE
    for part in parts[:-1]:
        target = target / part
    target = target / f"{parts[-1]}.{stamp}"
    note = {"file": rel, "set_aside_at": stamp, "reason": reason}
    if isinstance(source, ObjectPath):
        write_bytes(target, source.read_bytes())
        source.unlink()
    else:
        assert isinstance(target, Path)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
    write_bytes(target.parent / f"{target.name}.json", json.dumps(note).encode())
    return target


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(path: Path, now: float) -> bool:
    match = _WITH_PID.match(path.name)
    if match is not None:
        pid = int(match.group("pid") or match.group("out"))
        return pid != os.getpid() and not _alive(pid)
    if _LEGACY.match(path.name) is None:
        return False
    try:
        return now - path.stat().st_mtime > ORPHAN_AGE_SECONDS
    except FileNotFoundError:
        return False


def _candidates(root: Path) -> Iterable[Path]:
    for directory, _, files in os.walk(root):
        for name in files:
            if name.startswith(".") and name.endswith((".tmp", ".duckdb", ".duckdb.wal")):
                yield Path(directory) / name


def sweep_temp_files(roots: Iterable[LakePath]) -> list[Path]:
    """Remove stale temp files under the local ``roots`` and metering's own staging files in
    the system temp directory; returns what was removed."""
    now = time.time()
    removed: list[Path] = []
    # an object store keeps no temp objects (an upload is atomic); a root inside another
    # (the lake in the data directory) is walked once
    local = {Path(os.path.realpath(r)) for r in roots if isinstance(r, Path) and r.is_dir()}
    tops = [r for r in local if not any(o != r and o in r.parents for o in local)]
    for root in sorted(tops):
        for path in _candidates(root):
            if _stale(path, now):
                path.unlink(missing_ok=True)
                removed.append(path)
    staging = Path(tempfile.gettempdir())
    for path in staging.glob("metering-output-*"):
        if path.is_file() and _stale(path, now):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
