"""Lake files checked against their schema before anything reads them.

A lake file is only read once its Parquet footer is readable and its columns are those of
its dataset: every required column present with its declared type, no optional column of
another type, no column the dataset does not have. Otherwise the read stops with one line
naming the file and the command that repairs it, instead of DuckDB's multi-line error (a
truncated, empty or random file) or, worse, a silent wrong result (a file of another
schema read by name would give nulls: "no VMs" for that hour).

Only the footer is read (a few KB per file, in parallel on S3); the rows stay where they are.

What repairs a file depends on what it is (:func:`repair_hint`): a derived file is written
again by the step that made it (``metering run nightly`` for ``usage_intervals``,
``metering rate`` for the rating outputs); a collected sample cannot be collected again (the
sources report only their present state), so it is set aside with ``metering lake
set-aside``, which turns the hour into a gap the run log explains; Cloudian's hourly series
is then read again by that day's nightly backfill.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa

from metering.errors import LakeError
from metering.lake.storage import LakePath, ObjectPath

# datasets the nightly backfill re-reads from the source once a file is set aside
REFETCHED = frozenset({"cloudian_usage"})


def relative(lake: LakePath | None, path: LakePath) -> str:
    """``path`` relative to the lake root (the whole path when it is not under it)."""
    text, root = str(path), str(lake) if lake is not None else ""
    if root and text.startswith(root.rstrip("/") + "/"):
        return text[len(root.rstrip("/")) + 1 :]
    return text


def _partition(rel: str, key: str) -> str | None:
    for part in rel.split("/"):
        if part.startswith(f"{key}="):
            return part.split("=", 1)[1]
    return None


def repair_hint(lake: LakePath | None, path: LakePath) -> str:
    """The command that repairs the lake file ``path`` (docs/operations.md)."""
    rel = relative(lake, path)
    top = rel.split("/", 1)[0]
    day, month = _partition(rel, "date"), _partition(rel, "month")
    if top == "usage_intervals" and day:
        return f"write it again with `metering run nightly --date {day}`"
    if top == "rating" and month:
        return f"write it again with `metering rate --month {month}`"
    if top == "close" and month:
        return f"write it again with `metering close --month {month}`"
    set_aside = f"set it aside with `metering lake set-aside {rel}`"
    if top in REFETCHED and day:
        return f"{set_aside}, then re-read it with `metering run nightly --date {day}`"
    return f"{set_aside} (its hour becomes a gap the run log explains)"


def file_schema(path: LakePath) -> pa.Schema:
    """The schema in ``path``'s Parquet footer (reads the footer only)."""
    import pyarrow.parquet as pq

    if isinstance(path, ObjectPath):
        with path.fs.open_input_file(path.fs_path) as handle:
            return pq.read_schema(handle)
    return pq.read_schema(path)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def mismatch(found: pa.Schema, want: pa.Schema) -> str | None:
    """Why a file of schema ``found`` is not a file of ``want`` (None when it is)."""
    names = set(found.names)
    missing = [f.name for f in want if not f.nullable and f.name not in names]
    if missing:
        return f"lacks required column(s) {', '.join(missing)}"
    extra = [n for n in found.names if want.get_field_index(n) < 0]
    if extra:
        return f"has column(s) the dataset does not have: {', '.join(extra[:5])}"
    for field in want:
        if field.name in names:
            kind = found.field(field.name).type
            if kind != field.type:
                return f"column {field.name} is {kind}, expected {field.type}"
    return None


def exact(found: pa.Schema, want: pa.Schema) -> bool:
    """Whether ``found`` has exactly the columns of ``want``, in order, of the same types (a
    valid file may lack nullable columns added after it was written)."""
    return [(f.name, f.type) for f in found] == [(f.name, f.type) for f in want]


# local files already found valid, by (path, size, mtime, dataset), and whether their schema is
# exactly the dataset's: consolidation reads a sample file on two days, and replaying a month
# reads the same files many times
_VALID: dict[tuple[str, int, int, str], bool] = {}
_VALID_MAX = 500_000


def _stamp(path: LakePath, what: str) -> tuple[str, int, int, str] | None:
    if isinstance(path, ObjectPath):
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_size, st.st_mtime_ns, what)


def check_file(path: LakePath, schema: pa.Schema, lake: LakePath | None, what: str) -> bool:
    """Raise :class:`LakeError` (one line) when ``path`` is not a readable file of ``schema``;
    return whether its columns are exactly those of ``schema`` (:func:`exact`)."""
    stamp = _stamp(path, what)
    if stamp is not None and stamp in _VALID:
        return _VALID[stamp]
    try:
        found = file_schema(path)
    except (OSError, pa.ArrowException, LakeError) as exc:
        problem = f"is not a readable Parquet file ({_short(exc)})"
    else:
        reason = mismatch(found, schema)
        if reason is None:
            same = exact(found, schema)
            if stamp is not None:
                if len(_VALID) >= _VALID_MAX:
                    _VALID.clear()
                _VALID[stamp] = same
            return same
        problem = f"does not match the {what} schema: {reason}"
    where = f"lake {lake}: file {relative(lake, path)}" if lake is not None else f"lake file {path}"
    raise LakeError(f"{where} {problem}; {repair_hint(lake, path)}")


def check_files(
    files: Sequence[LakePath], schema: pa.Schema, lake: LakePath | None, what: str
) -> bool:
    """:func:`check_file` for every file (footers read in parallel on S3); whether every
    file has exactly the columns of ``schema``."""
    if files and isinstance(files[0], ObjectPath):
        with ThreadPoolExecutor(max_workers=8) as pool:
            return all(list(pool.map(lambda f: check_file(f, schema, lake, what), files)))
    return all([check_file(path, schema, lake, what) for path in files])
