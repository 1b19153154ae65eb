"""Provider pages: months and their close state, a month's coverage, unmapped orgs, unrated
usage and downloads, revenue, and any tenant's own pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pyarrow as pa

from metering.config import load_config
from metering.lake import store
from metering.lake.schemas import COVERAGE_SCHEMA
from metering.portal import web
from metering.readmodel import BillingReadModel
from tests.close.builders import FROZEN_NOW, build_month
from tests.portal.conftest import Env, csrf_of, provider, tenant


def test_months_show_the_close_state_and_issued_totals(env: Env) -> None:
    html = provider(env).get("/provider/").text
    row = re.search(r"<tr><td><a href=\"/provider/months/2026-10\">.*?</tr>", html, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    # two issued: the case's unmapped org (EUR 7.44) is held by the close without a number
    assert cells[1:5] == ["yes", "closed", "2", "0"]
    assert "EUR 94.66" in cells[5] and "USD 200.88" in cells[5]  # acme's EUR; evil's USD


def test_a_month_lists_downloads_unmapped_orgs_and_documents(env: Env) -> None:
    staff = provider(env)
    html = staff.get("/provider/months/2026-10").text
    for name in ("provider-report-2026-10.csv", "focus-2026-10.csv", "focus-2026-10.parquet"):
        assert f"/provider/months/2026-10/files/{name}" in html
    assert "unmapped:orphan-org" in re.search(r'id="unmapped".*?</table>', html, re.S).group(0)
    focus = staff.get("/provider/months/2026-10/files/focus-2026-10.csv")
    assert focus.status_code == 200 and "InvoiceId" in focus.text
    for bad in ("../provider.toml", "..%2F..%2Fprovider.toml", "focus-2026-11.csv"):
        assert staff.get(f"/provider/months/2026-10/files/{bad}").status_code == 404
    assert staff.get("/provider/months/2026-13").status_code == 404


def test_revenue_and_a_tenants_pages_for_staff(env: Env) -> None:
    staff = provider(env)
    revenue = staff.get("/provider/revenue").text
    assert "ACME Industries GmbH" in revenue and "2026-10" in revenue
    mtd = staff.get("/provider/tenants/acme/")
    assert mtd.status_code == 200 and "EUR 94.66" in mtd.text
    pdf = staff.get("/provider/tenants/evil/documents/INV-2026-000002/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    # a tenant's document under another tenant's path is not found
    assert staff.get("/provider/tenants/acme/documents/INV-2026-000002/pdf").status_code == 404
    assert staff.get("/provider/tenants/nobody/").status_code == 404


def test_long_provider_tables_are_paged(env: Env, monkeypatch) -> None:
    monkeypatch.setattr(web, "PAGE_ROWS", 1)
    staff = provider(env)

    def ids(html: str, table: str, pattern: str) -> list[str]:
        return re.findall(pattern, re.search(f'id="{table}".*?</table>', html, re.S).group(0))

    everyone = [t.tenant_id for t in env.portal.model.tenants()]
    seen = []
    url: str | None = "/provider/tenants"
    while url is not None:
        html = staff.get(url).text
        seen += ids(html, "tenants", r"<tr><td>([^<]*)</td>")
        found = re.search(r'<a href="([^"]*)" rel="next">', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == everyone and len(everyone) > 1
    second = staff.get("/provider/tenants?offset=1").text
    assert f"tenants 2–2 of {len(everyone)}" in second and 'rel="prev"' in second
    docs = staff.get("/provider/months/2026-10?offset=1").text
    assert ids(docs, "docs", r">(INV-[\d-]+)</a>") == ["INV-2026-000001"]
    revenue = staff.get("/provider/revenue").text
    assert "ACME Industries GmbH" in revenue and "tenants 1–1 of" in revenue
    assert "ACME Industries GmbH" not in staff.get("/provider/revenue?offset=1").text
    assert staff.get("/provider/tenants?offset=x").status_code == 200  # the first page


def test_a_months_coverage_comes_from_the_coverage_dataset(env: Env) -> None:
    # the close's gate computed the case month's coverage: one site, sources due every hour,
    # no sample files in the case's lake (its rating outputs are written directly)
    html = provider(env).get("/provider/months/2026-10").text
    table = re.search(r'id="coverage".*?</table>', html, re.S).group(0)
    rows = re.findall(r"<tr[^>]*><td>az1</td><td>(\w+)</td>(.*?)</tr>", table, re.S)
    assert {source for source, _ in rows} == {"vcd", "cse", "alp", "dse"}
    cells = re.findall(r"<td[^>]*>(.*?)</td>", dict(rows)["vcd"], re.S)
    assert cells[:3] == ["744", "0", "0.00%"]  # 31 days x 24 instants due, none collected


def test_coverage_counts_short_days_against_the_gate_threshold(tmp_path: Path) -> None:
    config = build_month(tmp_path)
    path = tmp_path / "provider.toml"
    path.write_text(
        path.read_text().replace('coverage_threshold = "0"', 'coverage_threshold = "0.95"')
    )
    config = load_config(path)
    day = date(2026, 10, 2)
    hours = [datetime(2026, 10, 2, h, tzinfo=UTC) for h in range(24)]
    rows = [
        {
            "site": "az1",
            "source": "vcd",
            "hour": hour,
            "expected": 1,
            "collected": 0 if hour.hour in (3, 4) else 1,  # 22 of 24: 91.66 %, short
            "failed_runs": 1 if hour.hour in (3, 4) else 0,
            "interrupted_runs": 0,
            "status": "failed" if hour.hour in (3, 4) else "ok",
            "computed_at": FROZEN_NOW,
        }
        for hour in hours
    ]
    target = store.partition_dir(config.lake, "coverage", "az1", day) / "20261002T0000Z.parquet"
    store.write_file(target, pa.Table.from_pylist(rows, schema=COVERAGE_SCHEMA))
    model = BillingReadModel(config)
    (found,) = model.coverage("2026-10")
    assert (found["site"], found["source"], found["days"]) == ("az1", "vcd", 1)
    assert (found["expected"], found["collected"], found["days_short"]) == (24, 22, 1)
    assert found["ratio"] == Decimal("0.9166")  # truncated, never rounded up
    assert found["worst_day"] == day and found["runs"] == 0
    # the day recomputed (the file replaced whole, as lake writes do): the page reads it anew
    for row in rows:
        row.update(collected=1, failed_runs=0, status="ok")
    store.write_file(target, pa.Table.from_pylist(rows, schema=COVERAGE_SCHEMA))
    (found,) = model.coverage("2026-10")
    assert (found["expected"], found["collected"], found["days_short"]) == (24, 24, 0)


def test_staff_create_use_and_revoke_an_api_key_in_the_page(env: Env) -> None:
    staff = provider(env)
    page = staff.get("/provider/api-keys")
    assert page.status_code == 200 and 'id="create"' in page.text
    token = csrf_of(page.text)
    # without the session's CSRF token nothing is created
    refused = staff.post("/provider/api-keys", data={"scope": "provider", "label": "x"})
    assert refused.status_code == 403
    wrong = staff.post(
        "/provider/api-keys", data={"csrf_token": "forged", "scope": "tenant:acme", "label": "x"}
    )
    assert wrong.status_code == 403
    unknown = staff.post(
        "/provider/api-keys", data={"csrf_token": token, "scope": "tenant:nobody", "label": "x"}
    )
    assert unknown.status_code == 400
    made = staff.post(
        "/provider/api-keys",
        data={"csrf_token": token, "scope": "tenant:acme", "label": "erp <acme>"},
    )
    assert made.status_code == 201
    key = re.search(r'<pre id="key-text">(mk_[^<]+)</pre>', made.text).group(1)
    assert "erp &lt;acme&gt;" in made.text and "erp <acme>" not in made.text
    api = httpx.Client(
        base_url=f"{env.base_url}/api/v1", headers={"Authorization": f"Bearer {key}"}
    )
    env.clients.append(api)
    assert api.get("/tenants/acme").status_code == 200
    assert api.get("/tenants/evil").status_code == 404  # a tenant key sees its tenant only
    # the list never shows the key again; it says who made it
    listed = staff.get("/provider/api-keys").text
    assert key not in listed and "administrator@System" in listed
    key_id = key.split("_")[1]
    gone = staff.post(f"/provider/api-keys/{key_id}/revoke", data={"csrf_token": token})
    assert gone.status_code == 303
    assert api.get("/tenants/acme").status_code == 401
    again = staff.post(f"/provider/api-keys/{key_id}/revoke", data={"csrf_token": token})
    assert again.status_code == 404


def test_tenants_cannot_reach_the_api_keys_page(env: Env) -> None:
    acme = tenant(env, "acme")
    assert acme.get("/provider/api-keys").status_code == 404
    token = csrf_of(acme.get("/tenant/").text)
    made = acme.post("/provider/api-keys", data={"csrf_token": token, "scope": "provider"})
    assert made.status_code == 404
    assert "api-key" not in str([k.created_by for k in env.portal.keys.list()])


def test_the_margin_page_shows_the_cost_cards_figures(env: Env) -> None:
    import shutil

    from metering.commerce.margin import margin_rows
    from metering.window import Window
    from tests.commerce.conftest import write_costs

    staff = provider(env)
    assert "no cost cards" in staff.get("/provider/margin?month=2026-10").text
    costs = env.config.pricing_dir / "costs"
    write_costs(costs)
    try:
        html = staff.get("/provider/margin?month=2026-10").text
        rows = margin_rows(env.config, Window.month(2026, 10))
        again = staff.get("/provider/margin?month=2026-10").text  # kept: the same figures
        for card in costs.glob("*.toml"):  # a dearer licence point: read again, less margin
            text = card.read_text(encoding="utf-8")
            card.write_text(text.replace('"0.90"', '"1.90"'), encoding="utf-8")
        dearer = staff.get("/provider/margin?month=2026-10").text
        rows_dearer = margin_rows(env.config, Window.month(2026, 10))
    finally:
        shutil.rmtree(costs)
    assert again == html and dearer != html
    acme_dearer = sum(r["margin_amount"] for r in rows_dearer if r["tenant_id"] == "acme")
    assert f">{acme_dearer}<" in dearer
    assert "no cost cards" in staff.get("/provider/margin?month=2026-10").text  # not kept
    table = re.search(r'id="margin-tenants".*?</table>', html, re.S).group(0)
    acme = sum(r["margin_amount"] for r in rows if r["tenant_id"] == "acme")
    assert "ACME Industries GmbH" in table and f">{acme}<" in table
    assert acme_dearer < acme
    assert any(r["cost_amount"] > 0 for r in rows)
    assert "Margin" in html and "/provider/margin" in staff.get("/provider/").text
