"""The one CSV writer of every CSV metering hands out (usage CSV, provider report, FOCUS).

Two rules, both from OWASP's CSV injection guidance and RFC 4180:

- **Quoting**: a field that contains the delimiter, a quote, a carriage return or a line
  feed is enclosed in double quotes (quotes doubled), so a name with a CR cannot start a new
  row in a spreadsheet. Fields with ``;`` or a tab are quoted too: spreadsheets in many
  locales split on them when they open a ``.csv``.
- **Formulas**: a text cell that a spreadsheet would evaluate gets a leading apostrophe:
  one that starts, after any leading whitespace, with ``=``, ``+``, ``-``, ``@`` (or their
  full-width forms), or one that starts with a tab, CR, LF or NUL. Columns the caller names
  as numeric are left alone when the value really is a number (``-0.50`` stays a number);
  anything else in them is treated as text.

Row-wise files use :func:`csv_bytes`; the FOCUS export streams Arrow tables through
:func:`safe_table` and :func:`write_table`, which apply the same rules column-wise.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pyarrow.csv as pacsv

# first non-blank characters a spreadsheet reads as the start of a formula (ASCII and the
# full-width forms some spreadsheets also accept)
FORMULA_LEAD = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# first characters that are refused as they stand (OWASP: tab, CR; LF and NUL likewise)
CONTROL_LEAD = ("\t", "\r", "\n", "\0")
# the same rule as one RE2 pattern, for Arrow columns
_RISKY_PATTERN = r"^(\s*[=+\-@\x{FF1D}\x{FF0B}\x{FF0D}\x{FF20}]|[\t\r\n\x00])"
# a field with any of these is quoted
_QUOTE_IF = (",", '"', "\r", "\n", ";", "\t")


def neutralise(text: str) -> str:
    """``text`` as a cell no spreadsheet evaluates: apostrophe first when it would be."""
    if text.startswith(CONTROL_LEAD) or text.lstrip().startswith(FORMULA_LEAD):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return text.strip() == text and text.lower() not in ("nan", "inf", "-inf", "+inf")


def quote_field(text: str) -> str:
    """``text`` as one RFC 4180 field: quoted when it holds a delimiter, quote or line break."""
    if any(c in text for c in _QUOTE_IF):
        return '"' + text.replace('"', '""') + '"'
    return text


def cell(value: object, *, numeric: bool = False) -> str:
    """One value as written: numbers in plain notation, text neutralised, then quoted."""
    if value is None:
        text = ""
    elif isinstance(value, Decimal):
        text = f"{value:f}"
    else:
        text = str(value)
    if not (numeric and _is_number(text)):
        text = neutralise(text)
    return quote_field(text)


def csv_bytes(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Collection[str] = (),
    header_line: bool = True,
) -> bytes:
    """A UTF-8 CSV (``\\n`` line ends) of ``rows`` under ``header`` (the header line left out
    with ``header_line=False``, to append rows); the columns named in ``numeric`` keep their
    numbers as they are, every other cell is text."""
    flags = [name in numeric for name in header]
    lines = [",".join(quote_field(neutralise(name)) for name in header)] if header_line else []
    for row in rows:
        if len(row) != len(flags):
            raise ValueError(f"a CSV row has {len(row)} cells for {len(flags)} columns")
        lines.append(",".join(cell(v, numeric=f) for v, f in zip(row, flags, strict=True)))
    return "".join(line + "\n" for line in lines).encode("utf-8")


def safe_table(table: pa.Table) -> pa.Table:
    """Every text column of ``table`` neutralised (numbers, dates and decimals untouched)."""
    for index, field in enumerate(table.schema):
        if not pa.types.is_string(field.type) and not pa.types.is_large_string(field.type):
            continue
        column = table.column(index)
        risky = pc.fill_null(pc.match_substring_regex(column, pattern=_RISKY_PATTERN), False)
        safe = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        table = table.set_column(index, field, safe)
    return table


class TableWriter:
    """Streams Arrow tables of one schema into a CSV file, each neutralised first. Arrow's
    writer quotes every text field, so a CR, LF, quote or delimiter stays inside its cell."""

    def __init__(self, sink: IO[bytes]) -> None:
        self._sink = sink
        self._writer: pacsv.CSVWriter | None = None

    def write_table(self, table: pa.Table) -> None:
        import pyarrow.csv as pacsv

        safe = safe_table(table)
        if self._writer is None:
            self._writer = pacsv.CSVWriter(self._sink, safe.schema)
        self._writer.write_table(safe)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
