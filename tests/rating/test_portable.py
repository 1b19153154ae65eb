"""Every rating SQL file translates to Spark SQL; what cannot be translated is refused."""

from __future__ import annotations

import re

import pytest

from metering.errors import RatingError
from metering.rating import portable
from metering.rating.run import INTERMEDIATE, MARTS, audit_names
from metering.resources import read_sql

RATING_FILES = [*INTERMEDIATE, *MARTS, *audit_names()]


@pytest.mark.parametrize("name", RATING_FILES)
def test_every_rating_sql_file_translates_to_spark(name: str) -> None:
    sql = portable.spark_sql(name)
    assert sql.upper().startswith(("WITH", "SELECT", "/*"))
    # DuckDB-only spellings are gone: file reads, HUGEINT, '//', timestamptz literals
    for duckdb_only in ("read_parquet", "HUGEINT", "INT128", "//", "TIMESTAMPTZ", "::"):
        assert duckdb_only not in sql.upper().replace("/*", "").replace("*/", ""), duckdb_only


def test_rating_sql_reads_only_named_views() -> None:
    for name in RATING_FILES:
        text = read_sql(name).lower()
        assert "read_parquet" not in text and "read_csv" not in text, name


def test_hugeint_becomes_an_exact_38_digit_decimal_and_integer_division_div(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # no rating file needs a 128-bit quotient since rated_usage carries no money; the mapping
    # stays for the next one that does
    text = "select cast(a as hugeint) * cast(b as hugeint) // cast(c as hugeint) as q from v"
    monkeypatch.setattr(portable, "read_sql", lambda name: text)
    portable.spark_sql.cache_clear()
    try:
        sql = portable.spark_sql("marts/shares.sql")
    finally:
        portable.spark_sql.cache_clear()
    assert "AS DECIMAL(38, 0)) DIV CAST(" in sql and "HUGEINT" not in sql.upper()


def test_a_function_spark_does_not_know_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portable, "read_sql", lambda name: "select bar(t, 0, 9) as x from v")
    portable.spark_sql.cache_clear()
    try:
        unknown = r"broken\.sql: function\(s\) (BAR|bar) have no Spark"
        with pytest.raises(RatingError, match=unknown):
            portable.spark_sql("marts/broken.sql")
    finally:
        portable.spark_sql.cache_clear()


def test_epoch_us_becomes_unix_micros_the_same_integer() -> None:
    sql = re.sub(r"/\*.*?\*/", "", portable.spark_sql("intermediate/int_rate_parts.sql"))
    assert "UNIX_MICROS(month_start)" in sql and "EPOCH_US" not in sql.upper()


def test_sql_that_does_not_parse_is_a_rating_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(portable, "read_sql", lambda name: "select from where (")
    portable.spark_sql.cache_clear()
    try:
        with pytest.raises(RatingError, match=r"marts/broken\.sql: cannot translate"):
            portable.spark_sql("marts/broken.sql")
    finally:
        portable.spark_sql.cache_clear()
