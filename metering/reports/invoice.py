"""Invoice and credit-note documents: context from a frozen body, HTML, PDF and usage CSV.

Everything here reads only the document's frozen body (from the register) plus its number
and issue date, so rendering the same issued document twice gives the same content.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from metering.einvoice.model import formats, semantic_model
from metering.einvoice.xml import facturx_cii, peppol_ubl
from metering.lake.storage import write_bytes
from metering.reports import i18n, wording
from metering.reports.chart import daily_stacked_bars
from metering.reports.csvfile import csv_bytes
from metering.reports.formatting import dec, money
from metering.reports.render import Renderer
from metering.reports.wording import Gettext

APPENDIX_ROWS = 15  # usage rows printed in the PDF (keeps it ~2 pages); the attached CSV has all

USAGE_CSV_COLUMNS = (
    "document_number",
    "tenant_id",
    "site",
    "resource_id",
    "resource_name",
    "product",
    "dimension",
    "unit",
    "quantity",
    "list_amount",
    "first_date",
    "last_date",
    "rate_card_id",
    "filled_hours",
)

_NUMBERS = ("quantity", "list_amount", "filled_hours")  # every other column is text
TEMPLATES = {"invoice": "invoice.html.j2", "credit_note": "credit_note.html.j2"}


@dataclass(frozen=True)
class DocumentRender:
    """What a worker needs to render one document (picklable)."""

    number: str
    issued_at: str
    body_json: str
    pdf_path: str
    csv_path: str
    draft: bool = False  # a draft for review: watermarked, no number
    xml_path: str = ""  # where the Peppol UBL goes, when the body asks for one


def _line_view(
    t: Gettext, line: dict[str, Any], first: date, last: date, locale: str
) -> dict[str, Any]:
    """A line as a person reads it: label, quantity in its unit, what the price is per, the
    part of the period its price applied to, the tier note (metering.reports.wording)."""
    return {
        **line,
        "label": wording.line_description(t, line),
        "quantity_text": wording.quantity_text(t, line["quantity"], line["unit"], locale),
        "per_text": wording.per_text(t, line["unit"], locale),
        "period_text": wording.price_period(t, line, first, last, locale),
        "tier_text": wording.tier_text(t, line.get("tier_detail"), locale),
    }


def _groups(
    lines: list[dict[str, Any]], t: Gettext, first: date, last: date, locale: str
) -> list[dict[str, Any]]:
    """Lines grouped by service, then site, each group with its (rounded-line) sum. Lines of
    zero amount are folded into one note per group (``free``: their labels), not printed as
    lines of 0.00; the attached CSV keeps their usage."""
    groups: OrderedDict[tuple[str, str], list[dict[str, Any]]] = OrderedDict()
    for line in sorted(lines, key=lambda ln: (ln["service"], ln["site"], ln["line_no"])):
        groups.setdefault((line["service"], line["site"]), []).append(line)
    result = []
    for (service, site), members in groups.items():
        shown = [_line_view(t, m, first, last, locale) for m in members]
        free = [m["label"] for m in shown if dec(m["list_amount"]) == 0]
        result.append(
            {
                "service": service,
                "label": wording.service_text(t, service),
                "site": site,
                "lines": [m for m in shown if dec(m["list_amount"]) != 0],
                "free": list(dict.fromkeys(free)),
                "amount": sum((dec(m["list_amount"]) for m in members), Decimal(0)),
            }
        )
    return result


def usage_view(t: Gettext, rows: list[dict[str, Any]], locale: str) -> list[dict[str, Any]]:
    """Appendix rows with their product label and quantity in words."""
    return [
        {
            **row,
            "label": wording.product_text(t, row["product"], row.get("dimension")),
            "quantity_text": wording.quantity_text(t, row["quantity"], row["unit"], locale),
        }
        for row in rows
    ]


def _totals(totals: dict[str, Any]) -> dict[str, Any]:
    """The totals block; the discount shown is whatever makes lines + discount + minimum =
    subtotal, so the printed arithmetic always adds up whichever sign rating stores."""
    lines, minimum = dec(totals["lines_amount"]), dec(totals["minimum_adjustment"])
    shown = dict(totals)
    shown["discount_shown"] = dec(totals["subtotal_amount"]) - lines - minimum
    shown["minimum_shown"] = minimum
    return shown


def _filled_hours(lines: list[dict[str, Any]]) -> Decimal:
    """The resource-hours the fill policy carried, over the lines that have some (the bands of
    one tiered period share theirs: counted once per period)."""
    periods = {
        (ln["product"], ln["dimension"], ln["site"], ln["rate_card_id"]): dec(ln["filled_hours"])
        for ln in lines
        if ln.get("filled_hours")
    }
    return sum(periods.values(), Decimal(0))


def context(
    number: str, issued_at: str, body: dict[str, Any], draft: bool = False
) -> dict[str, Any]:
    """The template context of one document (``draft``: watermarked DRAFT, not issued)."""
    issued = datetime.fromisoformat(issued_at).date()
    first, last = date.fromisoformat(body["period_start"]), date.fromisoformat(body["period_end"])
    points = [
        (date.fromisoformat(d["date"]), d["service"], dec(d["list_amount"])) for d in body["daily"]
    ]
    usage = body["usage"]
    locale = body["bill_to"]["locale"]
    t = i18n.translations(i18n.catalog_for(locale))
    currency = body["currency"]
    points = [(day, wording.service_text(t, service), amount) for day, service, amount in points]
    return {
        "number": number,
        "draft": draft,
        "doc": body,
        "locale": locale,
        "currency": currency,
        "issued": issued.isoformat(),
        "due": (issued + timedelta(days=int(body["payment_terms_days"]))).isoformat(),
        "groups": _groups(body["lines"], t, first, last, locale),
        "totals": _totals(body["totals"]),
        "estimated": any(line.get("filled_hours") for line in body["lines"]),
        "estimated_hours": _filled_hours(body["lines"]),
        "chart": daily_stacked_bars(
            points,
            first,
            last,
            title=t.gettext("Daily cost by service"),
            axis=lambda amount: money(amount, currency, locale),
        )
        if points
        else None,
        "appendix": usage_view(t, usage[:APPENDIX_ROWS], locale),
        "appendix_more": max(len(usage) - APPENDIX_ROWS, 0),
        "csv_name": f"{number}-usage.csv",
        "reason": wording.reason_text(t, body.get("reason") or ""),
    }


def html(
    renderer: Renderer, number: str, issued_at: str, body: dict[str, Any], draft: bool = False
) -> str:
    """The document's HTML (what the golden snapshots compare)."""
    return renderer.html(TEMPLATES[body["kind"]], context(number, issued_at, body, draft))


def _usage_cell(row: dict[str, Any], column: str) -> object:
    """A usage row's cell: filled hours are 0 when the row has none (a body keeps only those
    it has); a body frozen before usage rows named their card leaves the card empty."""
    if column == "filled_hours":
        return row.get(column) or "0"
    return row.get(column)


def usage_csv(number: str, body: dict[str, Any]) -> bytes:
    """Every usage row behind the document, so the tenant can check each line; every text
    cell safe for a spreadsheet, amounts and quantities kept as numbers (reports/csvfile)."""
    rows = (
        [number, body["tenant_id"], *(_usage_cell(row, c) for c in USAGE_CSV_COLUMNS[2:])]
        for row in body["usage"]
    )
    return csv_bytes(USAGE_CSV_COLUMNS, rows, numeric=_NUMBERS)


def render_document(renderer: Renderer, job: DocumentRender) -> None:
    """Write the document's usage CSV, its Peppol UBL when the body asks for one, then its
    PDF (with the CSV attached; a Factur-X PDF/A-3 with the CII too when asked); all atomic.
    The PDF is written last: its presence means the document is fully rendered. Rendering
    an issued document again gives the same bytes (every date in it is its issue time)."""
    body = json.loads(job.body_json)
    data = usage_csv(job.number, body)
    write_bytes(Path(job.csv_path), data)
    cii = None
    wanted = () if job.draft else formats(body)  # a draft has no number: no e-invoice
    if wanted:  # built (and checked) before the PDF: a failure leaves no PDF behind
        model = semantic_model(job.number, job.issued_at, body)
        if "peppol-ubl" in wanted:
            write_bytes(Path(job.xml_path), peppol_ubl(model))
        if "factur-x" in wanted:
            cii = facturx_cii(model)
    text = html(renderer, job.number, job.issued_at, body, job.draft)
    at = datetime.fromisoformat(job.issued_at)  # the bytes depend on the issue, not on now
    pdf = renderer.pdf(text, [(Path(job.csv_path).name, data)], at=at, facturx=cii)
    write_bytes(Path(job.pdf_path), pdf)
