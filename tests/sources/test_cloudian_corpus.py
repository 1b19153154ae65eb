"""The Cloudian corpus (tests/sources/corpus/cloudian/*.json), each case replayed over real
HTTP on loopback through the real collector: values that must parse exactly, records that
must be quarantined with a reason naming the field, answers that must fail their part."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from metering.config import ProviderConfig, parse_config
from metering.lake import store
from metering.sources.collect import Options, collect

from .cloudian_corpus_server import CORPUS, Replay, load

AT = datetime(2026, 10, 2, tzinfo=UTC)  # a daily run: Cloudian is due, the series hour is 23:00
HOUR_BEFORE = datetime(2026, 10, 1, 23, tzinfo=UTC)
CASES = sorted(p.name for p in (CORPUS / "cloudian").glob("*.json"))


async def _no_sleep(_: float) -> None:
    return None


def _config(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> ProviderConfig:
    monkeypatch.setenv("T_CLOUDIAN_PW", "corpus-secret")
    monkeypatch.setenv("T_VCD_PW", "unused")
    site = {
        "name": "az1",
        "vcd_url": "http://127.0.0.1:9/az1/vcd",  # only Cloudian is collected here
        "vcd_user": "admin",
        "vcd_password_env": "T_VCD_PW",
        "cloudian_url": url,
        "cloudian_password_env": "T_CLOUDIAN_PW",
    }
    raw = {
        "provider": {"name": "t", "lake_dir": "lake", "tenant_catalog": "t", "pricing_dir": "p"},
        "sites": [site],
    }
    return parse_config(raw, tmp_path / "provider.toml")


def _seed(config: ProviderConfig, buckets: list[dict[str, Any]], at: datetime) -> None:
    """Bucket samples an earlier run wrote at ``at`` (the lake 'saw' them then)."""
    meta = {"site": "az1", "source": "cloudian", "run_id": "seed", "collected_at": at,
            "sample_time": at}  # fmt: skip
    rows = [{**b, **meta} for b in buckets]
    store.write_partition(config.lake, "cloudian_bucket_usage", "az1", at, rows)


def _subset(row: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in wanted}


@pytest.mark.parametrize("name", CASES)
def test_cloudian_corpus_case(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    case = load(f"cloudian/{name}")
    expect = case["expect"]
    with Replay(case["answers"]) as url:
        config = _config(tmp_path, url, monkeypatch)
        seen = datetime.fromisoformat(case.get("lake_seen_at", HOUR_BEFORE.isoformat()))
        _seed(config, case.get("lake_buckets", []), seen)
        summary = collect(config, AT, sources=["cloudian"], options=Options(sleep=_no_sleep))
    (result,) = summary.results
    assert result.status == expect["status"], result.line()
    if "error" in expect:
        assert result.error is not None and expect["error"] in result.error, result.error
        assert "corpus-secret" not in result.error
    else:
        assert result.error is None, result.error
    assert sorted(result.failed_datasets) == sorted(expect.get("failed", []))
    for dataset, rows in expect.get("rows", {}).items():
        table = store.read_dataset(config.lake, dataset, site="az1")
        got = [r for r in table.to_pylist() if r["run_id"] != "seed"]
        got = sorted(
            (_subset(r, rows[0]) for r in got) if rows else got,
            key=lambda r: tuple(str(v) for v in r.values()),
        )
        want = sorted(rows, key=lambda r: tuple(str(v) for v in r.values()))
        assert got == want, dataset
    quarantine = store.read_dataset(config.lake, "quarantine", site="az1").to_pylist()
    reasons = sorted((q["dataset"], q["reason"]) for q in quarantine)
    wanted = sorted((q["dataset"], q["reason"]) for q in expect.get("quarantined", []))
    assert reasons == wanted
    runs = store.read_dataset(config.lake, "runs", site="az1").to_pylist()
    assert [(r["status"], r["quarantined"]) for r in runs] == [(expect["status"], len(wanted))]


def test_every_corpus_file_names_its_source_and_is_replayed() -> None:
    assert len(CASES) >= 15
    for name in CASES:
        case = load(f"cloudian/{name}")
        assert "public" in case["source"] or "[I]" in case["source"] or "/" in case["source"]
        assert case["expect"]["status"] in ("ok", "partial", "failed")
