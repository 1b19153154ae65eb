"""Real Apache Spark (PySpark local mode, a JVM) rates the fixture month exactly as DuckDB does.

Slower than the Sail tests (a JVM starts); CI runs it too: ``run.sh test`` installs a JRE.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.rating import fixture_month

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("PySpark local mode needs Java (run.sh test installs it)", allow_module_level=True)

from tests.rating.test_spark import (
    assert_identical,
    assert_slices_concatenate_in_order,
    rate_both,
)


@pytest.mark.slow
def test_fixture_month_on_pyspark_local_equals_duckdb(tmp_path: Path) -> None:
    duck, on_spark = rate_both(tmp_path, fixture_month.usage(resources=60), "local[2]")
    assert_identical(duck, on_spark)
    assert duck["rated_usage"].num_rows > 100


@pytest.mark.slow
def test_slices_of_an_output_on_pyspark_local_concatenate_to_its_exact_order() -> None:
    assert_slices_concatenate_in_order("local[2]")
