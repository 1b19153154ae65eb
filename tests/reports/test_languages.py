"""Documents in the tenant's language and script: complete gettext catalogs, the catalog a
tenant's locale picks, labels that read naturally, and PDFs with a glyph for every character
(a Japanese billing name printed as boxes is the failure this guards against)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import _parse_mapping_toml
from babel.messages.pofile import read_po

from metering.close.documents import credit_note_body
from metering.close.register import Register
from metering.close.run import close_month
from metering.close.settings import load_settings
from metering.reports import i18n, invoice, provider, wording
from metering.reports.labels import LabelSettings
from metering.reports.render import Renderer, template_env
from tests.close.builders import FROZEN_NOW, MONTH, build_month
from tests.conftest import TEST_LABEL_KEY
from tests.reports.glyphs import missing_glyphs

REPO = Path(__file__).resolve().parents[2]
REQUIRED = ("nl", "de", "fr", "da", "ja")
TOKYO = "東京 Systems K.K."


def _extracted() -> set[object]:
    """Every message the templates and metering/reports/wording.py mark, extracted with the
    mapping in pyproject.toml (what `pybabel extract -F pyproject.toml` does)."""
    with (REPO / "pyproject.toml").open("rb") as handle:
        method_map, options_map = _parse_mapping_toml(handle, style="pyproject.toml")
    found = extract_from_dir(str(REPO), method_map, options_map)
    return {message for _, _, message, _, _ in found}


def test_every_language_translates_every_message_of_the_current_template():
    with (i18n.locale_dir() / "messages.pot").open("rb") as handle:
        pot = read_po(handle)
    ids = {m.id for m in pot if m.id}
    assert ids == _extracted(), "reports/locale/messages.pot is stale: run pybabel extract"
    assert set(REQUIRED) <= set(i18n.available())
    for language in i18n.available()[1:]:
        path = i18n.locale_dir() / language / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalog: Catalog = read_po(handle, locale=language)
        assert {m.id for m in catalog if m.id} == ids, f"{language}: run pybabel update"
        for message in catalog:
            if not message.id:
                continue
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            assert all(strings) and not message.fuzzy, f"{language}: {message.id!r} untranslated"
        problems = [(m.id, errors) for m, errors in catalog.check()]
        assert problems == [], f"{language}: placeholders differ: {problems}"


def test_a_tenant_locale_picks_its_language_catalog():
    assert i18n.catalog_for("de_AT") == "de" and i18n.catalog_for("fr_BE") == "fr"
    assert i18n.catalog_for("nl_NL") == "nl" and i18n.catalog_for("da_DK") == "da"
    assert i18n.catalog_for("ja_JP") == "ja"
    assert i18n.catalog_for("it_IT") == "en" and i18n.catalog_for("en_IE") == "en"
    assert i18n.catalog_for("xx_not_a_locale") == "en"


def _t(locale: str):
    return i18n.translations(i18n.catalog_for(locale))


def test_every_product_service_and_unit_of_rating_has_words():
    """A product added to rating needs its label, service and units here (and translated),
    or its invoices would print rating's English ids."""
    from metering.rating.products import PRODUCTS

    for product in PRODUCTS.values():
        assert product.name in wording.PRODUCTS, product.name
        assert product.service in wording.SERVICES, product.service
        assert {product.usage_unit, product.billing_unit} <= wording.KNOWN_UNITS, product.name
        assert (
            wording.quantity_text(_t("de_DE"), "2", product.billing_unit, "de_DE")
            != (f"2 {product.billing_unit}")
            or product.billing_unit == "GB"
        ), product.name


def test_units_prices_and_periods_read_naturally():
    # rating bills requests per 1,000: 3,444 of them are 3,444,000 requests
    assert wording.quantity_text(_t("en_US"), "3444.000", "1,000 requests", "en_US") == (
        "3,444,000 requests"
    )
    assert wording.quantity_text(_t("de_DE"), "3444.000", "1,000 requests", "de_DE") == (
        "3.444.000 Anfragen"
    )
    assert wording.per_text(_t("en_US"), "1,000 requests", "en_US") == "per 1,000 requests"
    assert wording.per_text(_t("en_US"), "vCPU-hour", "en_US") == ""
    assert wording.quantity_text(_t("nl_NL"), "1", "month", "nl_NL") == "1 maand"
    assert wording.quantity_text(_t("da_DK"), "1.5", "vCPU-hour", "da_DK") == "1,5 vCPU-timer"
    line = {"price_from": "2026-10-01T00:00:00+00:00", "price_to": "2026-10-15T00:00:00+00:00"}
    first, last = MONTH.start.date(), list(MONTH.days())[-1]
    assert wording.price_period(_t("en_GB"), line, first, last, "en_GB") == (
        "Price for 1–14 Oct 2026"
    )
    assert wording.price_period(_t("de_DE"), line, first, last, "de_DE") == (
        "Preis für 1.–14. Okt. 2026"
    )
    whole = {"price_from": "2026-01-01T00:00:00+00:00", "price_to": None}
    assert wording.price_period(_t("en_GB"), whole, first, last, "en_GB") == ""


@pytest.fixture(scope="module")
def acme(tmp_path_factory):
    config = build_month(tmp_path_factory.mktemp("languages"))
    with pytest.MonkeyPatch.context() as patch:  # the autouse label key is per test
        patch.setenv("METERING_LABEL_KEY", TEST_LABEL_KEY)
        close_month(config, MONTH, rate=False, now=FROZEN_NOW, show_progress=False)
    register = Register(load_settings(config).register_path, config.name)
    return next(d for d in register.documents("2026-10") if d.tenant_id == "acme")


def _pdf_text(pdf: bytes) -> str:
    assert shutil.which("pdftotext"), "poppler-utils is installed by run.sh"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        out = subprocess.run(
            ["pdftotext", "-layout", handle.name, "-"], capture_output=True, text=True, check=True
        ).stdout
    return " ".join(out.split())


def test_a_japanese_tenant_gets_a_japanese_invoice_with_every_glyph(acme):
    body = json.loads(json.dumps(acme.body))
    body["bill_to"] |= {"name": TOKYO, "locale": "ja_JP"}
    # a line of zero amount is folded into a note, not printed as a line of 0.00
    free = dict(body["lines"][0]) | {"product": "object_transfer", "dimension": "in"}
    body["lines"].append(free | {"line_no": 99, "list_amount": "0.00", "quantity": "2"})
    renderer = Renderer()
    html = invoice.html(renderer, acme.number, acme.issued_at, body)
    assert '<html lang="ja">' in html and "計測済み・無料：データ転送 受信" in html
    assert '<td class="num">€0.00</td>' not in html
    assert "standard-2026" not in html  # no rate card ids under the lines
    pdf = renderer.pdf(html)
    assert missing_glyphs(pdf) == set()
    text = _pdf_text(pdf)
    assert TOKYO in text and "請求書" in text and "合計" in text
    assert acme.total_amount in text.replace("€", "")  # the total is the frozen one
    # the credit note reversing it too, in Danish
    note = credit_note_body(
        body | {"bill_to": body["bill_to"] | {"locale": "da_DK"}}, "X", "no charges remain"
    )
    pdf = renderer.pdf(invoice.html(renderer, "CN-1", acme.issued_at, note))
    assert missing_glyphs(pdf) == set()
    assert "Kreditnota" in _pdf_text(pdf) and "ingen ydelser tilbage" in _pdf_text(pdf)


def test_the_usage_appendix_shows_cents_and_the_chart_its_currency(acme):
    html = invoice.html(Renderer(), acme.number, acme.issued_at, acme.body)
    # the row's share of its line, to 10^-9 in the CSV (here the whole line: 16.50 exactly)
    assert "16,50\xa0€" in html and "16,500000000" not in html  # exact value: in the CSV only
    assert "16.500000000" in invoice.usage_csv(acme.number, acme.body).decode()
    assert '<text x="0" y="8">4,22\xa0€</text>' in html  # the chart's axis names the currency


def test_the_provider_report_prints_a_japanese_tenant_name(acme, tmp_path):
    config = build_month(tmp_path)
    row = {"month": "2026-10", "site": "*", "tenant_id": "tokyo", "tenant_name": TOKYO}
    row |= {"product": "vm", "dimension": "", "metric": "vms", "quantity": Decimal(3)}
    rows = [row | {"unit": "VMs", "customer_label": "c-0"}]
    context = provider.report_context(
        rows, load_settings(config), MONTH, Decimal(1), labels=LabelSettings(key=None)
    )
    html = provider.report_html(template_env(), context)
    assert TOKYO in html
    pdf = Renderer().pdf(html)
    assert missing_glyphs(pdf) == set()
    assert TOKYO in _pdf_text(pdf)


def test_the_glyph_check_sees_a_character_no_font_has():
    """The check can fail: a private-use character no installed font covers is a box."""
    pdf = Renderer().pdf('<html lang="en"><body><p>\ue000 box</p></body></html>')
    assert missing_glyphs(pdf) == {"\ue000"}
