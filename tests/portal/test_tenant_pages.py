"""Tenant pages: month to date, documents and their files, months side by side — and that
no URL, number, filter or export reaches another tenant's data."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from pypdf import PdfReader

from tests.portal.conftest import Env, provider, tenant


def test_month_to_date_shows_totals_lines_breakdowns_and_charts(env: Env) -> None:
    c = tenant(env, "acme")
    page = c.get("/tenant/?month=2026-10")
    assert page.status_code == 200
    html = page.text
    assert 'id="total">EUR 94.66' in html
    assert "(closed)" in html and "ESTIMATE" not in html
    for section in ("By product", "By site", "By day", "By resource"):
        assert section in html
    assert html.count("<svg") == 2  # per day and per product
    assert "evil" not in html.lower().replace("evil-", "")  # nothing of the other tenant


def test_estimated_lines_are_labelled(env: Env) -> None:
    mtd = env.portal.model.month_to_date("acme", "2026-10")
    estimated = [line for line in mtd.lines if line["estimated"]]
    page = tenant(env, "acme").get("/tenant/").text
    assert page.count('class="estimated"') == len(estimated)


def test_documents_list_and_downloads_are_the_tenants_own(env: Env) -> None:
    c = tenant(env, "acme")
    docs = env.portal.model.documents("acme")
    assert [d.number for d in docs] == ["INV-2026-000001"]
    listing = c.get("/tenant/documents").text
    assert "INV-2026-000001" in listing and "INV-2026-000002" not in listing
    pdf = c.get("/tenant/documents/INV-2026-000001/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    usage = c.get("/tenant/documents/INV-2026-000001/usage.csv")
    assert usage.status_code == 200 and "acme" in usage.text.lower()
    focus = list(
        csv.DictReader(io.StringIO(c.get("/tenant/documents/INV-2026-000001/focus.csv").text))
    )
    assert focus and {row["InvoiceId"] for row in focus} == {"INV-2026-000001"}
    assert {row["BillingAccountId"] for row in focus} == {"acme"}
    assert sum(Decimal(row["BilledCost"]) for row in focus) == Decimal("94.66")


FILES = ("pdf", "usage.csv", "focus.csv")


def test_no_url_reaches_another_tenants_data(env: Env) -> None:
    evil_docs = [d.number for d in env.portal.model.documents("evil")]
    assert evil_docs
    c = tenant(env, "acme")
    forbidden = [
        *(f"/tenant/documents/{n}" for n in evil_docs),
        *(
            f"/tenant/documents/{n}/{f}"
            for n in evil_docs
            for f in ("pdf", "usage.csv", "focus.csv")
        ),
        "/tenant/documents/..%2F..%2Fprovider.toml/pdf",
        "/tenant/documents/INV-2026-000001/..%2F..%2F..%2Fprovider.toml",
        "/provider/",
        "/provider/months/2026-10",
        "/provider/months/2026-10/files/focus-2026-10.csv",
        "/provider/tenants/evil/",
        "/provider/tenants/evil/documents",
        *(f"/provider/tenants/evil/documents/{n}/pdf" for n in evil_docs),
        "/provider/tenants",
        "/provider/revenue",
        "/provider/webhooks",
    ]
    for url in forbidden:
        answer = c.get(url)
        assert answer.status_code == 404, url
        assert "200.88" not in answer.text and "pwn" not in answer.text, url
    # filters: the month and compare pages only ever show the session's tenant
    for url in (
        "/tenant/?month=2026-10&tenant_id=evil",
        "/tenant/?tenant=evil",
        "/tenant/compare?month=2026-10&tenant_id=evil",
        "/tenant/documents?tenant_id=evil",
    ):
        answer = c.get(url)
        assert answer.status_code == 200, url
        assert "200.88" not in answer.text and "pwn" not in answer.text, url


def test_signed_out_visitors_see_nothing(env: Env) -> None:
    from tests.portal.conftest import client

    c = client(env)
    for url in ("/tenant/", "/tenant/documents", "/tenant/documents/INV-2026-000001/pdf"):
        answer = c.get(url)
        assert answer.status_code == 303 and answer.headers["location"] == "/login", url


def test_hostile_tenant_names_are_escaped_on_every_page(env: Env) -> None:
    c = tenant(env, "evil")
    number = env.portal.model.documents("evil")[0].number
    staff = provider(env)
    pages = [
        (c, "/tenant/"),
        (c, "/tenant/documents"),
        (c, f"/tenant/documents/{number}"),
        (c, "/tenant/compare"),
        (staff, "/provider/"),
        (staff, "/provider/months/2026-10"),
        (staff, "/provider/tenants"),
        (staff, "/provider/revenue"),
        (staff, "/provider/tenants/evil/"),
        (staff, "/provider/tenants/evil/documents"),
    ]
    for who, url in pages:
        html = who.get(url).text
        assert "<script>alert" not in html, url
        assert "<img src=x" not in html and '"Co" <b>' not in html, url
        assert "default-src 'none'" in who.get(url).headers["content-security-policy"]
    assert "&lt;script&gt;alert" in c.get("/tenant/").text
    assert "A&lt;B Labs" in staff.get("/provider/tenants").text


def test_past_months_side_by_side(env: Env) -> None:
    page = tenant(env, "acme").get("/tenant/compare?month=2026-10").text
    assert 'id="compare"' in page and "2026-10" in page and "94.66" in page


def test_the_e_invoice_downloads_for_its_tenant_only(env: Env) -> None:
    """acme's catalog entry asks for e-invoices: its Peppol UBL downloads beside the PDF
    (which is its Factur-X); no other tenant reaches it, and evil, which asks for none, has
    none."""
    c = tenant(env, "acme")
    assert "ubl.xml" in c.get("/tenant/documents/INV-2026-000001").text
    ubl = c.get("/tenant/documents/INV-2026-000001/ubl.xml")
    assert ubl.status_code == 200 and ubl.headers["content-type"] == "application/xml"
    assert b'<cbc:PayableAmount currencyID="EUR">94.66</cbc:PayableAmount>' in ubl.content
    pdf = PdfReader(io.BytesIO(c.get("/tenant/documents/INV-2026-000001/pdf").content))
    assert "factur-x.xml" in pdf.attachments
    other = tenant(env, "evil")
    assert other.get("/tenant/documents/INV-2026-000001/ubl.xml").status_code == 404
    for number in (d.number for d in env.portal.model.documents("evil")):
        assert other.get(f"/tenant/documents/{number}/ubl.xml").status_code == 404
    staff = provider(env)
    answer = staff.get("/provider/tenants/acme/documents/INV-2026-000001/ubl.xml")
    assert answer.status_code == 200 and answer.content == ubl.content
