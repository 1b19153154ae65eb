"""The completeness gate on a lake as the collectors and nightly runs leave it: a complete
month is issued; a month missing a night, holding one collected hour, with unrated usage, not
yet ended, or with a site down is refused (no number) with one line per problem."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from metering.cli import main
from metering.close.register import DocumentState, Register
from metering.close.run import close_month
from metering.close.settings import load_settings
from metering.config import ProviderConfig, load_config
from metering.errors import IncompleteMonth
from metering.lake.store import write_partition
from metering.rating.consolidate import consolidate_day, intervals_path
from metering.rating.warehouse import build_warehouse
from metering.window import Window
from tests.close.month_lake import (
    AFTER,
    CARD,
    INTERVAL,
    OCT,
    build,
    collect_instant,
    copy,
    write_provider,
)
from tests.rating.conftest import write_card


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gate") / "month"
    build(root)
    return root


@pytest.fixture
def month(template: Path, tmp_path: Path) -> ProviderConfig:
    return copy(template, tmp_path / "month")


def close(config: ProviderConfig, **kwargs: object):  # type: ignore[no-untyped-def]
    return close_month(config, OCT, now=AFTER, show_progress=False, **kwargs)  # type: ignore[arg-type]


def numbered(config: ProviderConfig) -> dict[str, str]:
    register = Register(load_settings(config).register_path, config.name)
    try:
        return {d.tenant_id: str(d.number) for d in register.documents() if d.number}
    finally:
        register.close()


def test_a_complete_month_passes_the_gate_and_is_issued(
    month: ProviderConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    result = close(month)
    assert result.problems == () and result.held == {} and not result.refused
    assert result.invoices == ("INV-2026-000001", "INV-2026-000002")
    assert result.outputs["provider_csv"].is_file()
    # coverage is data: every site x source x hour of the month, in the lake and warehouse
    build_warehouse(month)
    with duckdb.connect(str(month.warehouse_path), read_only=True) as con:
        rows = con.execute(
            "select site, source, sum(expected), sum(collected), count(*), "
            "count(*) filter (where status = 'complete') from coverage "
            "group by site, source order by site, source"
        ).fetchall()
    instants = 31 * 4
    assert rows == [
        (site, source, instants, instants, 31 * 24, instants)
        for site in ("az1", "az2")
        for source in ("alp", "cse", "dse", "vcd")
    ]
    assert main(["coverage", "--month", "2026-10", "-c", str(month.source_file)]) == 0
    out = capsys.readouterr().out
    assert "Coverage 2026-10, site az2" in out and "every site × source × day at or above" in out


def test_a_future_month_is_refused_before_anything_and_numbers_nothing(
    month: ProviderConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    future = Window.month(2031, 1)
    with pytest.raises(IncompleteMonth, match=r"the month has not ended; fix: wait until 2031-02"):
        close_month(month, future, now=AFTER, show_progress=False)
    # ended, but inside [close] grace_hours (default 2): late data may still come in
    early = datetime(2026, 11, 1, 1, 30, tzinfo=UTC)
    with pytest.raises(IncompleteMonth, match=r"ended less than \[close\] grace_hours ago"):
        close_month(month, OCT, now=early, show_progress=False)
    assert main(["close", "--month", "2031-01", "-c", str(month.source_file)]) == 1
    assert "the month has not ended" in capsys.readouterr().err
    assert numbered(month) == {}
    # a draft stays allowed and says what a final close would refuse
    draft = close_month(month, OCT, now=early, show_progress=False, draft_only=True)
    assert draft.invoices == () and len(draft.drafts) == 2
    assert any("grace_hours" in line for line in draft.problems)
    assert numbered(month) == {}


def test_a_missing_night_holds_every_tenant_and_numbers_nothing(
    month: ProviderConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    intervals_path(month.lake, date(2026, 10, 14)).unlink()  # a failed night, or deleted
    result = close(month)
    assert result.refused and result.invoices == () and set(result.held) == {"acme", "beta"}
    assert result.problems == (
        "all sites all sources 2026-10-14: not consolidated; "
        "fix: `metering run nightly --date 2026-10-14`",
    )
    assert numbered(month) == {}
    assert not (result.out_dir / "invoices" / "2026-10").exists()
    assert not result.outputs["provider_csv"].exists()  # no report from an incomplete month
    assert main(["close", "--month", "2026-10", "-c", str(month.source_file)]) == 1
    err = capsys.readouterr().err
    assert "2026-10 is incomplete: 2 tenant(s) held" in err
    assert "all sites all sources 2026-10-14: not consolidated; fix:" in err

    consolidate_day(month, date(2026, 10, 14))  # the night re-run: the next close issues
    assert close(month).invoices == ("INV-2026-000001", "INV-2026-000002")


def test_a_lake_holding_one_collected_hour_is_refused(tmp_path: Path) -> None:
    config = load_config(write_provider(tmp_path))
    for site in ("az1", "az2"):
        collect_instant(config, OCT.start, site)
    consolidate_day(config, OCT.start.date())
    result = close(config)
    assert result.refused and result.invoices == () and numbered(config) == {}
    assert result.problems[0] == (
        "all sites all sources 2026-10-02 .. 2026-10-31: not consolidated; "
        "fix: `metering run nightly --date 2026-10-02` for each day to 2026-10-31"
    )
    assert (
        "az1 vcd 2026-10-01 .. 2026-10-31: 1/124 instants collected "
        "(outage: no collection ran); fix: missed samples cannot be re-read"
    ) in "\n".join(result.problems)


def test_unrated_usage_holds_the_tenants_it_names(month: ProviderConfig) -> None:
    write_card(month.pricing_dir, CARD.replace('product = "ram"', 'product = "tkg_cluster"'))
    result = close(month)  # re-rates: RAM now has no price
    assert result.refused and result.invoices == () and numbered(month) == {}
    assert set(result.held) == {"acme", "beta"}
    unrated = [line for line in result.problems if "unrated" in line]
    assert [line.split(":")[0] for line in unrated] == ["az1 all sources", "az2 all sources"]
    assert "unrated row(s) of ram (no price: plan std has no rate for ram in force)" in unrated[0]
    assert "fix: add a rate for ram to the pricing policy, then `metering rate" in unrated[0]


def test_one_site_down_holds_only_its_own_tenants_until_accepted(month: ProviderConfig) -> None:
    day = date(2026, 10, 20)
    down = Window.day(day)
    for t in down.steps(INTERVAL):  # az2's VCD unreachable all day: no sample files ...
        for dataset in ("vcd_vm", "vcd_org", "vcd_org_vdc", "vcd_sizing_policy"):
            path = month.lake / dataset / "site=az2" / f"date={day}" / f"{t:%Y%m%dT%H%MZ}.parquet"
            path.unlink()
    failed = {  # ... and the run log says the 06:00 run failed
        "run_id": "r-failed",
        "site": "az2",
        "source": "vcd",
        "sample_time": down.start.replace(hour=6),
        "window_start": down.start.replace(hour=6),
        "window_end": down.start.replace(hour=12),
        "status": "failed",
        "rows": 0,
        "quarantined": 0,
        "errors": 1,
        "error": "az2 unreachable",
        "datasets": [],
        "started_at": down.start.replace(hour=6),
        "finished_at": down.start.replace(hour=6),
        "duration_ms": 1,
    }
    write_partition(month.lake, "runs", "az2", down.start.replace(hour=6), [failed], suffix="r")
    consolidate_day(month, day)

    result = close(month)
    assert result.refused and result.invoices == ("INV-2026-000001",)  # acme, on az1 only
    assert set(result.held) == {"beta"} and numbered(month) == {"acme": "INV-2026-000001"}
    assert result.problems == (
        "az2 vcd 2026-10-20: 0/4 instants collected (1 failed run(s)); fix: missed samples "
        "cannot be re-read; see `metering runs`, then decide with finance: "
        '`metering close --month 2026-10 --accept-gaps "<reason>"`',
    )

    reason = "az2 VCD down on the 20th; agreed with finance"
    accepted = close(month, accept_gaps=reason)
    assert accepted.invoices == ("INV-2026-000002",) and accepted.accepted_gaps == reason
    documents = pq.read_table(accepted.outputs["documents"]).to_pylist()
    assert {(d["tenant_id"], d["accepted_gaps"]) for d in documents} == {
        ("acme", None),
        ("beta", reason),
    }
    build_warehouse(month)
    with duckdb.connect(str(month.warehouse_path), read_only=True) as con:
        shown = con.execute(
            "select number, accepted_gaps from documents where accepted_gaps is not null"
        ).fetchall()
        hours = con.execute(
            "select status, count(*) from coverage where site = 'az2' and source = 'vcd' "
            "and cast(hour as date) = '2026-10-20' and expected > 0 group by status"
        ).fetchall()
    assert shown == [("INV-2026-000002", reason)]
    assert sorted(hours) == [("failed", 1), ("outage", 3)]
    register = Register(load_settings(month).register_path, month.name)
    assert {d.state for d in register.documents("2026-10")} == {DocumentState.ISSUED}


def test_a_collect_run_that_died_shows_as_interrupted_in_coverage(month: ProviderConfig) -> None:
    from metering.completeness.coverage import write_day
    from metering.pipelines.history import RunHistory
    from metering.pipelines.settings import load_settings as scheduler_settings

    day = date(2026, 10, 10)
    at = datetime(2026, 10, 10, 6, tzinfo=UTC)
    (month.lake / "vcd_vm" / "site=az1" / f"date={day}" / "20261010T0600Z.parquet").unlink()
    history = RunHistory(scheduler_settings(month).history_path)
    try:  # the collect run of 06:00 was running when its process died
        history.start_run("collect", "2026-10-10T06:00Z", Window(at, at + INTERVAL), "schedule")
        assert [r.pipeline for r in history.mark_abandoned()] == ["collect"]
    finally:
        history.close()
    rows = write_day(month, day).to_pylist()
    hour = next(r for r in rows if r["site"] == "az1" and r["source"] == "vcd" and r["hour"] == at)
    assert (hour["expected"], hour["collected"], hour["status"]) == (1, 0, "interrupted")
    assert hour["interrupted_runs"] == 1
    result = close(month)
    assert result.problems == (
        "az1 vcd 2026-10-10: 3/4 instants collected (1 interrupted run(s)); fix: missed "
        "samples cannot be re-read; see `metering runs`, then decide with finance: "
        '`metering close --month 2026-10 --accept-gaps "<reason>"`',
    )
    assert set(result.held) == {"acme"} and result.invoices == ("INV-2026-000001",)


def test_a_site_down_all_month_holds_every_tenant(month: ProviderConfig) -> None:
    """Nothing collected on az2 all month: no usage there says whose resources it runs, so a
    tenant seen only on az1 (acme) may be missing az2's share and waits too."""
    for dataset in ("vcd_vm", "vcd_org", "vcd_org_vdc", "vcd_sizing_policy"):
        shutil.rmtree(month.lake / dataset / "site=az2")
    for day in OCT.days():
        consolidate_day(month, day)

    result = close(month)
    assert result.refused and result.invoices == () and numbered(month) == {}
    assert "acme" in result.held
    assert any(p.startswith("az2 vcd 2026-10-01 .. 2026-10-31: 0/") for p in result.problems)

    reason = "az2 lost for October; agreed with finance"
    accepted = close(month, accept_gaps=reason)
    assert accepted.accepted_gaps == reason and set(numbered(month)) == {"acme", "beta"}


def test_the_warehouse_shows_the_issued_documents_and_closed_totals_with_comments(
    month: ProviderConfig,
) -> None:
    build_warehouse(month)  # not rated, not closed: no documents yet, the view is there
    with duckdb.connect(str(month.warehouse_path), read_only=True) as con:
        assert con.execute("select count(*) from documents").fetchall() == [(0,)]
    assert close(month).invoices == ("INV-2026-000001", "INV-2026-000002")
    build_warehouse(month)
    register = Register(load_settings(month).register_path, month.name)
    try:
        issued = register.documents("2026-10", state=DocumentState.ISSUED)
    finally:
        register.close()
    expected = [
        (
            d.number,
            d.kind.value,
            d.state.value,
            d.tenant_id,
            d.body["tenant_name"],
            date(2026, 10, 1),
            D(d.body["totals"]["subtotal_amount"]),
            D(d.body["totals"]["tax_amount"]),
            D(d.total_amount),
            None,
            None,
        )
        for d in issued
    ]
    with duckdb.connect(str(month.warehouse_path), read_only=True) as con:
        shown = con.execute(
            "select number, kind, state, tenant_id, tenant_name, month, subtotal_amount, "
            "tax_amount, total_amount, credits_number, replaces_number from documents "
            "order by number"
        ).fetchall()
        totals = con.execute(
            "select t.tenant_id, t.status, t.invoice_number, t.total_amount = d.total_amount "
            "from invoice_totals t left join documents d on d.number = t.invoice_number "
            "order by t.tenant_id"
        ).fetchall()
        undescribed = con.execute(
            "select table_name || '.' || column_name from duckdb_columns() "
            "where database_name = current_database() and schema_name = 'main' "
            "and comment is null"
        ).fetchall()
        (meaning,) = con.execute(
            "select comment from duckdb_columns() where schema_name = 'main' "
            "and table_name = 'invoice_totals' and column_name = 'status'"
        ).fetchone()  # type: ignore[misc]
    assert len(expected) == 2 and shown == expected
    numbers = numbered(month)
    assert [(t, s, n) for t, s, n, _ in totals if s == "closed"] == [
        (tenant, "closed", numbers[tenant]) for tenant in sorted(numbers)
    ]
    assert all(same for _, s, _, same in totals if s == "closed")
    assert [t for t, s, n, _ in totals if s == "estimate" and n is None] == [
        t for t, *_ in totals if t not in numbers
    ]
    assert undescribed == []  # every column documented (docs/data-dictionary.md, schemas.py)
    assert meaning.startswith("closed once the month's close issued the tenant's invoice")
