"""How ``metering sql`` writes a result, like the DuckDB CLI's output modes.

``table``: a boxed table on a terminal, plain aligned columns when piped (nothing is cut to
the terminal's width there); ``csv`` through the shared CSV writer (quoting, formula
defusing: docs/reports.md); ``json``: an array of objects, numbers exact (a DECIMAL is
written as its digits, never through a float); ``markdown``: a pipe table; ``parquet``.
Numbers are right-aligned in ``table`` and ``markdown``. Every writer streams Arrow record
batches, except ``table`` and ``markdown``, which show the first :data:`MAX_SHOWN` rows.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Iterator, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import BinaryIO

import pyarrow as pa

from metering.reports.csvfile import csv_bytes

MAX_SHOWN = 1000


class Mode(StrEnum):
    """An output mode of ``metering sql`` (``-m``)."""

    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"
    parquet = "parquet"


# the mode an output file's suffix implies when -m is not given
SUFFIX_MODES = {
    ".csv": Mode.csv,
    ".json": Mode.json,
    ".md": Mode.markdown,
    ".parquet": Mode.parquet,
    ".txt": Mode.table,
}


def is_numeric(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_decimal(kind) or pa.types.is_floating(kind)
    )


def text(value: object) -> str:
    """A value as the table and markdown modes show it (NULL as DuckDB shows it)."""
    if value is None:
        return "NULL"
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _rows(reader: pa.RecordBatchReader) -> Iterator[Sequence[object]]:
    for batch in reader:
        yield from zip(*(column.to_pylist() for column in batch.columns), strict=True)


def _first(reader: pa.RecordBatchReader, limit: int) -> tuple[list[Sequence[object]], bool]:
    """Up to ``limit`` rows of ``reader``, and whether there were more."""
    rows: list[Sequence[object]] = []
    for row in _rows(reader):
        if len(rows) == limit:
            return rows, True
        rows.append(row)
    return rows, False


def write_csv(reader: pa.RecordBatchReader, out: BinaryIO) -> None:
    names = reader.schema.names
    numeric = [f.name for f in reader.schema if is_numeric(f.type)]
    out.write(csv_bytes(names, [], numeric=numeric))
    for batch in reader:
        rows = zip(*(column.to_pylist() for column in batch.columns), strict=True)
        out.write(csv_bytes(names, rows, numeric=numeric, header_line=False))


def json_value(value: object) -> str:
    """One value as JSON: exact decimals as numbers, times as ISO 8601 strings."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return f"{value:f}" if value.is_finite() else "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "null"
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return json.dumps(value.isoformat())
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k))}: {json_value(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(json_value(v) for v in value) + "]"
    if isinstance(value, bytes):
        return json.dumps(value.hex())
    return json.dumps(str(value), ensure_ascii=False)


def write_json(reader: pa.RecordBatchReader, out: BinaryIO) -> None:
    keys = [json.dumps(name, ensure_ascii=False) for name in reader.schema.names]
    out.write(b"[")
    lead = ""
    for row in _rows(reader):
        body = ", ".join(f"{k}: {json_value(v)}" for k, v in zip(keys, row, strict=True))
        out.write(f"{lead}{{{body}}}".encode())
        lead = ",\n"
    out.write(b"]\n")


def _md_cell(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("\r\n", "<br>")
        .replace("\n", "<br>")
    )


def write_markdown(reader: pa.RecordBatchReader, out: BinaryIO) -> bool:
    """A pipe table of the first :data:`MAX_SHOWN` rows; returns whether rows were left out."""
    right = [is_numeric(f.type) for f in reader.schema]
    rows, more = _first(reader, MAX_SHOWN)
    lines = ["| " + " | ".join(_md_cell(n) for n in reader.schema.names) + " |"]
    lines.append("|" + "|".join("---:" if r else "---" for r in right) + "|")
    lines += ["| " + " | ".join(_md_cell(text(v)) for v in row) + " |" for row in rows]
    out.write(("\n".join(lines) + "\n").encode())
    return more


def write_table(reader: pa.RecordBatchReader, out: BinaryIO, *, terminal: bool) -> bool:
    """The first :data:`MAX_SHOWN` rows, boxed on a terminal, plain aligned columns when not;
    returns whether rows were left out."""
    right = [is_numeric(f.type) for f in reader.schema]
    names = reader.schema.names
    rows, more = _first(reader, MAX_SHOWN)
    cells = [[text(v) for v in row] for row in rows]
    out.write(_boxed(names, cells, right) if terminal else _plain(names, cells, right))
    return more


def _plain(names: list[str], cells: list[list[str]], right: list[bool]) -> bytes:
    """Columns two spaces apart, a dashed rule under the header, no width limit."""
    widths = [
        max([len(n), *(len(line) for r in cells for line in r[i].splitlines())])
        for i, n in enumerate(names)
    ]

    def line(values: Sequence[str]) -> str:
        padded = (
            v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True)
        )
        return "  ".join(padded).rstrip()

    lines = [line(names), line(["-" * w for w in widths])]
    lines += [line([v.replace("\n", " ") for v in row]) for row in cells]
    return ("\n".join(lines) + "\n").encode()


def _boxed(names: list[str], cells: list[list[str]], right: list[bool]) -> bytes:
    """A rich box table as wide as the terminal; long cells wrap rather than being cut."""
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for name, r in zip(names, right, strict=True):
        table.add_column(name, justify="right" if r else "left", overflow="fold")
    for row in cells:
        table.add_row(*row)
    buffer = io.StringIO()
    width = Console().width
    Console(file=buffer, width=width, force_terminal=True, highlight=False).print(table)
    return buffer.getvalue().encode()


def write_parquet(reader: pa.RecordBatchReader, out: BinaryIO) -> None:
    import pyarrow.parquet as pq

    with pq.ParquetWriter(out, reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
