"""EN 16931 and Peppol BIS rules encoded as our own tests.

The EN 16931 arithmetic (BR-CO-10..17) also runs in the official Schematron (test_official);
here it is checked on the figures the PDF prints, to the cent. Peppol BIS 3.0's Schematron is
in no package we can install, so the Peppol rules our documents touch are checked here.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from metering.einvoice.model import PEPPOL_CUSTOMIZATION, PEPPOL_PROFILE, semantic_model, unit_code
from metering.einvoice.parties import buyer_einvoice
from metering.einvoice.xml import check_xsd, peppol_ubl
from metering.errors import CloseError, ConfigError
from tests.einvoice.bodies import ISSUED_AT, credit_note, invoice_body

UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
NS = {"cbc": f"{UBL}CommonBasicComponents-2", "cac": f"{UBL}CommonAggregateComponents-2"}


def _ubl(number: str, body: dict) -> etree._Element:
    return etree.fromstring(peppol_ubl(semantic_model(number, ISSUED_AT, body)))


def _d(root: etree._Element, path: str) -> Decimal:
    return Decimal(root.xpath(path, namespaces=NS)[0].text)


def _all(root: etree._Element, path: str) -> list[Decimal]:
    return [Decimal(e.text) for e in root.xpath(path, namespaces=NS)]


@pytest.mark.parametrize("kind", ["invoice", "credit_note"])
def test_amounts_equal_the_pdf_and_satisfy_the_en16931_arithmetic(kind):
    body = invoice_body() if kind == "invoice" else credit_note()
    root = _ubl("X-1", body)
    line_tag = "InvoiceLine" if kind == "invoice" else "CreditNoteLine"
    lines = _all(root, f"//cac:{line_tag}/cbc:LineExtensionAmount")
    allowances = _all(root, "/*/cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount")
    charges = _all(root, "/*/cac:AllowanceCharge[cbc:ChargeIndicator='true']/cbc:Amount")
    total = "/*/cac:LegalMonetaryTotal/cbc:"
    assert _d(root, total + "LineExtensionAmount") == sum(lines)  # BR-CO-10
    assert _d(root, total + "AllowanceTotalAmount") == sum(allowances)  # BR-CO-11
    assert not charges  # BR-CO-12: no charge element, no charge total
    net = _d(root, total + "TaxExclusiveAmount")
    assert net == sum(lines) - sum(allowances)  # BR-CO-13
    tax = _d(root, "/*/cac:TaxTotal/cbc:TaxAmount")
    assert tax == sum(_all(root, "//cac:TaxSubtotal/cbc:TaxAmount"))  # BR-CO-14
    assert _d(root, total + "TaxInclusiveAmount") == net + tax  # BR-CO-15
    assert _d(root, total + "PayableAmount") == net + tax  # BR-CO-16 (nothing prepaid)
    taxable = _d(root, "//cac:TaxSubtotal/cbc:TaxableAmount")
    assert taxable == net  # BR-S-08: one category, all lines and allowances in it
    assert tax == (taxable * Decimal("0.21")).quantize(Decimal("0.01"))  # BR-CO-17, BR-S-09
    # to the cent what the PDF prints (the body's totals; a credit note's are negated there)
    sign = 1 if kind == "invoice" else -1
    assert (sum(lines), net, tax, net + tax) == tuple(
        sign * Decimal(body["totals"][k])
        for k in ("lines_amount", "subtotal_amount", "tax_amount", "total_amount")
    )


def test_peppol_identifiers_endpoints_and_buyer_reference():
    root = _ubl("INV-2026-000001", invoice_body())
    assert root.findtext("cbc:CustomizationID", namespaces=NS) == PEPPOL_CUSTOMIZATION  # R004
    assert root.findtext("cbc:ProfileID", namespaces=NS) == PEPPOL_PROFILE  # R001, R007
    assert root.findtext("cbc:BuyerReference", namespaces=NS) == "PO-4711"  # R003
    seller = root.find("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", NS)
    buyer = root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert (seller.text, seller.get("schemeID")) == ("DE123456789", "9930")  # R020
    assert (buyer.text, buyer.get("schemeID")) == ("NL123456789B01", "9944")  # R010
    means = root.find("cac:PaymentMeans", NS)
    assert means.findtext("cbc:PaymentMeansCode", namespaces=NS) == "58"  # BR-61: IBAN given
    assert means.findtext("cac:PayeeFinancialAccount/cbc:ID", namespaces=NS) == (
        "DE89370400440532013000"
    )


def test_line_net_amount_is_quantity_times_price_within_peppol_r120s_cent():
    root = _ubl("INV-2026-000001", invoice_body())
    for line in root.findall("cac:InvoiceLine", NS):
        qty = Decimal(line.findtext("cbc:InvoicedQuantity", namespaces=NS))
        price = Decimal(line.findtext("cac:Price/cbc:PriceAmount", namespaces=NS))
        amount = Decimal(line.findtext("cbc:LineExtensionAmount", namespaces=NS))
        assert abs(qty * price - amount) <= Decimal("0.01")


def test_a_credit_note_names_the_invoice_it_credits_in_bt_25_with_positive_amounts():
    root = _ubl("CN-2026-000001", credit_note())
    assert etree.QName(root).localname == "CreditNote"
    assert root.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    ref = "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
    assert root.findtext(ref, namespaces=NS) == "INV-2026-000001"
    assert _d(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == Decimal("94.66")


def test_a_body_whose_tax_breaks_br_co_17_gets_no_e_invoice():
    body = invoice_body()
    body["totals"].update(tax_amount="16.44", total_amount="94.67")
    with pytest.raises(CloseError, match="BR-CO-17"):
        semantic_model("INV-2026-000009", ISSUED_AT, body)


def test_units_map_to_rec20_codes():
    assert [unit_code(u) for u in ("vCPU-hour", "GB-month", "month", "1,000 requests")] == [
        "HUR", "MON", "MON", "C62",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "rate", "message"),
    [
        ({"einvoice": "peppol"}, "0.21", "einvoice: one of"),
        ({"einvoice": "factur-x"}, "0.21", "postal_address: required"),
        ({"einvoice": "peppol-ubl", "postal_address": {"country": "NL"}}, "0.21",
         "peppol_endpoint_id: required"),
        ({"einvoice": "factur-x", "postal_address": {"country": "Netherlands"}}, "0.21",
         "ISO 3166"),
        ({"einvoice": "factur-x", "postal_address": {"country": "US"}}, "0", "vat_category"),
        ({"einvoice": "factur-x", "postal_address": {"country": "DE"}, "vat_category": "AE"},
         "0", "vat_id: required"),
        ({"peppol_endpoint_id": "123"}, "0", "go together"),
    ],
)  # fmt: skip
def test_catalog_entries_missing_what_en16931_needs_are_refused_naming_the_key(raw, rate, message):
    with pytest.raises(ConfigError, match=message):
        buyer_einvoice(raw, "tenants.toml: tenants[0]", Decimal(rate))


def test_an_e_invoice_its_xsd_refuses_is_never_written():
    empty = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    with pytest.raises(CloseError, match="X-9: not valid against its XSD"):
        check_xsd(empty, "X-9")


def test_lines_name_their_site_and_the_days_their_price_applied_within_the_period():
    root = _ubl("INV-2026-000001", invoice_body())
    lines = root.findall("cac:InvoiceLine", NS)

    def period(line: etree._Element) -> tuple[str, str]:
        return (line.findtext("cac:InvoicePeriod/cbc:StartDate", namespaces=NS),
                line.findtext("cac:InvoicePeriod/cbc:EndDate", namespaces=NS))  # fmt: skip

    assert lines[3].findtext("cac:Item/cbc:Name", namespaces=NS) == "vCPU (az1)"
    assert lines[5].findtext("cac:Item/cbc:Name", namespaces=NS) == "Object storage 2DC-3R (az1)"
    # a rate change on the 15th: two lines, told apart by their days (Peppol R110/R111: the
    # line period lies within the invoicing period, so a card valid since September starts
    # on October 1st)
    assert period(lines[3]) == ("2026-10-01", "2026-10-14")
    assert period(lines[4]) == ("2026-10-15", "2026-10-31")
    assert period(lines[5]) == ("2026-10-01", "2026-10-31")
