"""The portal in a real browser (headless Chromium through chromedriver): sign in with the
simulated provider's VCD, read the month to date, download an invoice, and be refused
another tenant's invoice."""

from __future__ import annotations

import re
from pathlib import Path

from tests.portal.conftest import Env
from tests.portal.webdriver import Browser


def test_tenant_signs_in_reads_its_month_downloads_an_invoice_and_is_refused_another(
    env: Env, tmp_path: Path
) -> None:
    evil_number = env.portal.model.documents("evil")[0].number
    with Browser() as browser:
        browser.get(f"{env.base_url}/tenant/")
        assert browser.url.endswith("/login")  # signed out: the sign-in page
        browser.type("#login", "orgadmin@acme")
        browser.type("#password", env.password("acme"))
        browser.submit("#signin")
        message = re.search(r'id="message">([^<]*)', browser.source)
        assert browser.url == f"{env.base_url}/tenant/", message and message.group(1)
        assert browser.url == f"{env.base_url}/tenant/"
        (cookie,) = [c for c in browser.cookies() if c["name"] == "__Host-metering"]
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
        assert browser.text("#total") == "EUR 94.66"
        assert "By resource" in browser.source
        browser.screenshot(tmp_path / "month-to-date.png")

        browser.get(f"{env.base_url}/tenant/documents")
        browser.click('a[href="/tenant/documents/INV-2026-000001/pdf"]')
        pdf = browser.wait_for_download(".pdf")
        assert pdf.name == "INV-2026-000001.pdf" and pdf.read_bytes().startswith(b"%PDF")

        browser.get(f"{env.base_url}/tenant/documents/{evil_number}/pdf")
        assert browser.text("#error") == "Not found."
        assert "200.88" not in browser.source
        assert list(browser.downloads.iterdir()) == [pdf]

        browser.get(f"{env.base_url}/provider/tenants/evil/documents")
        assert browser.text("#error") == "Not found."
