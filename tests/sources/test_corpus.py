"""The corpus of real-shaped answers (tests/sources/corpus/<source>/*.json) replayed through
the CSE, DSE, OSE and ALP collectors over HTTP on loopback.

Every fixture names the public source its shapes were checked against (``source``) and says
what the collector must make of it: the exact rows, the records quarantined (with a reason
naming the field), or the one-line error that fails the part.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from metering.sources import alp, cse, dse, ose
from metering.sources.base import Context, Part
from metering.sources.http import SiteClient
from metering.sources.records import Batch

from .corpus_server import CORPUS, PASSWORD, CorpusSite, load

COLLECTORS: dict[str, ModuleType] = {"cse": cse, "dse": dse, "ose": ose, "alp": alp}
# corpus/vcd and corpus/cloudian are replayed whole-source by test_vcd_corpus.py and
# test_cloudian_corpus.py (their own file formats)
FIXTURES = sorted(p for p in CORPUS.glob("*/*.json") if p.parent.name not in ("vcd", "cloudian"))
AT = datetime(2026, 10, 15, 12, tzinfo=UTC)


def _part(source: str, dataset: str) -> Part:
    parts: tuple[Part, ...] = COLLECTORS[source].PARTS
    return next(p for p in parts if p.datasets[0] == dataset)


async def _run(fixture: dict[str, Any]) -> list[Batch] | Exception:
    with CorpusSite(fixture) as served:
        client = SiteClient(served.site())
        try:
            ctx = Context(client, sample_time=AT)
            return await _part(fixture["collector"], fixture["part"]).run(ctx)
        except Exception as exc:  # the part's failure is what some fixtures expect
            return exc
        finally:
            await client.aclose()


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def test_the_corpus_covers_every_source_with_each_kind_of_outcome() -> None:
    kinds: dict[str, set[str]] = {}
    for path in FIXTURES:
        fixture = load(path)
        assert fixture["source"].strip(), f"{path.name} names no public source"
        assert fixture["collector"] == path.parent.name
        expect = fixture["expect"]
        got = kinds.setdefault(path.parent.name, set())
        got |= {"error"} if "error" in expect else set()
        got |= {"rows"} if any(expect.get("rows", {}).values()) else set()
        got |= {"quarantined"} if expect.get("quarantined") else set()
    assert {k: v for k, v in kinds.items()} == {
        "cse": {"rows", "quarantined", "error"},
        "dse": {"rows", "quarantined", "error"},
        "ose": {"rows", "quarantined", "error"},
        "alp": {"rows", "quarantined", "error"},
    }


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_corpus_fixture(path: Path) -> None:
    fixture = load(path)
    expect = fixture["expect"]
    outcome = asyncio.run(_run(fixture))
    if "error" in expect:
        assert isinstance(outcome, Exception), f"the part should fail, it gave {outcome!r}"
        message = str(outcome)
        assert expect["error"] in message
        assert "\n" not in message and PASSWORD not in message
        return
    assert not isinstance(outcome, Exception), f"the part failed: {outcome}"
    batches = {b.dataset: b for b in outcome}
    for dataset, rows in expect.get("rows", {}).items():
        assert [_plain(r) for r in batches[dataset].rows] == rows, dataset
    rejected = [q for b in outcome for q in b.rejected]
    want = expect.get("quarantined", [])
    assert [(q.dataset, q.record_key) for q in rejected] == [(w["dataset"], w["key"]) for w in want]
    for q, w in zip(rejected, want, strict=True):
        assert q.reason.startswith(w["field"]), (q.reason, w["field"])
