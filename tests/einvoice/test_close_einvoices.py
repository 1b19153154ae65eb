"""The close issues each document's e-invoices with it: listed in the register, written
beside the PDF (UBL) or as the PDF (Factur-X), validated by the official artefacts, and
rendered again to the same bytes."""

from __future__ import annotations

import io
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from facturx import get_xml_from_pdf
from lxml import etree
from pypdf import PdfReader

from metering.close.register import Register
from metering.close.settings import load_settings
from metering.errors import CloseError
from tests.close.builders import build_month, load_case, rating_rows, write_rating
from tests.close.test_close import _correct_acme_vcpu_price, close
from tests.einvoice.validate import xsd_errors

UBL_TOTAL = ".//{*}LegalMonetaryTotal/{*}PayableAmount"


def _facturx(pdf: bytes) -> tuple[str, bytes, bytes]:
    """The embedded CII's name and bytes, and the PDF's XMP metadata."""
    name, xml = get_xml_from_pdf(pdf, check_xsd=False)
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    return name, xml, xmp


def test_close_issues_validated_peppol_ubl_and_factur_x_for_invoices_and_credit_notes(
    tmp_path, schematron
):
    config = build_month(tmp_path)
    first = close(config)
    folder = first.out_dir / "invoices" / "2026-10"
    ubl = (folder / "INV-2026-000001-ubl.xml").read_bytes()
    assert xsd_errors(ubl, "ubl-invoice") == []
    assert schematron.check(ubl, "ubl") == []
    pdf = (folder / "INV-2026-000001.pdf").read_bytes()
    name, cii, xmp = _facturx(pdf)
    assert name == "factur-x.xml"
    attached = PdfReader(io.BytesIO(pdf)).attachments
    assert set(attached) == {"factur-x.xml", "INV-2026-000001-usage.csv"}
    assert xsd_errors(cii, "cii") == [] and schematron.check(cii, "cii") == []
    # PDF/A-3b with the Factur-X properties, all in the packet's one rdf:RDF
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert xmp.count(b"<rdf:RDF") == 1
    assert b"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>" in xmp
    assert b"<pdfaSchema:prefix>fx</pdfaSchema:prefix>" in xmp  # the extension schema
    relationships = {
        str(spec.get_object()["/F"]): str(spec.get_object()["/AFRelationship"])
        for spec in PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/AF"]
    }
    assert relationships == {"factur-x.xml": "/Data", "INV-2026-000001-usage.csv": "/Unspecified"}
    # the tenant without e-invoices gets its PDF alone, as before
    assert not (folder / "INV-2026-000002-ubl.xml").exists()
    plain = PdfReader(folder / "INV-2026-000002.pdf")
    assert list(plain.attachments) == ["INV-2026-000002-usage.csv"]
    assert "/AF" not in plain.trailer["/Root"]  # not a PDF/A-3 with associated files

    settings = load_settings(config)
    register = Register(settings.register_path, settings.provider)
    try:
        docs = {d.number: d for d in register.documents("2026-10", bodies=False)}
        listed = register.einvoices("2026-10")
    finally:
        register.close()
    acme = docs["INV-2026-000001"]
    assert set(listed[acme.id]) == {"peppol-ubl", "factur-x"}
    assert listed[acme.id]["peppol-ubl"] is not None  # its hash, recorded once written
    assert docs["INV-2026-000002"].id not in listed
    # to the cent the register's (and so the PDF's) total, in both syntaxes
    total = Decimal(acme.total_amount)
    assert Decimal(etree.fromstring(ubl).find(".//{*}PayableAmount").text) == total
    assert Decimal(etree.fromstring(cii).find(".//{*}DuePayableAmount").text) == total
    # and for finance: the documents table beside the rating outputs says which it has
    listing = pq.read_table(first.outputs["documents"]).to_pylist()
    assert {r["number"]: r["einvoice"] for r in listing} == {
        "INV-2026-000001": "factur-x,peppol-ubl",
        "INV-2026-000002": None,
    }

    # a correction: the credit note and the corrected invoice get theirs too
    _correct_acme_vcpu_price(config)
    second = close(config)
    assert second.credit_notes == ("CN-2026-000001",)
    notes = second.out_dir / "credit_notes" / "2026-10"
    note = (notes / "CN-2026-000001-ubl.xml").read_bytes()
    assert xsd_errors(note, "ubl-credit-note") == [] and schematron.check(note, "ubl") == []
    root = etree.fromstring(note)
    assert root.find(".//{*}BillingReference//{*}ID").text == "INV-2026-000001"  # BT-25
    assert Decimal(root.find(UBL_TOTAL).text) == total  # positive: it credits that much
    _, note_cii, _ = _facturx((notes / "CN-2026-000001.pdf").read_bytes())
    assert schematron.check(note_cii, "cii") == []
    corrected = (folder / "INV-2026-000003-ubl.xml").read_bytes()
    assert schematron.check(corrected, "ubl") == []

    # a lost UBL file is written again, and the Factur-X PDF renders to the same bytes
    (folder / "INV-2026-000001-ubl.xml").unlink()
    third = close(config)
    assert "INV-2026-000001" in third.rendered
    assert (folder / "INV-2026-000001-ubl.xml").read_bytes() == ubl
    assert (folder / "INV-2026-000001.pdf").read_bytes() == pdf


def test_a_close_whose_e_invoice_would_break_en16931_issues_nothing(tmp_path):
    """Tax one cent off the rule (BR-CO-17) is refused before any number, not after."""
    config = build_month(tmp_path)
    tables = rating_rows(load_case())
    acme = next(t for t in tables["invoice_totals"] if t["tenant_id"] == "acme")
    acme["tax_amount"] += Decimal("0.01")
    acme["total_amount"] += Decimal("0.01")
    write_rating(config, tables)
    with pytest.raises(CloseError, match="BR-CO-17"):
        close(config)
    settings = load_settings(config)
    register = Register(settings.register_path, settings.provider)
    try:
        assert [d.number for d in register.documents("2026-10", bodies=False)] == []
    finally:
        register.close()
