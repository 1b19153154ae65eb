"""Provider pages: months and their close state, a month's coverage, unmapped orgs, unrated
usage and downloads, revenue, and any tenant's own pages."""

from __future__ import annotations

import re

from tests.portal.conftest import Env, provider


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
