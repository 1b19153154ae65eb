"""The rating outputs of a month, published as one unit: a manifest written last.

Rating replaces four files (``rated_usage``, ``invoice_lines``, ``invoice_totals``,
``unrated_usage``). Each move is atomic, the four together are not: a process killed between
two moves (or an S3 error on the third upload) leaves lines from one rating and totals from
another. So :func:`publish_unit` first removes the month's manifest, then moves the files,
and writes the manifest last, naming each file with its size, row count and SHA-256. The
close (:func:`verify`) accepts the outputs only when the manifest is there and every file is
the one it names; otherwise it stops with one line: rate the month again.

The manifest lives at ``<lake>/rating/_manifest/month=YYYY-MM.json`` (outside the tables'
``month=*/*.parquet`` globs), the same on a local lake and on S3.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from metering.errors import CloseError
from metering.lake.storage import LakePath, ObjectPath, write_bytes
from metering.window import Window

CHUNK = 1 << 20
TABLES = ("rated_usage", "invoice_lines", "invoice_totals", "unrated_usage")


def manifest_path(lake: LakePath, month: Window) -> LakePath:
    return lake / "rating" / "_manifest" / f"month={month.start:%Y-%m}.json"


def _rel(lake: LakePath, path: LakePath) -> str:
    return str(path).removeprefix(str(lake).rstrip("/") + "/")


def file_digest(path: LakePath) -> tuple[str, int]:
    """``(sha256 hex, bytes)`` of a local file or an object, streamed."""
    digest, size = hashlib.sha256(), 0
    if isinstance(path, ObjectPath):
        path.bucket.check()
        try:
            with path.fs.open_input_stream(path.fs_path) as stream:
                while chunk := stream.read(CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
        except OSError as exc:
            raise path.bucket.error("read", path.name, exc) from None
        return digest.hexdigest(), size
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def entry(lake: LakePath, target: LakePath, content: Path | LakePath, rows: int) -> dict[str, Any]:
    """The manifest entry of the file ``content`` that is (or becomes) ``target``."""
    sha, size = file_digest(content)
    return {"path": _rel(lake, target), "sha256": sha, "bytes": size, "rows": rows}


def publish_unit(
    lake: LakePath,
    month: Window,
    entries: Mapping[str, dict[str, Any]],
    commit: Callable[[], object],
) -> dict[str, Any]:
    """Remove the month's manifest, ``commit()`` (move the files into place), then write the
    manifest naming ``entries``: until it exists the month's outputs are not published."""
    path = manifest_path(lake, month)
    path.unlink(missing_ok=True)
    commit()
    # content only (no time, no run id): re-rating the same usage writes the same bytes
    manifest = {"month": f"{month.start:%Y-%m}", "files": dict(entries)}
    write_bytes(path, json.dumps(manifest, indent=2, sort_keys=True).encode())
    return manifest


def write_manifest(lake: LakePath, month: Window, paths: Mapping[str, LakePath]) -> None:
    """A manifest for outputs already in place (written by hand or by another tool)."""
    import pyarrow.parquet as pq

    def rows(path: LakePath) -> int:
        if isinstance(path, ObjectPath):
            with path.fs.open_input_file(path.fs_path) as handle:
                return int(pq.read_metadata(handle).num_rows)
        return int(pq.read_metadata(path).num_rows)

    entries = {name: entry(lake, p, p, rows(p)) for name, p in paths.items()}
    publish_unit(lake, month, entries, lambda: None)


def verify(lake: LakePath, month: Window) -> dict[str, Any]:
    """The month's manifest, once every file it names is there, of its size and SHA-256;
    :class:`CloseError` (one line, naming the repair) otherwise."""
    key = f"{month.start:%Y-%m}"
    repair = f"run `metering rate --month {key}` to publish them again"
    path = manifest_path(lake, month)
    if not path.is_file():
        lines = lake / "rating" / "invoice_lines" / f"month={key}" / "part.parquet"
        if not lines.is_file():  # never rated
            raise CloseError(
                f"no rating output invoice_lines for {key} (expected {lines}); "
                f"run `metering rate --month {key}` first"
            )
        raise CloseError(
            f"the rating outputs of {key} have no manifest ({_rel(lake, path)}): a rating was "
            f"interrupted while publishing them, or they predate manifests; {repair}"
        )
    try:
        manifest = json.loads(path.read_bytes())
        files = manifest["files"]
        missing = [t for t in TABLES if t not in files]
    except (ValueError, KeyError, TypeError):
        raise CloseError(f"the rating manifest {_rel(lake, path)} is damaged; {repair}") from None
    if missing:
        raise CloseError(f"the rating manifest of {key} lacks {', '.join(missing)}; {repair}")
    for table in TABLES:
        item = files[table]
        target = lake / "rating" / table / f"month={key}" / "part.parquet"
        if item.get("path") != _rel(lake, target):
            raise CloseError(f"the rating manifest of {key} names another {table} file; {repair}")
        if not target.is_file():
            raise CloseError(f"rating output {item['path']} is missing; {repair}")
        sha, size = file_digest(target)
        if (sha, size) != (item["sha256"], item["bytes"]):
            raise CloseError(
                f"the rating outputs of {key} are torn: {item['path']} is not the file the "
                f"last rating published ({size} bytes, sha256 {sha[:12]}…; the manifest "
                f"names {item['bytes']} bytes, {str(item['sha256'])[:12]}…); {repair}"
            )
    return dict(manifest)
