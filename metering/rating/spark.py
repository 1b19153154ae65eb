"""Rating a month on Apache Spark: the same SQL files, views and outputs as on DuckDB.

``rate_month_spark`` registers on a Spark session the views the rating SQL reads
(``usage_intervals`` over the month's Parquet files in the lake, the pricing and catalog
tables of :mod:`metering.rating.tables`, ``rating_params``), runs each rating SQL file as
translated by :mod:`metering.rating.portable`, runs the audits, and writes the four outputs
to the lake through the same streaming step as DuckDB (:mod:`metering.rating.publish`).

An output is never collected whole into the driver (a full month's ``rated_usage`` is ~21 M
rows, several GiB as Arrow): it is read in slices of about :data:`SLICE_ROWS` rows, each a
range of the output's own ORDER BY key (groups of tenants; within a tenant too large for one
slice, groups of its sites, and so on), each slice sorted by that whole ORDER BY and handed
on as Arrow. The slices follow one another in the sort order, so their concatenation is the
whole output in its order, and publish cuts the same fixed row groups from it: the files do
not depend on the slice size. The driver holds about one slice at a time.

The session is local (``local[2]``, PySpark's own JVM) unless a master URL is given:
``spark://host:7077`` / ``yarn`` / ``local[N]`` (classic PySpark, needs Java), or a Spark
Connect URL ``sc://host:15002`` (any Spark Connect server, e.g. Spark 4 or Sail). Spark is an
optional extra (``pip install 'metering[spark]'``); nothing here is imported by the default
DuckDB path.

Decimal arithmetic is typed explicitly in the SQL (style.md); the session also turns off
``allowPrecisionLoss`` and turns on ANSI mode, so an engine that would trim a scale or wrap an
overflow fails instead of billing a different cent.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from metering.config import ProviderConfig
from metering.errors import MissingExtra, RatingError
from metering.extras import extra_message
from metering.rating.catalog import Tenant
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.outputs import OUTPUT_SCHEMAS, conform, raise_on_audit, rating_inputs
from metering.rating.policy import Pricing
from metering.rating.portable import spark_sql
from metering.rating.publish import ROW_GROUP_ROWS, Batches
from metering.rating.settings import RatingSettings
from metering.resources import read_sql
from metering.window import Window

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

    from metering.rating.run import RatingResult

DEFAULT_MASTER = "local[2]"
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.sql.decimalOperations.allowPrecisionLoss": "false",
}
# A local session stays on loopback and starts no web UI.
LOCAL_CONF = {
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.driver.host": "127.0.0.1",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
}
# Rows of an output the driver collects at once (~180 MB of rated_usage as Arrow): four row
# groups, so a slice's queries stay few (each scans the materialised output once).
SLICE_ROWS = 4 * ROW_GROUP_ROWS


def _pyspark() -> Any:
    try:
        with warnings.catch_warnings():
            # PySpark warns on import about pandas 3; metering never hands it pandas.
            warnings.simplefilter("ignore", FutureWarning)
            import pyspark.sql

        return pyspark.sql
    except ImportError:
        raise MissingExtra(extra_message("spark", "the Spark engine", ["pyspark"])) from None


@contextmanager
def spark_session(master: str | None = None) -> Iterator[SparkSession]:
    """A Spark session for rating: classic for ``local[N]``/``spark://``/``yarn``, Spark Connect
    for ``sc://`` URLs (where only this client session is closed on exit); stopped on exit."""
    sql = _pyspark()
    url = master or DEFAULT_MASTER
    builder = sql.SparkSession.builder.appName("metering-rating")
    if url.startswith("sc://"):
        builder = builder.remote(url)
    else:
        # A Spark Connect session earlier in this process leaves this flag behind, and PySpark
        # would then refuse to start a classic one.
        os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
        builder = builder.master(url).config("spark.api.mode", "classic")
        local = LOCAL_CONF if url.startswith("local") else {}
        for key, value in {**SESSION_CONF, **local}.items():
            builder = builder.config(key, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        session = builder.getOrCreate()
    try:
        for key, value in SESSION_CONF.items():
            session.conf.set(key, value)
        yield session
    finally:
        session.stop()


def spark_path(path: Path | object) -> str:
    """How Spark names a lake file (a local path, or ``s3a://bucket/key`` for S3)."""
    text = str(path)
    return "s3a://" + text.removeprefix("s3://") if text.startswith("s3://") else text


def register_arrow(spark: SparkSession, name: str, table: pa.Table) -> None:
    """Temp view ``name`` over a small Arrow table (pricing, catalog, parameters)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pyspark.sql.pandas.types import from_arrow_schema

        # the schema given, not inferred: exact types, and empty tables work too
        frame = spark.createDataFrame(table, schema=from_arrow_schema(table.schema))
    frame.createOrReplaceTempView(name)


def register_usage(spark: SparkSession, files: Sequence[Path | object]) -> None:
    """Temp view ``usage_intervals`` over the month's Parquet files (read by Spark itself),
    and ``usage_days``, the digests those files record."""
    from metering.rating.day_digest import usage_days

    register_arrow(spark, "usage_days", usage_days(files))  # type: ignore[arg-type]
    if not files:
        register_arrow(spark, "usage_intervals", INTERVALS_SCHEMA.empty_table())
        return
    frame = spark.read.parquet(*[spark_path(f) for f in files])
    frame.select(*INTERVALS_SCHEMA.names).createOrReplaceTempView("usage_intervals")


def _materialise(frame: DataFrame) -> DataFrame:
    """Computed once, as DuckDB materialises each model: later models and the audits read
    each one. Classic Spark checkpoints it now (which also cuts the growing plan); over
    Spark Connect it is cached (a local checkpoint there needs a server-side path)."""
    if "connect" in type(frame).__module__:
        return frame.cache()
    return frame.localCheckpoint()


def _collect(frame: DataFrame) -> pa.Table:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        table: pa.Table = frame.toArrow()
    return table


def rate_on_spark(
    spark: SparkSession,
    month: Window,
    settings: RatingSettings,
    pricing: Pricing,
    tenants: tuple[Tenant, ...],
) -> None:
    """Run the rating SQL on ``spark`` (``usage_intervals`` already registered) and audit it;
    the four outputs are left as materialised views of those names (:func:`spark_outputs`)."""
    from metering.rating.run import INTERMEDIATE, MARTS, audit_names

    tables = rating_inputs(month, settings, pricing, tenants)
    for name, table in tables.items():
        register_arrow(spark, name, table)
    for model in (*INTERMEDIATE, *MARTS):
        _materialise(spark.sql(spark_sql(model))).createOrReplaceTempView(Path(model).stem)
    for name in audit_names():
        raise_on_audit(name, _collect(spark.sql(spark_sql(name))).to_pylist(), month)


@cache
def sort_keys(name: str) -> tuple[str, ...]:
    """The columns of output ``name``'s ORDER BY in ``sql/marts/<name>.sql``, all ascending
    with nulls last (the translation's ordering); the slices follow exactly this order."""
    tree = sqlglot.parse_one(read_sql(f"marts/{name}.sql"), read="duckdb")
    order = tree.args.get("order")
    terms = order.expressions if order is not None else []
    keys = tuple(t.this.name for t in terms if isinstance(t.this, exp.Column))
    plain = all(not t.args.get("desc") and not t.args.get("nulls_first") for t in terms)
    if (
        not keys
        or len(keys) != len(terms)
        or not plain
        or not set(keys) <= set(OUTPUT_SCHEMAS[name].names)
    ):
        raise RatingError(f"marts/{name}.sql: cannot slice by its ORDER BY (output columns, asc)")
    return keys


Key = tuple[Any, ...]
Range = tuple[Key, Key]  # inclusive bounds on a prefix of the sort keys


def _equal(col: Column, value: Any) -> Column:
    return col.isNull() if value is None else col == value


def _beyond(col: Column, value: Any, after: bool) -> Column | None:
    """``col`` strictly after (or before) ``value`` in ascending order, nulls last."""
    if after:
        return None if value is None else (col > value) | col.isNull()
    return col.isNotNull() if value is None else col < value


def _bound(frame: DataFrame, cols: Sequence[str], key: Key, after: bool) -> Column:
    """Rows whose first ``len(key)`` sort columns are ``key`` or lie after (before) it."""
    col, value = frame[cols[0]], key[0]
    same = _equal(col, value)
    if len(key) > 1:
        same = same & _bound(frame, cols[1:], key[1:], after)
    beyond = _beyond(col, value, after)
    return same if beyond is None else beyond | same


def _in_range(frame: DataFrame, cols: Sequence[str], bounds: Range) -> Column:
    return _bound(frame, cols, bounds[0], True) & _bound(frame, cols, bounds[1], False)


def _group_counts(frame: DataFrame, cols: Sequence[str], prefix: Key) -> list[tuple[Key, int]]:
    """Rows per value of the first ``len(prefix) + 1`` sort columns, within ``prefix``, in
    sort order (one small query: a row per tenant, or per site of one tenant ...)."""
    scope = frame
    for col, value in zip(cols, prefix, strict=False):
        scope = scope.where(_equal(frame[col], value))
    keys = list(cols[: len(prefix) + 1])
    groups = scope.groupBy(*keys).count()
    table = _collect(groups.orderBy(*[groups[k].asc_nulls_last() for k in keys]))
    return [(tuple(row[k] for k in keys), row["count"]) for row in table.to_pylist()]


def slice_plan(
    frame: DataFrame, cols: Sequence[str], slice_rows: int, prefix: Key = ()
) -> Iterator[Range]:
    """Consecutive ranges of ``frame``'s sort keys covering it in order, each of at most
    ``slice_rows`` rows unless one whole key (a full sort key: one row) is larger. Runs of
    small groups make one range; a group above ``slice_rows`` is split on the next column."""
    run: list[Key] = []
    total = 0
    for key, rows in _group_counts(frame, cols, prefix):
        if run and (total + rows > slice_rows or rows > slice_rows):
            yield run[0], run[-1]
            run, total = [], 0
        if rows > slice_rows and len(key) < len(cols):
            yield from slice_plan(frame, cols, slice_rows, key)
            continue
        run.append(key)
        total += rows
    if run:
        yield run[0], run[-1]


def _sliced(spark: SparkSession, name: str, slice_rows: int) -> Iterator[pa.RecordBatch]:
    frame = spark.table(name)
    cols = sort_keys(name)
    order = [frame[c].asc_nulls_last() for c in cols]
    for bounds in slice_plan(frame, cols, slice_rows):
        part = conform(name, _collect(frame.where(_in_range(frame, cols, bounds)).orderBy(*order)))
        yield from (batch for batch in part.to_batches() if batch.num_rows)
        del part  # before the next slice is collected


def spark_reader(spark: SparkSession, name: str, slice_rows: int) -> pa.RecordBatchReader:
    """Output ``name`` (rated on ``spark``) as a stream of Arrow batches, slice by slice."""
    return pa.RecordBatchReader.from_batches(OUTPUT_SCHEMAS[name], _sliced(spark, name, slice_rows))


def spark_outputs(spark: SparkSession, slice_rows: int = SLICE_ROWS) -> dict[str, Batches]:
    """The outputs rated on ``spark`` in the form :func:`metering.rating.run.publish` takes."""
    from metering.rating.run import OUTPUTS

    return {name: partial(spark_reader, spark, name, slice_rows) for name in OUTPUTS}


def rate_month_spark(
    config: ProviderConfig,
    month: Window,
    master: str | None = None,
    slice_rows: int = SLICE_ROWS,
) -> RatingResult:
    """Rate ``month`` on Spark and write the four outputs, streamed slice by slice."""
    from metering.rating.days import month_usage
    from metering.rating.run import load_inputs, publish

    settings, pricing, tenants = load_inputs(config)
    usage = month_usage(config, month)
    with spark_session(master) as spark:
        register_usage(spark, usage.files)
        rate_on_spark(spark, month, settings, pricing, tenants)
        return publish(config, month, spark_outputs(spark, slice_rows), usage=usage)
