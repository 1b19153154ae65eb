"""Writing the rating outputs to the lake in bounded memory, each file atomically.

A full-size month has ~20 M ``rated_usage`` rows: collected as one Arrow table in Python it
alone needs several GiB. Here every output is streamed from the engine (a
``pyarrow.RecordBatchReader``: DuckDB hands one over its temp table without materialising it)
into a zstd Parquet file in row groups of :data:`ROW_GROUP_ROWS`, each batch conformed to the
output's declared schema on the way (a lossless cast only), so memory stays at a few row
groups whatever the month's size.

Atomicity: every output is first written whole to a staged file (local lake: a temp file in
the target directory; S3 lake: a local temp file), and only when all four are complete are
they moved into place (``os.replace``; on S3 one upload each, visible only once complete).
A failure while computing or writing leaves the previous outputs untouched. The moves
themselves are four steps, not one: a failure between them (a kill, an S3 error on the third
upload) leaves some outputs new and some old. So the month's manifest is removed before the
moves and written after them (metering.rating.manifest): the close refuses outputs that the
manifest does not name, and rating the month again repairs them. The row groups are
cut at fixed row counts, so re-rating the same usage writes the same files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

from metering.lake.storage import LakePath, ObjectPath, temp_file_beside

# Rows per Parquet row group (and at most two groups' worth in memory while writing).
ROW_GROUP_ROWS = 262_144

Batches = Callable[[], pa.RecordBatchReader]
Conform = Callable[[pa.Table], pa.Table]


@dataclass
class Staged:
    """One output written to ``tmp``, to be moved to ``path`` by :meth:`commit`."""

    path: LakePath
    tmp: Path
    rows: int = 0

    def commit(self) -> None:
        """Move the staged file into place (local: ``os.replace``; S3: one upload)."""
        if isinstance(self.path, ObjectPath):
            upload(self.tmp, self.path)
            self.tmp.unlink(missing_ok=True)
        else:
            os.replace(self.tmp, self.path)

    def discard(self) -> None:
        self.tmp.unlink(missing_ok=True)


def upload(local: Path, path: ObjectPath) -> None:
    """Copy a local file to an object, streamed (the object appears once complete)."""
    path.bucket.check()
    try:
        pafs.copy_files(
            str(local),
            path.fs_path,
            source_filesystem=pafs.LocalFileSystem(),
            destination_filesystem=path.fs,
        )
    except OSError as exc:
        raise path.bucket.error("write", path.name, exc) from None


def staging_file(path: LakePath) -> Path:
    """An empty temp file to write ``path``'s new content to (same directory when local)."""
    if isinstance(path, ObjectPath):
        fd, tmp = tempfile.mkstemp(prefix=f"metering-output-{os.getpid()}.", suffix=".parquet")
    else:
        fd, tmp = temp_file_beside(path, prefix=f".{path.stem}.")
    os.close(fd)
    return Path(tmp)


def row_groups(reader: pa.RecordBatchReader, rows: int) -> Iterator[pa.Table]:
    """``reader``'s rows regrouped into tables of exactly ``rows`` rows (the last may be
    shorter), whatever batch sizes the engine produced: the file does not depend on them."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in reader:
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending, schema=reader.schema)
            yield table.slice(0, rows).combine_chunks()
            rest = table.slice(rows)
            pending, count = rest.to_batches(), rest.num_rows
    if count or not pending:
        yield pa.Table.from_batches(pending, schema=reader.schema).combine_chunks()


def write_staged(
    path: LakePath,
    schema: pa.Schema,
    batches: Batches,
    conform: Conform,
    observe: Callable[[pa.Table], None] | None = None,
) -> Staged:
    """Stream ``batches()`` through ``conform`` into a staged zstd Parquet file for ``path``,
    one row group at a time; ``observe`` sees every conformed row group (e.g. to sum totals)."""
    import pyarrow.parquet as pq

    staged = Staged(path, staging_file(path))
    try:
        with batches() as reader, pq.ParquetWriter(staged.tmp, schema, compression="zstd") as out:
            for group in row_groups(reader, ROW_GROUP_ROWS):
                fitted = conform(group)
                if observe is not None:
                    observe(fitted)
                out.write_table(fitted, row_group_size=ROW_GROUP_ROWS)
                staged.rows += fitted.num_rows
    except BaseException:
        staged.discard()
        raise
    return staged


def commit_all(staged: Mapping[str, Staged]) -> dict[str, LakePath]:
    """Move every staged output into place, only after all of them were written."""
    try:
        for item in staged.values():
            item.commit()
    finally:
        for item in staged.values():
            item.discard()
    return {name: item.path for name, item in staged.items()}
