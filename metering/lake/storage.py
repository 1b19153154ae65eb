"""Where the lake lives: a local directory or an S3-compatible bucket, behind one path type.

A lake path is either a :class:`pathlib.Path` (a local lake: unchanged behaviour, atomic
writes by temp file + ``os.replace``) or an :class:`ObjectPath` (``s3://bucket/prefix/...``
on AWS S3, Cloudian HyperStore / OSE or any S3 API). ``ObjectPath`` offers the small part of
the ``pathlib`` surface the stages use (``/``, ``name``, ``stem``, ``parent``, ``glob``,
``is_file``, ``is_dir``, ``unlink``, ``read_bytes``), on a ``pyarrow.fs.S3FileSystem``
(built into the pyarrow wheels: no extra package), so code written against paths keeps its
shape and a local lake keeps its exact behaviour.

Atomicity on S3: an object becomes visible only when its upload completes (single PUT or
completed multipart upload), so a reader sees the old object or the new one, never half.

DuckDB reads S3 through Arrow datasets registered on the connection (:func:`duckdb_scan`),
lazily and with projection/filter pushdown, because DuckDB's own ``httpfs`` extension is a
separate download that an offline or locked-down host may not have. Errors become one-line
:class:`LakeError` naming the lake root, with the credentials scrubbed from the message.
"""

from __future__ import annotations

import fnmatch
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

import pyarrow as pa
import pyarrow.fs as pafs

from metering.errors import LakeError

if TYPE_CHECKING:
    import duckdb
    import pyarrow.dataset as pads

# pyarrow.dataset and pyarrow.parquet are imported where used: the config imports this
# module, and pyarrow.dataset pulls in pandas (half a second) for every command otherwise.


@dataclass(frozen=True)
class Bucket:
    """One S3 lake root: the filesystem, the root URL (for messages) and what to scrub."""

    root: str  # s3://bucket/prefix (never any credential)
    fs: pafs.FileSystem = field(repr=False, compare=False)
    secrets: tuple[str, ...] = field(repr=False, compare=False, default=())
    _checked: list[bool] = field(repr=False, compare=False, default_factory=list)

    def check(self) -> None:
        """Fail once, clearly, when the bucket is missing or the keys are refused: S3 answers
        "nothing there" for a key in a missing bucket, which would read as an empty lake."""
        if self._checked:
            return
        name = self.root.removeprefix("s3://").split("/", 1)[0]
        try:
            info = self.fs.get_file_info(name)
        except OSError as exc:
            raise self.error("reach bucket", name, exc) from None
        if info.type == pafs.FileType.NotFound:
            raise LakeError(f"lake {self.root}: bucket {name} does not exist")
        self._checked.append(True)

    def error(self, action: str, key: str, exc: BaseException) -> LakeError:
        """A one-line error naming the lake root and the object, with no secret in it."""
        text = " ".join(str(exc).split()) or type(exc).__name__
        for secret in self.secrets:
            if secret:
                text = text.replace(secret, "********")
        where = f" {key}" if key else ""
        return LakeError(f"lake {self.root}: cannot {action}{where}: {text}")


class ObjectPath:
    """A key (or key prefix) in an S3 bucket, used like a ``pathlib.Path`` by the stages."""

    __slots__ = ("_bucket", "_path")

    def __init__(self, bucket: Bucket, path: str) -> None:
        self._bucket = bucket
        self._path = path.strip("/")  # "bucket/prefix/..." as pyarrow.fs names it

    # --- naming -------------------------------------------------------------------------
    def __truediv__(self, part: str | os.PathLike[str]) -> ObjectPath:
        return ObjectPath(self._bucket, f"{self._path}/{os.fspath(part).strip('/')}")

    @property
    def name(self) -> str:
        return self._path.rsplit("/", 1)[-1]

    @property
    def stem(self) -> str:
        name = self.name
        return name.rsplit(".", 1)[0] if "." in name[1:] else name

    @property
    def suffix(self) -> str:
        name = self.name
        return "." + name.rsplit(".", 1)[1] if "." in name[1:] else ""

    @property
    def parent(self) -> ObjectPath:
        return ObjectPath(self._bucket, self._path.rsplit("/", 1)[0])

    @property
    def fs(self) -> pafs.FileSystem:
        return self._bucket.fs

    @property
    def fs_path(self) -> str:
        """The path as ``pyarrow.fs`` names it (``bucket/key``)."""
        return self._path

    @property
    def bucket(self) -> Bucket:
        return self._bucket

    def __str__(self) -> str:
        return f"s3://{self._path}"

    def __repr__(self) -> str:
        return f"ObjectPath({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectPath) and other._path == self._path

    def __hash__(self) -> int:
        return hash(self._path)

    def __lt__(self, other: ObjectPath) -> bool:
        return self._path < other._path

    def _key(self) -> str:
        """The key relative to the lake root, for messages."""
        root = self._bucket.root.removeprefix("s3://")
        return self._path.removeprefix(root).lstrip("/")

    # --- queries ------------------------------------------------------------------------
    def _info(self) -> pafs.FileInfo:
        self._bucket.check()
        try:
            return self.fs.get_file_info(self._path)
        except OSError as exc:
            raise self._bucket.error("read", self._key(), exc) from None

    def exists(self) -> bool:
        return bool(self._info().type != pafs.FileType.NotFound)

    def is_file(self) -> bool:
        return bool(self._info().type == pafs.FileType.File)

    def is_dir(self) -> bool:
        return bool(self._info().type == pafs.FileType.Directory)

    def _children(self) -> list[pafs.FileInfo]:
        self._bucket.check()
        selector = pafs.FileSelector(self._path, recursive=False, allow_not_found=True)
        try:
            infos: list[pafs.FileInfo] = self.fs.get_file_info(selector)
        except OSError as exc:
            raise self._bucket.error("list", self._key() or "/", exc) from None
        return infos

    def iterdir(self) -> Iterator[ObjectPath]:
        for info in self._children():
            yield ObjectPath(self._bucket, info.path)

    def glob(self, pattern: str) -> Iterator[ObjectPath]:
        """Paths under this one matching ``pattern`` (``*``/``?``/``[]`` within a segment).

        Walks one segment at a time: a literal segment is appended without a request, a
        wildcard one lists that level only (one delimiter listing per candidate), so
        ``site=*/date=2026-10-01/*.parquet`` costs a few listings, not the whole dataset;
        when every segment left is a wildcard (``site=*/date=*/*.parquet``), one recursive
        listing (1,000 keys a page) replaces a listing per partition.
        """
        parts = [p for p in pattern.split("/") if p]
        candidates = [self]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if not _magic(part):
                candidates = [c / part for c in candidates]
                continue
            if not last and all(_magic(p) for p in parts[i:]):
                return iter(sorted(f for c in candidates for f in c._match_files(parts[i:])))
            found: list[ObjectPath] = []
            for cand in candidates:
                for info in cand._children():
                    wanted = last or info.type == pafs.FileType.Directory
                    if wanted and fnmatch.fnmatchcase(info.base_name, part):
                        found.append(ObjectPath(self._bucket, info.path))
            candidates = found
        if parts and not _magic(parts[-1]):
            candidates = [c for c in candidates if c.exists()]
        return iter(sorted(candidates))

    def _match_files(self, parts: list[str]) -> Iterator[ObjectPath]:
        """Objects under this prefix whose relative path matches ``parts`` segment by segment."""
        self._bucket.check()
        selector = pafs.FileSelector(self._path, recursive=True, allow_not_found=True)
        try:
            infos: list[pafs.FileInfo] = self.fs.get_file_info(selector)
        except OSError as exc:
            raise self._bucket.error("list", self._key() or "/", exc) from None
        for info in infos:
            if info.type != pafs.FileType.File:
                continue
            rel = info.path[len(self._path) + 1 :].split("/")
            if len(rel) == len(parts) and all(map(fnmatch.fnmatchcase, rel, parts)):
                yield ObjectPath(self._bucket, info.path)

    # --- data ---------------------------------------------------------------------------
    def read_bytes(self) -> bytes:
        self._bucket.check()
        try:
            with self.fs.open_input_stream(self._path) as stream:
                data: bytes = stream.read()
        except OSError as exc:
            raise self._bucket.error("read", self._key(), exc) from None
        return data

    def write_bytes(self, data: bytes) -> None:
        """Upload ``data`` as this object: visible only once complete (atomic)."""
        self._bucket.check()
        try:
            with self.fs.open_output_stream(self._path) as stream:
                stream.write(data)
        except OSError as exc:
            raise self._bucket.error("write", self._key(), exc) from None

    def unlink(self, missing_ok: bool = False) -> None:
        if missing_ok and not self.exists():
            return
        try:
            self.fs.delete_file(self._path)
        except OSError as exc:
            raise self._bucket.error("delete", self._key(), exc) from None

    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None:
        """Object stores have no directories: nothing to create."""


LakePath: TypeAlias = Path | ObjectPath


def _magic(part: str) -> bool:
    return any(c in part for c in "*?[")


def s3_root(
    url: str,
    *,
    access_key: str,
    secret_key: str,
    session_token: str | None = None,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    ca_bundle: Path | None = None,
    timeout_seconds: float = 30.0,
) -> ObjectPath:
    """The lake root ``s3://bucket/prefix`` on AWS or an S3-compatible endpoint.

    TLS is always verified for ``https`` endpoints (``ca_bundle`` adds a private CA); an
    ``http://`` endpoint is only used when the config names one explicitly (loopback tests).
    Nothing is contacted here: the first read or write reports a wrong key or bucket.
    """
    path = url.removeprefix("s3://").strip("/")
    options: dict[str, object] = {
        "access_key": access_key,
        "secret_key": secret_key,
        "session_token": session_token,
        "region": region,
        "connect_timeout": timeout_seconds,
        "request_timeout": timeout_seconds,
    }
    if endpoint_url:
        scheme, _, host = endpoint_url.partition("://")
        options.update(scheme=scheme, endpoint_override=host.rstrip("/"))
    if ca_bundle is not None:
        options["tls_ca_file_path"] = str(ca_bundle)
    fs = pafs.S3FileSystem(**options)
    secrets = tuple(s for s in (access_key, secret_key, session_token) if s)
    return ObjectPath(Bucket(f"s3://{path}", fs, secrets), path)


# --- writes -----------------------------------------------------------------------------


def process_umask() -> int:
    """The process's umask, read without changing it (``os.umask`` would, for a moment, under
    every other thread: two writers restoring each other's value can leave it changed)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o077)  # no /proc (not Linux): the classic read-and-restore
    os.umask(mask)
    return mask


def temp_file_beside(
    path: Path, prefix: str, suffix: str = ".tmp", mode: int | None = None
) -> tuple[int, str]:
    """A new temp file in ``path``'s directory (created if missing), for an atomic
    ``os.replace`` onto ``path``: ``(fd, name)``.

    ``mkstemp`` creates files mode 0600 whatever the umask; the file gets the mode a plain
    ``open`` would give it instead (0666 minus the umask), so the operator's umask decides
    who may read the lake and the invoices (the shipped systemd unit sets ``UMask=0027``:
    the service's group reads, nobody else does). ``mode`` sets it instead (0o600: a file
    only its owner may read, such as the provider report's label mapping)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # the writer's pid in the name: a later start removes it once that process is gone
    # (metering.lake.maintenance.sweep_temp_files), never while it may still be writing
    fd, tmp = tempfile.mkstemp(prefix=f"{prefix}{os.getpid()}.", suffix=suffix, dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~process_umask() if mode is None else mode)
    except BaseException:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
        raise
    return fd, tmp


def parquet_bytes(table: pa.Table) -> bytes:
    """``table`` as a zstd Parquet file in memory."""
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def write_parquet(path: LakePath, table: pa.Table) -> LakePath:
    """Write ``table`` to ``path`` atomically: temp file + ``os.replace`` locally, one
    completed upload on S3."""
    import pyarrow.parquet as pq

    if isinstance(path, ObjectPath):
        path.write_bytes(parquet_bytes(table))
        return path
    fd, tmp = temp_file_beside(path, prefix=f".{path.stem}.")
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_bytes(path: LakePath, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (local: temp + fsync + ``os.replace``), with
    file ``mode`` when given (local files; else the umask's)."""
    if isinstance(path, ObjectPath):
        path.write_bytes(data)
        return
    fd, tmp = temp_file_beside(path, prefix=f".{path.name}.", mode=mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- reads ------------------------------------------------------------------------------


def arrow_dataset(files: Sequence[LakePath], schema: pa.Schema | None = None) -> pads.Dataset:
    """A lazy Arrow dataset over Parquet ``files`` (all of one lake)."""
    import pyarrow.dataset as pads

    objects = [f for f in files if isinstance(f, ObjectPath)]
    if not objects:
        return pads.dataset([str(f) for f in files], schema=schema, format="parquet")
    if len(objects) != len(files):
        raise LakeError("a lake read mixes local files and objects")
    bucket = objects[0].bucket
    try:
        return pads.dataset(
            [f.fs_path for f in objects], schema=schema, format="parquet", filesystem=bucket.fs
        )
    except OSError as exc:
        raise bucket.error("read", "", exc) from None


def parquet_columns(path: LakePath) -> list[str]:
    """The column names of one Parquet file (reads only its footer)."""
    import pyarrow.parquet as pq

    if not isinstance(path, ObjectPath):
        return list(pq.read_schema(path).names)
    try:
        with path.fs.open_input_file(path.fs_path) as handle:
            return list(pq.read_schema(handle).names)
    except OSError as exc:
        raise path.bucket.error("read", path._key(), exc) from None


def hive_values(path: LakePath) -> dict[str, str]:
    """The ``key=value`` partitions in the directories of ``path`` (``{"month": "2026-10"}``)."""
    parents = str(path).split("/")[:-1]
    return dict(part.split("=", 1) for part in parents if "=" in part)


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def duckdb_scan(
    con: duckdb.DuckDBPyConnection,
    name: str,
    files: Sequence[LakePath],
    schema: pa.Schema | None = None,
    *,
    by_name: bool = True,
) -> str:
    """A DuckDB table expression over Parquet ``files`` (non-empty), to ``select * from``.

    Local files: ``read_parquet([...], union_by_name = true)``, or, with ``by_name`` false
    (the caller knows every file has the same columns in the same order), without it: DuckDB
    then binds on the first file's footer, not on every file's. Objects: an Arrow dataset
    registered on ``con`` as ``__lake_<name>`` (lazy, projection and filters pushed down),
    because DuckDB cannot read ``s3://`` without its ``httpfs`` extension.
    """
    if not any(isinstance(f, ObjectPath) for f in files):
        listing = ", ".join(quote(str(f)) for f in files)
        union = "true" if by_name else "false"
        return f"read_parquet([{listing}], hive_partitioning = false, union_by_name = {union})"
    handle = f"__lake_{name}"
    con.register(handle, arrow_dataset(files, schema))
    return handle
