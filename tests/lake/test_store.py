"""The lake: schemas documented, writes atomic and idempotent, readers filter by window."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from metering.errors import LakeError
from metering.lake import storage, store
from metering.lake.schemas import COMMON, DATASETS, doc, markdown_table
from metering.window import Window

T0 = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "collectors.md"


def vm_row(t: datetime, vm: str = "urn:vcloud:vm:1", **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "site": "az1",
        "source": "vcd",
        "run_id": "r1",
        "collected_at": t,
        "sample_time": t,
        "vm_id": vm,
        "vm_name": "web01",
        "org_name": "acme",
        "status": "POWERED_ON",
        "powered_on": True,
        "vcpu": 4,
        "memory_mb": 16384,
        "storage_mb": 102400,
        "storage_policy": "Gold",
        "is_tkg_node": False,
    }
    row.update(overrides)
    return row


def test_every_field_has_a_doc_and_every_sample_dataset_the_common_columns() -> None:
    for name, dataset in DATASETS.items():
        for f in dataset.schema:
            assert doc(f), f"{name}.{f.name} has no doc"
        if name not in ("runs", "quarantine"):
            assert dataset.schema.names[:5] == [f.name for f in COMMON]


def test_docs_page_has_each_dataset_table_in_sync() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name in DATASETS:
        match = re.search(rf"<!-- table:{name} -->\n(.*?)\n<!-- /table:{name} -->", text, re.S)
        assert match, f"docs/collectors.md lacks the table of {name}"
        assert match.group(1) == markdown_table(name), f"table of {name} is stale"


def test_write_same_sample_twice_replaces_not_duplicates(tmp_path: Path) -> None:
    store.write_partition(
        tmp_path, "vcd_vm", "az1", T0, [vm_row(T0), vm_row(T0, "urn:vcloud:vm:2")]
    )
    store.write_partition(tmp_path, "vcd_vm", "az1", T0, [vm_row(T0, vcpu=8)])
    path = tmp_path / "vcd_vm" / "site=az1" / "date=2026-10-01" / "20261001T0000Z.parquet"
    assert path.is_file()
    table = store.read_dataset(tmp_path, "vcd_vm")
    assert table.num_rows == 1 and table.column("vcpu").to_pylist() == [8]
    assert not list(path.parent.glob("*.tmp"))  # no temp file left behind
    meta = pq.read_metadata(path)
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_empty_sample_is_a_file_so_no_resources_differs_from_a_gap(tmp_path: Path) -> None:
    store.write_partition(tmp_path, "alp_app", "az1", T0, [])
    assert store.sample_keys(tmp_path, "alp_app", "az1") == {"20261001T0000Z"}
    assert store.read_dataset(tmp_path, "alp_app").num_rows == 0


def test_bad_rows_are_refused_with_the_column_named(tmp_path: Path) -> None:
    with pytest.raises(LakeError, match="unknown column"):
        store.write_partition(tmp_path, "vcd_vm", "az1", T0, [vm_row(T0, cpu=4)])
    with pytest.raises(LakeError, match="vcd_vm"):
        store.write_partition(tmp_path, "vcd_vm", "az1", T0, [vm_row(T0, vcpu=None)])
    assert store.dataset_files(tmp_path, "vcd_vm") == []


def test_read_filters_site_and_window_and_duckdb_reads_the_hive_layout(tmp_path: Path) -> None:
    for hour in range(30):
        t = T0 + timedelta(hours=hour)
        for site in ("az1", "az2"):
            store.write_partition(tmp_path, "vcd_vm", site, t, [vm_row(t, site=site)])
    window = Window(T0 + timedelta(hours=20), T0 + timedelta(hours=26))
    table = store.read_dataset(tmp_path, "vcd_vm", site="az2", window=window)
    assert table.num_rows == 6 and set(table.column("site").to_pylist()) == {"az2"}
    pattern = store.glob_pattern(tmp_path, "vcd_vm")
    count = duckdb.sql(
        f"select count(*), count(distinct site) from read_parquet('{pattern}',"
        " hive_partitioning=true) where date = '2026-10-02'"
    ).fetchall()
    assert count == [(12, 2)]


@pytest.mark.parametrize(("umask", "mode"), [(0o027, 0o640), (0o077, 0o600), (0o022, 0o644)])
def test_lake_files_get_the_mode_the_umask_gives(tmp_path: Path, umask: int, mode: int) -> None:
    # The systemd unit sets UMask=0027 so the service's group (finance) can read the lake;
    # a temp file from mkstemp would be 0600 whatever the umask.
    old = os.umask(umask)
    try:
        parquet = store.write_partition(tmp_path / "lake", "vcd_vm", "az1", T0, [vm_row(T0)])
        other = tmp_path / "close" / "invoice.pdf"
        storage.write_bytes(other, b"%PDF-")
    finally:
        os.umask(old)
    assert stat.S_IMODE(parquet.stat().st_mode) == mode
    assert stat.S_IMODE(other.stat().st_mode) == mode
    assert storage.process_umask() == old
