"""Rating a month on Apache Spark: the same SQL files, views and outputs as on DuckDB.

``rate_month_spark`` registers on a Spark session the views the rating SQL reads
(``usage_intervals`` over the month's Parquet files in the lake, the pricing and catalog
tables of :mod:`metering.rating.tables`, ``rating_params``), runs each rating SQL file as
translated by :mod:`metering.rating.portable`, runs the audits, collects the four outputs to
Arrow in the exact schemas of the DuckDB path and writes them to the lake the same way.

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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from metering.config import ProviderConfig
from metering.errors import ConfigError
from metering.rating.catalog import Tenant
from metering.rating.intervals import INTERVALS_SCHEMA
from metering.rating.outputs import conform, raise_on_audit, rating_inputs
from metering.rating.policy import Pricing
from metering.rating.portable import spark_sql
from metering.rating.settings import RatingSettings
from metering.window import Window

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

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
MISSING = "the Spark engine needs the spark extra: pip install 'metering[spark]'"


def _pyspark() -> Any:
    try:
        with warnings.catch_warnings():
            # PySpark warns on import about pandas 3; metering never hands it pandas.
            warnings.simplefilter("ignore", FutureWarning)
            import pyspark.sql

        return pyspark.sql
    except ImportError:
        raise ConfigError(MISSING) from None


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
    """Temp view ``usage_intervals`` over the month's Parquet files (read by Spark itself)."""
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
    *,
    estimated: bool,
) -> dict[str, pa.Table]:
    """Run the rating SQL on ``spark`` (``usage_intervals`` already registered) and audit it;
    the outputs in the DuckDB path's exact schemas."""
    from metering.rating.run import INTERMEDIATE, MARTS, OUTPUTS, audit_names

    tables = rating_inputs(month, settings, pricing, tenants, estimated=estimated)
    for name, table in tables.items():
        register_arrow(spark, name, table)
    for model in (*INTERMEDIATE, *MARTS):
        _materialise(spark.sql(spark_sql(model))).createOrReplaceTempView(Path(model).stem)
    for name in audit_names():
        raise_on_audit(name, _collect(spark.sql(spark_sql(name))).to_pylist(), month)
    return {name: conform(name, _collect(spark.table(name))) for name in OUTPUTS}


def rate_tables_spark(
    config: ProviderConfig, month: Window, master: str | None = None
) -> tuple[dict[str, pa.Table], bool]:
    """The month's four rating outputs computed on Spark (not written), and ``estimated``."""
    from metering.rating.engines import month_usage_files
    from metering.rating.run import load_inputs

    settings, pricing, tenants = load_inputs(config)
    files, estimated = month_usage_files(config, month)
    with spark_session(master) as spark:
        register_usage(spark, files)
        tables = rate_on_spark(spark, month, settings, pricing, tenants, estimated=estimated)
    return tables, estimated
