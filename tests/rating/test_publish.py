"""Publishing the rating outputs: streamed in row groups, exact types, all four or none."""

from __future__ import annotations

import os
import stat
from decimal import Decimal as D
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metering.config import load_config
from metering.errors import RatingError
from metering.rating import publish as publishing
from metering.rating.outputs import OUTPUT_SCHEMAS
from metering.rating.run import OUTPUTS, output_path, publish, rate_month
from tests.rating.test_rate_month import OCT, provider  # noqa: F401 (fixture)


def files_of(config_lake: Path) -> dict[str, bytes]:
    """Every file under the lake's rating outputs, by relative path."""
    root = config_lake / "rating"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_outputs_stream_in_row_groups_with_the_same_rows(
    provider: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = load_config(provider)
    whole = rate_month(config, OCT)
    expected = {name: pq.read_table(path) for name, path in whole.paths.items()}
    assert expected["rated_usage"].num_rows >= 4

    monkeypatch.setattr(publishing, "ROW_GROUP_ROWS", 3)
    grouped = rate_month(config, OCT)
    rated = pq.ParquetFile(output_path(config.lake_dir, "rated_usage", OCT))
    sizes = [rated.metadata.row_group(i).num_rows for i in range(rated.num_row_groups)]
    assert sizes[:-1] == [3] * (len(sizes) - 1) and 0 < sizes[-1] <= 3 and len(sizes) > 1
    for name in OUTPUTS:  # same rows, order and types, whatever the row groups
        table = pq.read_table(output_path(config.lake_dir, name, OCT))
        assert table.schema == OUTPUT_SCHEMAS[name] and table.equals(expected[name]), name
    assert (grouped.rows, grouped.invoice_lines, grouped.tenants, grouped.totals) == (
        whole.rows,
        whole.invoice_lines,
        whole.tenants,
        whole.totals,
    )
    before = files_of(config.lake_dir)
    rate_month(config, OCT)
    assert files_of(config.lake_dir) == before  # re-rating writes the same bytes


def test_a_failed_publish_leaves_the_previous_outputs_and_no_temp_file(
    provider: Path,  # noqa: F811
) -> None:
    config = load_config(provider)
    result = rate_month(config, OCT)
    before = files_of(config.lake_dir)
    tables = {name: pq.read_table(path) for name, path in result.paths.items()}
    # A new rated_usage (written first), then totals whose amount has a third decimal: the
    # lossless cast to DECIMAL(18, 2) refuses it, after rated_usage was already streamed.
    tables["rated_usage"] = tables["rated_usage"].slice(0, 1)
    totals = tables["invoice_totals"]
    index = totals.schema.get_field_index("total_amount")
    wider = totals.schema.set(index, pa.field("total_amount", pa.decimal128(18, 3)))
    rows = totals.cast(wider).to_pylist()
    rows[0]["total_amount"] = D("1.005")
    tables["invoice_totals"] = pa.Table.from_pylist(rows, schema=wider)
    with pytest.raises(RatingError, match="invoice_totals: cannot keep its output types"):
        publish(config, OCT, {n: t.to_reader for n, t in tables.items()})
    assert files_of(config.lake_dir) == before


def test_published_outputs_get_the_mode_the_umask_gives(
    provider: Path,  # noqa: F811
) -> None:
    config = load_config(provider)
    old = os.umask(0o027)  # the shipped systemd unit's UMask: the service's group reads
    try:
        result = rate_month(config, OCT)
    finally:
        os.umask(old)
    modes = {name: stat.S_IMODE(Path(path).stat().st_mode) for name, path in result.paths.items()}
    assert modes == dict.fromkeys(OUTPUTS, 0o640)
