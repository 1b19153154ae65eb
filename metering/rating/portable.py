"""The rating SQL translated for Spark SQL: same files, same views, no second implementation.

Each file of ``sql/`` that rating runs is parsed as DuckDB SQL and written as Spark SQL with
sqlglot, raising on anything sqlglot cannot express (``unsupported_level=RAISE``) and on any
function it does not know (it would pass such a call through unchanged, and Spark would
only fail at run time, or worse, run a same-named function with other semantics).

One type and one function are mapped by hand. Exact integer division has no spelling common
to both engines: DuckDB divides exactly only integers (``//``, which sqlglot writes as Spark's
``DIV``), and a share of an amount can need a 128-bit product. DuckDB's ``HUGEINT`` becomes
Spark's ``DECIMAL(38, 0)``, an exact 38-digit integer whose ``DIV`` is exact as well.
DuckDB's ``epoch_us(t)`` (microseconds since 1970 as a BIGINT, which sqlglot does not know)
becomes Spark's ``unix_micros(t)``, the same integer: the hour arithmetic counts whole seconds
with it instead of a per-row ``date_diff``, a calendar call in DuckDB. Everything else
(decimal widths, ``NULLS LAST`` orderings, ``date_diff``, string trimming) is sqlglot's own
translation, and tests/rating/test_spark.py proves the results equal to the last decimal.
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from metering.errors import RatingError
from metering.resources import read_sql

DECIMAL_38_0 = exp.DataType.build("decimal(38, 0)")
# DuckDB function → the Spark function with the same result, for those sqlglot passes through
FUNCTIONS = {"EPOCH_US": "UNIX_MICROS"}


def _to_spark(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        return DECIMAL_38_0.copy()
    if isinstance(node, exp.Anonymous) and node.name.upper() in FUNCTIONS:
        return exp.Anonymous(this=FUNCTIONS[node.name.upper()], expressions=node.expressions)
    return node


def _check_functions(tree: exp.Expr, name: str) -> None:
    mapped = set(FUNCTIONS.values())
    unknown = sorted({f.name for f in tree.find_all(exp.Anonymous)} - mapped)
    if unknown:
        raise RatingError(f"{name}: function(s) {', '.join(unknown)} have no Spark translation")


@cache
def spark_sql(name: str) -> str:
    """The Spark SQL of one named rating SQL file (``intermediate/int_rate_parts.sql``)."""
    text = read_sql(name).strip().rstrip(";")
    try:
        trees = sqlglot.parse(text, read="duckdb", error_level=ErrorLevel.RAISE)
        if len(trees) != 1 or trees[0] is None:
            raise RatingError(f"{name}: expected one SQL statement, found {len(trees)}")
        tree = trees[0].transform(_to_spark)
        _check_functions(tree, name)
        return tree.sql(dialect="spark", unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise RatingError(f"{name}: cannot translate to Spark SQL: {exc}") from None
