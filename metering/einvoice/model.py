"""An issued document's frozen body → the EN 16931 semantic model (a dict of BT-n / BG-n).

Every amount is the body's, so the e-invoice equals the PDF to the cent. The body's figures
follow domain.md (lines rounded once, discount and minimum on the subtotal, tax rounded once
on the subtotal); they map onto EN 16931 as:

- each invoice line → BG-25 (quantity BT-129, unit price BT-146, line net amount BT-131);
- the plan discount → one document-level allowance (BG-20), the minimum-commitment lift → one
  document-level charge (BG-21), both in the tenant's VAT category;
- one VAT breakdown (BG-23): taxable amount = the subtotal, tax = the body's tax.

Before anything is written the standard's arithmetic is checked on those figures (BR-CO-10,
-11, -12, -13, -14, -15, -16, -17, BR-S-08/-09 and their Z/E/AE twins); a body that breaks
one raises :class:`CloseError` rather than issue an e-invoice a receiver would reject.

A credit note's body holds the credited invoice's amounts negated; EN 16931 credit notes
(type 381) carry positive amounts, so they are negated back, and BT-25 names the invoice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from babel.numbers import get_currency_precision

from metering.errors import CloseError

PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE, CREDIT_NOTE = "380", "381"
# UN/ECE Recommendation 20 unit codes for our billing units (anything else: C62, "one")
_UNIT_SUFFIXES = (("-hour", "HUR"), ("-month", "MON"))
_UNITS = {"hour": "HUR", "month": "MON", "GB": "E34", "request": "C62"}
_EXEMPTION = {"AE": ("Reverse charge", "VATEX-EU-AE")}


def unit_code(unit: str) -> str:
    """Our billing unit (``vCPU-hour``, ``GB-month``, ``1,000 requests``) as a Rec 20 code."""
    for suffix, code in _UNIT_SUFFIXES:
        if unit.endswith(suffix):
            return code
    return _UNITS.get(unit, "C62")


def _dec(value: object) -> Decimal:
    return Decimal(str(value))


def _text(value: Decimal) -> str:
    """A decimal as XML wants it: plain notation, no exponent (``1E+1`` → ``10``)."""
    return format(value, "f")


def percent(rate: Decimal) -> Decimal:
    """A tax rate fraction (0.21) as the percentage EN 16931 carries (21)."""
    return (rate * 100).normalize() + 0  # + 0: no negative zero, normalized exponent


def _party(name: str, address: dict[str, str] | None, extra: dict[str, Any]) -> dict[str, Any]:
    party: dict[str, Any] = {"name": name}
    if address:
        party.update(
            {
                "addr_l1": address["street"] or None,
                "postcode": address["postcode"] or None,
                "city": address["city"] or None,
                "country_code": address["country"],
            }
        )
    party.update({k: v for k, v in extra.items() if v})
    return party


def _seller(body: dict[str, Any]) -> dict[str, Any]:
    issuer = body["issuer"]
    seller = issuer.get("einvoice") or {}
    contacts = [{"email": issuer["email"]}] if issuer.get("email") else []
    return _party(
        issuer["legal_name"],
        seller.get("postal_address"),
        {
            "vat_identifier": issuer.get("vat_id"),
            "einvoicing_addr": seller.get("endpoint_id"),
            "einvoicing_addr_schemeid": seller.get("endpoint_scheme"),
            "contacts": contacts,
        },
    )


def _buyer(body: dict[str, Any]) -> dict[str, Any]:
    bill_to = body["bill_to"]
    buyer = bill_to["einvoice"]
    contacts = [{"email": bill_to["email"]}] if bill_to.get("email") else []
    return _party(
        bill_to["name"],
        buyer.get("postal_address"),
        {
            "vat_identifier": buyer.get("vat_id"),
            "einvoicing_addr": buyer.get("endpoint_id"),
            "einvoicing_addr_schemeid": buyer.get("endpoint_scheme"),
            "contacts": contacts,
        },
    )


def _vat(body: dict[str, Any]) -> dict[str, Any]:
    """The tenant's VAT category, rate and exemption (BT-118..BT-121)."""
    buyer = body["bill_to"]["einvoice"]
    category = buyer["vat_category"]
    rate = _text(percent(_dec(body["totals"]["tax_rate"])))
    vat: dict[str, Any] = {"BT-118": category, "BT-119": rate}
    if category == "E":
        vat["BT-120"] = buyer["exemption_reason"]
    elif category in _EXEMPTION:
        vat["BT-120"], vat["BT-121"] = _EXEMPTION[category]
    return vat


def _line_period(line: dict[str, Any], first: date, last: date) -> dict[str, Any]:
    """The days a line's price applied (BT-134, BT-135), within the invoicing period (Peppol
    R110/R111): two lines of one product at two prices differ by their periods."""
    if not line.get("price_from"):
        return {}
    start = max(datetime.fromisoformat(line["price_from"]).date(), first)
    end = last
    if line.get("price_to"):  # an exclusive instant: the last day is the one before it
        end = min(
            (datetime.fromisoformat(line["price_to"]) - timedelta(microseconds=1)).date(), last
        )
    return {"BT-134": start, "BT-135": end} if start <= end else {}


def _line(
    line: dict[str, Any], sign: int, vat: dict[str, Any], period: tuple[date, date]
) -> dict[str, Any]:
    quantity = sign * _dec(line["quantity"])
    name = str(line["description"] or line["product"])
    site = str(line.get("site") or "*")
    if site != "*" and f"({site})" not in name:  # as the PDF groups lines: by site
        name = f"{name} ({site})"
    detail = "; ".join(p for p in (str(line["unit"]), line.get("tier_detail") or "") if p)
    return {
        **_line_period(line, *period),
        "BT-126": str(line["line_no"]),
        "BT-129": _text(quantity),
        "BT-130": unit_code(str(line["unit"])),
        "BT-131": _text(sign * _dec(line["list_amount"])),
        "BT-146": _text(_dec(line["unit_price"])),
        "BT-151": vat["BT-118"],
        "BT-152": vat["BT-119"],
        "BT-153": name,
        "BT-154": detail,
    }


def _check(rule: str, ok: bool, number: str, what: str) -> None:
    if not ok:
        raise CloseError(f"e-invoice {number}: {rule} fails: {what}; no e-invoice written")


def _allowances_charges(
    totals: dict[str, Decimal], vat: dict[str, Any], no_lines: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The discount as an allowance, the minimum lift as a charge (as the PDF shows them)."""
    shown = totals["subtotal_amount"] - totals["lines_amount"] - totals["minimum_adjustment"]
    common = {"vat_category_code": vat["BT-118"], "vat_rate": vat["BT-119"]}
    allowances, charges = [], []
    if shown < 0:
        discount = {"amount": _text(-shown), "reason": "Discount", "reason_code": "95"}
        allowances.append({**discount, **common})
    elif shown > 0:
        charges.append({"amount": _text(shown), "reason": "Adjustment", **common})
    minimum = totals["minimum_adjustment"]
    if minimum and not no_lines:
        charges.append({"amount": _text(minimum), "reason": "Minimum monthly commitment", **common})
    return allowances, charges


def _sum(items: list[dict[str, Any]], key: str) -> Decimal:
    return sum((_dec(i[key]) for i in items), Decimal(0))


def semantic_model(number: str, issued_at: str, body: dict[str, Any]) -> dict[str, Any]:
    """The EN 16931 model of an issued document (keys as the ``factur-x`` library names them)."""
    credit = body["kind"] == "credit_note"
    sign = -1 if credit else 1
    totals = {k: sign * _dec(v) for k, v in body["totals"].items() if k != "tax_rate"}
    vat = _vat(body)
    period = (date.fromisoformat(body["period_start"]), date.fromisoformat(body["period_end"]))
    lines = [_line(line, sign, vat, period) for line in body["lines"]]
    no_lines = not lines
    if no_lines:  # BR-16: at least one line; the minimum commitment is what is billed
        minimum = totals["minimum_adjustment"]
        lines = [{"BT-126": "1", "BT-129": "1", "BT-130": "C62", "BT-131": _text(minimum),
                  "BT-146": _text(minimum), "BT-151": vat["BT-118"], "BT-152": vat["BT-119"],
                  "BT-153": "Minimum monthly commitment"}]  # fmt: skip
    allowances, charges = _allowances_charges(totals, vat, no_lines)
    line_total = _sum(lines, "BT-131")
    allowance_total, charge_total = _sum(allowances, "amount"), _sum(charges, "amount")
    net = line_total - allowance_total + charge_total
    tax = totals["tax_amount"]
    minor = Decimal(1).scaleb(-get_currency_precision(body["currency"]))  # as rating rounds
    expected_tax = (net * _dec(body["totals"]["tax_rate"])).quantize(minor, ROUND_HALF_UP)
    _check("BR-CO-10", no_lines or line_total == totals["lines_amount"], number,
           f"lines sum to {line_total}, the PDF says {totals['lines_amount']}")  # fmt: skip
    _check("BR-CO-13", net == totals["subtotal_amount"], number,
           f"net {net} is not the PDF's subtotal {totals['subtotal_amount']}")  # fmt: skip
    _check("BR-CO-17", tax == expected_tax, number,
           f"tax {tax} is not {net} × rate = {expected_tax}")  # fmt: skip
    _check("BR-CO-15", net + tax == totals["total_amount"], number,
           f"{net} + {tax} is not the PDF's total {totals['total_amount']}")  # fmt: skip
    issued = datetime.fromisoformat(issued_at).date()
    model: dict[str, Any] = {
        "BT-1": number,
        "BT-2": issued,
        "BT-3": CREDIT_NOTE if credit else INVOICE,
        "BT-5": body["currency"],
        "BT-72": date.fromisoformat(body["period_end"]),
        "BT-73": date.fromisoformat(body["period_start"]),
        "BT-74": date.fromisoformat(body["period_end"]),
        "BG-4": _seller(body),
        "BG-7": _buyer(body),
        "BG-20": allowances,
        "BG-21": charges,
        "BG-23": [{"BT-116": _text(net), "BT-117": _text(tax), **vat}],
        "BG-25": lines,
        "BT-106": _text(line_total),
        "BT-109": _text(net),
        "BT-110": _text(tax),
        "BT-112": _text(net + tax),
        "BT-115": _text(net + tax),
    }
    if allowances:
        model["BT-107"] = _text(allowance_total)
    if charges:
        model["BT-108"] = _text(charge_total)
    reference = body["bill_to"]["einvoice"].get("buyer_reference")
    if reference:
        model["BT-10"] = reference
    preceding = body.get("credits_number") if credit else body.get("replaces_number")
    if preceding:
        model["BG-3"] = [{"BT-25": preceding}]
    if not credit:
        _payment(model, body, issued, number)
    return model


def _payment(model: dict[str, Any], body: dict[str, Any], issued: date, number: str) -> None:
    """Due date and terms (BT-9, BT-20); a SEPA credit transfer to the issuer's account."""
    days = int(body["payment_terms_days"])
    model["BT-9"] = issued + timedelta(days=days)
    model["BT-20"] = f"Payment within {days} days of the invoice date"
    seller = body["issuer"].get("einvoice") or {}
    if seller.get("iban"):
        model["BT-81"] = "58"  # SEPA credit transfer (UNTDID 4461)
        model["BT-83"] = number
        model["BT-84"] = seller["iban"]
        if seller.get("bic"):
            model["BT-86"] = seller["bic"]


def check_body(body: dict[str, Any], at: str) -> None:
    """Refuse (CloseError) a body whose e-invoice would break the EN 16931 arithmetic, before
    it is numbered: the close then issues nothing rather than a document it cannot render."""
    if formats(body):
        semantic_model(f"{body['kind']} of {body['tenant_id']}", at, body)


def formats(body: dict[str, Any]) -> tuple[str, ...]:
    """The e-invoice formats a frozen body asks for (none for bodies issued before)."""
    buyer = body.get("bill_to", {}).get("einvoice")
    return tuple(buyer["formats"]) if buyer else ()
