"""Comments on the warehouse's views, tables and columns, from where each is described once.

The lake datasets (and ``coverage``) are described in :mod:`metering.lake.schemas`, a doc
per field; every other view and table (rating outputs, ``usage_intervals``, ``documents``,
``unmapped_orgs``, the pricing and tenant tables, the columns the warehouse adds to
``invoice_totals``) in the column tables of docs/data-dictionary.md, which ships with the
package. :func:`comment_columns` writes them as ``COMMENT ON`` so ``describe``,
``duckdb_columns()`` and any SQL client show what a column means.
"""

from __future__ import annotations

import re
from functools import cache

import duckdb

from metering.lake.schemas import COVERAGE_SCHEMA, DATASETS, doc
from metering.resources import resource_dir

# a heading of one view or table, and one row of its column table
_HEADING = re.compile(r"^### `(\w+)`\s*$", re.MULTILINE)
_ROW = re.compile(r"^\| `(\w+)` \| [^|]* \| (.+) \|\s*$")


@cache
def dictionary() -> dict[str, tuple[str, dict[str, str]]]:
    """View or table name → (what it holds, column → meaning)."""
    found: dict[str, tuple[str, dict[str, str]]] = {}
    text = (resource_dir("docs") / "data-dictionary.md").read_text(encoding="utf-8")
    parts = _HEADING.split(text)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        body = body.split("\n## ", 1)[0]
        paragraph = body.strip().split("\n\n", 1)[0]
        summary = "" if paragraph.startswith("|") else _plain(paragraph)
        columns = {m.group(1): _plain(m.group(2)) for m in map(_ROW.match, body.splitlines()) if m}
        found[name] = (summary, columns)
    for name, dataset in DATASETS.items():
        found[name] = (dataset.doc, {f.name: doc(f) for f in dataset.schema})
    coverage = {f.name: doc(f) for f in COVERAGE_SCHEMA}
    found["coverage"] = (found.get("coverage", ("", {}))[0], coverage)
    return found


def _plain(markdown: str) -> str:
    """Markdown as plain text: no backticks or emphasis, one line."""
    return " ".join(markdown.replace("`", "").replace("**", "").split())


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def comment_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Comment every public view and table of ``con`` and each of their columns the
    dictionary describes, in one batch; returns ``table.column`` of those it does not
    describe."""
    docs = dictionary()
    objects = con.execute(
        "select view_name, 'view' from duckdb_views() where schema_name = 'main' "
        "and not internal and not temporary union all "
        "select table_name, 'table' from duckdb_tables() where schema_name = 'main' "
        "and not temporary"
    ).fetchall()
    columns = con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'main' "
        "order by table_name, column_index"
    ).fetchall()
    statements = []
    for name, kind in objects:
        summary = docs.get(name, ("", {}))[0]
        if summary:
            statements.append(f'comment on {kind} "{name}" is {_literal(summary)}')
    undescribed = []
    for name, column in columns:
        meaning = docs.get(name, ("", {}))[1].get(column)
        if meaning is None:
            undescribed.append(f"{name}.{column}")
        else:
            statements.append(f'comment on column "{name}"."{column}" is {_literal(meaning)}')
    if statements:
        con.execute(";\n".join(statements))
    return undescribed
