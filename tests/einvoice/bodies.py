"""Frozen document bodies as the close builds them (metering.close.documents), for e-invoices."""

from __future__ import annotations

import copy
from typing import Any

from metering.close.documents import credit_note_body

ISSUED_AT = "2026-11-02T06:00:00+00:00"
SELLER = {
    "postal_address": {"street": "Cloudweg 1", "postcode": "20095", "city": "Hamburg",
                       "country": "DE"},
    "endpoint_id": "DE123456789",
    "endpoint_scheme": "9930",
    "iban": "DE89370400440532013000",
    "bic": "COBADEFFXXX",
}  # fmt: skip
BUYER = {
    "formats": ["peppol-ubl", "factur-x"],
    "vat_id": "NL123456789B01",
    "buyer_reference": "PO-4711",
    "endpoint_id": "NL123456789B01",
    "endpoint_scheme": "9944",
    "postal_address": {"street": "Stationsplein 1", "postcode": "3511 ED", "city": "Utrecht",
                       "country": "NL"},
    "vat_category": "S",
    "exemption_reason": "",
}  # fmt: skip


def _line(no: int, desc: str, qty: str, unit: str, price: str, amount: str) -> dict[str, Any]:
    return {
        "line_no": no, "service": "Compute", "product": "vcpu", "dimension": "", "site": "az1",
        "description": desc, "quantity": qty, "unit": unit, "unit_price": price,
        "rate_card_id": "standard-2026", "price_from": "2026-10-01T00:00:00+00:00",
        "price_to": None, "tier_detail": "", "list_amount": amount, "estimated": False,
    }  # fmt: skip


def invoice_body(**overrides: Any) -> dict[str, Any]:
    """Domain example 7 (docs/domain: 86.92 lines, 10 % discount, 21 % VAT = 94.66)."""
    body: dict[str, Any] = {
        "kind": "invoice",
        "month": "2026-10",
        "period_start": "2026-10-01",
        "period_end": "2026-10-31",
        "tenant_id": "acme",
        "tenant_name": "ACME",
        "currency": "EUR",
        "bill_to": {
            "tenant_id": "acme",
            "name": "ACME Corporation B.V.",
            "address": ["Stationsplein 1", "3511 ED Utrecht", "NL"],
            "locale": "nl_NL",
            "tax_id": "NL123456789B01",
            "email": "ap@acme.example",
            "mapped": True,
            "einvoice": copy.deepcopy(BUYER),
        },
        "issuer": {
            "legal_name": "Example Cloud GmbH",
            "address": ["Cloudweg 1"],
            "vat_id": "DE123456789",
            "email": "billing@example.net",
            "website": "",
            "bank": "",
            "accent_color": "#1f4e79",
            "einvoice": copy.deepcopy(SELLER),
        },
        "payment_terms_days": 30,
        "lines": [
            _line(1, "VM 4 vCPU (az1)", "1440.000000000", "vCPU-hour", "0.012500000", "18.00"),
            _line(2, "RAM (az1)", "5760.000000000", "GiB-hour", "0.004000000", "23.04"),
            _line(3, "VM disk Gold (az1)", "100.000000000", "GB-month", "0.120000000", "12.00"),
            {
                **_line(4, "vCPU (az1)", "672.000000000", "vCPU-hour", "0.012500000", "8.40"),
                "price_to": "2026-10-15T00:00:00+00:00",
            },
            {
                **_line(5, "vCPU (az1)", "816.000000000", "vCPU-hour", "0.011000000", "8.98"),
                "price_from": "2026-10-15T00:00:00+00:00",
            },
            {
                **_line(6, "Object storage 2DC-3R", "500.000000000", "GB-month", "0.033", "16.50"),
                "price_from": "2026-09-01T00:00:00+00:00",
            },
        ],
        "totals": {
            "lines_amount": "86.92",
            "discount_amount": "-8.69",
            "minimum_adjustment": "0.00",
            "subtotal_amount": "78.23",
            "tax_rate": "0.21",
            "tax_amount": "16.43",
            "total_amount": "94.66",
        },
        "usage": [],
        "daily": [],
    }
    body.update(overrides)
    return body


def credit_note(original: dict[str, Any] | None = None) -> dict[str, Any]:
    return credit_note_body(original or invoice_body(), "INV-2026-000001", "corrected prices")
