"""Exact Kubernetes quantities and record readers that name the bad field."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metering.sources.records import (
    Batch,
    RecordError,
    cpu_millicores,
    memory_bytes,
    opt_time,
    req_int,
)


@pytest.mark.parametrize(
    ("text", "milli"),
    [("2", 2000), ("1500m", 1500), ("0.5", 500), ("100m", 100), ("0.001", 1), (3, 3000)],
)
def test_cpu_quantities_are_exact_millicores(text: str, milli: int) -> None:
    assert cpu_millicores(text) == milli


@pytest.mark.parametrize("text", ["0.0005", "1.5m", "abc", "-1", "", "2x"])
def test_cpu_quantities_that_are_not_whole_millicores_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="quantity"):
        cpu_millicores(text)


@given(st.integers(min_value=0, max_value=10**9))
def test_cpu_millicores_round_trip(milli: int) -> None:
    assert cpu_millicores(f"{milli}m") == milli
    assert cpu_millicores(str(milli / 1000 if milli % 1000 else milli // 1000)) == milli


def test_memory_quantities() -> None:
    assert memory_bytes("4Gi") == 4 * 2**30
    assert memory_bytes("512Mi") == 512 * 2**20
    assert memory_bytes("1G") == 10**9
    assert memory_bytes("1.5Gi") == 3 * 2**29


def test_batch_quarantines_a_bad_record_with_its_reason_and_raw_json() -> None:
    batch = Batch("vcd_vm")
    records = [{"id": "a", "n": 1}, {"id": "b", "n": "x"}, "not-an-object"]
    batch.map(records, lambda r: {"n": req_int(r, "n")}, "id")
    assert batch.rows == [{"n": 1}]
    assert [(q.record_key, q.reason.split(":")[0]) for q in batch.rejected] == [
        ("b", "n"),
        ("#2", "record is a str, not an object"),
    ]
    assert batch.rejected[0].raw_record == '{"id": "b", "n": "x"}'


def test_epoch_millis_timestamps() -> None:
    assert opt_time({"t": "1704067200000"}, "t").isoformat() == "2024-01-01T00:00:00+00:00"  # type: ignore[union-attr]
    with pytest.raises(RecordError, match="t: not a timestamp"):
        opt_time({"t": "yesterday"}, "t")
