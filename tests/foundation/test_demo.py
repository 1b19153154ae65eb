"""The README's main job, end to end: `metering demo` on a small generated provider.

Runs the real command in a subprocess (simulated provider over loopback HTTP, a month of
hourly collections, nightly ingest, close) and reads the invoices back with pdftotext: each
tenant's PDF shows its name and the total the rating SQL computed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import duckdb
import pytest
from babel.numbers import format_currency

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "metering", "demo", "--out", str(out),
         "--tenants", "4", "--vms", "24", "--clusters", "2", "--month", "2026-10"],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Invoices for October 2026: 4 tenants" in proc.stdout
    return out


def pdf_text(path: Path) -> str:
    assert shutil.which("pdftotext"), "poppler-utils is installed by run.sh"
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_demo_writes_one_pdf_per_tenant_with_the_rated_total(demo_out: Path) -> None:
    catalog = tomllib.loads((demo_out / "tenants.toml").read_text(encoding="utf-8"))
    locales = {t["billing_name"]: t.get("locale", "en_US") for t in catalog.get("tenants", [])}
    warehouse = demo_out / "data" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        totals = con.execute(
            "select tenant_name, currency, total_amount from invoice_totals"
            " where month = date '2026-10-01' order by tenant_name"
        ).fetchall()
    pdfs = sorted((demo_out / "invoices" / "2026-10").glob("*.pdf"))
    assert len(totals) >= 4
    assert len(pdfs) == len(totals)
    texts = [pdf_text(pdf) for pdf in pdfs]
    for name, currency, total in totals:
        shown = format_currency(total, currency, locale=locales.get(name, "en_US"))
        matching = [text for text in texts if name in text]
        assert len(matching) == 1, f"no single invoice for {name!r}"
        assert shown in matching[0], f"{name}: total {shown} not on its invoice"


def test_demo_writes_report_focus_and_warehouse(demo_out: Path) -> None:
    assert list((demo_out / "report").glob("provider-report-2026-10.*"))
    assert (demo_out / "focus" / "focus-2026-10.parquet").is_file()
    assert (demo_out / "data" / "warehouse.duckdb").is_file()
