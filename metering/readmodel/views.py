"""What the read model returns: small frozen views, money as Decimal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class TenantView:
    tenant_id: str
    name: str
    currency: str
    orgs: tuple[str, ...]


@dataclass(frozen=True)
class DocumentView:
    """An issued invoice or credit note, as the portal and the API show it."""

    number: str
    kind: str  # invoice | credit_note
    state: str  # issued | credited
    month: str
    tenant_id: str
    currency: str
    total_amount: Decimal
    issued_at: str
    credits_number: str | None = None
    replaced_by: str | None = None
    einvoice: tuple[str, ...] = ()  # e-invoice formats issued with it (peppol-ubl, factur-x)

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "state": self.state,
            "month": self.month,
            "tenant_id": self.tenant_id,
            "currency": self.currency,
            "total_amount": str(self.total_amount),
            "issued_at": self.issued_at,
            "credits_number": self.credits_number,
            "einvoice": list(self.einvoice),
        }


@dataclass(frozen=True)
class MonthState:
    month: str
    rated: bool
    closed: bool
    invoices: int
    credit_notes: int
    totals: dict[str, Decimal] = field(default_factory=dict)  # issued invoice totals by currency


@dataclass(frozen=True)
class MonthToDate:
    tenant_id: str
    month: str
    closed: bool
    through: date | None
    lines: list[dict[str, Any]]
    totals: dict[str, Any] | None
    by: dict[str, list[dict[str, Any]]]

    @property
    def estimated(self) -> bool:
        return any(line["estimated"] for line in self.lines)
