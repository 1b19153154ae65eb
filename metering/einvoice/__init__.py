"""EN 16931 e-invoices beside the PDF: Peppol BIS Billing 3.0 UBL and Factur-X (CII in a
PDF/A-3), per tenant as the catalog's ``einvoice`` key says.

- ``parties``: what the catalog (buyer) and ``[provider.branding]`` (seller) add for EN 16931,
  parsed and checked once;
- ``model``: an issued document's frozen body → the EN 16931 semantic model (business terms
  BT-n / groups BG-n), every amount the PDF's to the cent, the VAT breakdown by the standard's
  arithmetic;
- ``xml``: that model → UBL 2.1 or CII D16B bytes through the ``factur-x`` library (which
  checks them against the XSDs it ships), and the XMP a Factur-X PDF carries.

docs/reports.md "E-invoices" says which rules are checked where.
"""
