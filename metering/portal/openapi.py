"""The OpenAPI 3.1 document of ``/api/v1``, generated from :data:`metering.portal.api.ROUTES`.

Served at ``/api/v1/openapi.json`` and committed as docs/openapi.json
(``metering serve --openapi docs/openapi.json`` rewrites it; a test fails when it is stale).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

MONEY = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "description": "exact decimal"}
DECIMAL = {"type": "string", "description": "exact decimal"}
MONTH = {"type": "string", "pattern": r"^\d{4}-\d{2}$"}


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required or list(props)}


def _list(item: str) -> dict[str, Any]:
    return _obj(
        {
            "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "total": {"type": "integer"},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "next": {"type": ["string", "null"], "description": "URL of the next page"},
        }
    )


_TOTALS = _obj(
    {
        k: MONEY
        for k in (
            "lines_amount",
            "discount_amount",
            "minimum_adjustment",
            "subtotal_amount",
            "tax_amount",
            "total_amount",
        )
    }
    | {"tax_rate": DECIMAL},
    ["total_amount"],
)
_LINE = {
    "type": "object",
    "description": "An invoice line (contract: docs/architecture.md, invoice_lines).",
    "properties": {
        "line_no": {"type": "integer"},
        "service": {"type": "string"},
        "product": {"type": "string"},
        "dimension": {"type": "string"},
        "site": {"type": "string"},
        "description": {"type": "string"},
        "quantity": DECIMAL,
        "unit": {"type": "string"},
        "unit_price": DECIMAL,
        "list_amount": MONEY,
        "estimated": {"type": "boolean", "description": "includes gap-filled usage"},
    },
}
_AMOUNT_ROW = _obj(
    {
        "key": {"type": "string"},
        "unit": {"type": "string"},
        "quantity": DECIMAL,
        "list_amount": DECIMAL,
    }
)
_DOCUMENT = _obj(
    {
        "number": {"type": "string"},
        "kind": {"enum": ["invoice", "credit_note"]},
        "state": {"enum": ["issued", "credited"]},
        "month": MONTH,
        "tenant_id": {"type": "string"},
        "currency": {"type": "string"},
        "total_amount": MONEY,
        "issued_at": {"type": "string", "format": "date-time"},
        "credits_number": {"type": ["string", "null"]},
        # EN 16931 e-invoices issued with it; a Peppol UBL downloads as .../ubl.xml
        "einvoice": {"type": "array", "items": {"enum": ["factur-x", "peppol-ubl"]}},
    }
)
_TENANT = _obj(
    {
        "tenant_id": {"type": "string"},
        "name": {"type": "string"},
        "currency": {"type": "string"},
        "orgs": {"type": "array", "items": {"type": "string"}},
    }
)

SCHEMAS: dict[str, Any] = {
    "Tenant": _TENANT,
    "TenantList": _list("Tenant"),
    "Document": _DOCUMENT,
    "DocumentList": _list("Document"),
    "Line": _LINE,
    "Totals": _TOTALS,
    "DocumentDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/Document"},
            _obj(
                {
                    "lines": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}},
                    "totals": {"$ref": "#/components/schemas/Totals"},
                    "period_start": {"type": "string", "format": "date"},
                    "period_end": {"type": "string", "format": "date"},
                }
            ),
        ]
    },
    "AmountRow": _AMOUNT_ROW,
    "MonthToDate": _obj(
        {
            "tenant_id": {"type": "string"},
            "month": MONTH,
            "closed": {"type": "boolean"},
            "estimated": {"type": "boolean", "description": "some line includes gap-filled usage"},
            "through": {"type": ["string", "null"], "format": "date"},
            "totals": {"oneOf": [{"$ref": "#/components/schemas/Totals"}, {"type": "null"}]},
            "lines": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}},
            "by_product": {"type": "array", "items": {"$ref": "#/components/schemas/AmountRow"}},
            "by_site": {"type": "array", "items": {"$ref": "#/components/schemas/AmountRow"}},
            "by_day": {"type": "array", "items": {"$ref": "#/components/schemas/AmountRow"}},
        }
    ),
    "Usage": _obj(
        {
            "month": MONTH,
            "product": {"type": "string"},
            "unit": {"type": "string"},
            "quantity": DECIMAL,
            "list_amount": DECIMAL,
        }
    ),
    "UsageList": _list("Usage"),
    "Month": _obj(
        {
            "month": MONTH,
            "rated": {"type": "boolean"},
            "closed": {"type": "boolean"},
            "invoices": {"type": "integer"},
            "credit_notes": {"type": "integer"},
            "totals": {"type": "object", "additionalProperties": MONEY},
            "blocked": {"type": ["string", "null"], "description": "why a due close waits"},
        }
    ),
    "MonthList": _list("Month"),
    "Coverage": _obj(
        {
            "site": {"type": "string"},
            "source": {"type": "string"},
            "days": {"type": ["integer", "null"], "description": "days with coverage computed"},
            "expected": {"type": ["integer", "null"], "description": "collection instants due"},
            "collected": {"type": ["integer", "null"], "description": "instants collected"},
            "ratio": {
                "type": ["string", "null"],
                "description": "collected / expected, truncated to 4 decimals",
            },
            "days_short": {
                "type": ["integer", "null"],
                "description": "days below the close's coverage threshold",
            },
            "worst_day": {"type": ["string", "null"], "format": "date"},
            "worst_day_ratio": {"type": ["string", "null"]},
            "runs": {"type": "integer"},
            "ok": {"type": "integer"},
            "partial": {"type": "integer"},
            "failed": {"type": "integer"},
            "quarantined": {"type": "integer"},
            "last_good_sample": {"type": ["string", "null"], "format": "date-time"},
        }
    ),
    "CoverageList": _list("Coverage"),
    "Error": _obj({"error": _obj({"code": {"type": "string"}, "message": {"type": "string"}})}),
}

PARAMETERS: dict[str, dict[str, Any]] = {
    "month": {"description": "a month, YYYY-MM (default: the newest rated month)", "schema": MONTH},
    "tenant_id": {
        "description": "only this tenant's (a tenant caller sees its own only)",
        "schema": {"type": "string"},
    },
    "state": {"description": "issued or credited", "schema": {"enum": ["issued", "credited"]}},
    "currency": {
        "description": "only tenants billed in this currency",
        "schema": {"type": "string"},
    },
    "limit": {
        "description": "page size (1-200, default 50)",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200},
    },
    "offset": {"description": "items to skip", "schema": {"type": "integer", "minimum": 0}},
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(route: Any) -> dict[str, Any]:
    params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _path_names(route.path)
    ]
    names = route.query + (("limit", "offset") if route.paged else ())
    params += [{"name": n, "in": "query", "required": False, **PARAMETERS[n]} for n in names]
    error = {"content": {"application/json": {"schema": _ref("Error")}}}
    responses: dict[str, Any] = {
        "200": {
            "description": "OK (with an ETag)",
            "headers": {"ETag": {"schema": {"type": "string"}}},
            "content": {"application/json": {"schema": _ref(route.response)}},
        },
        "304": {"description": "Not modified (If-None-Match matched the ETag)"},
        "400": {"description": "Bad parameter", **error},
        "401": {"description": "No API key or session", **error},
        "404": {"description": "Not found, or not this caller's", **error},
    }
    op = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "parameters": params,
        "responses": responses,
    }
    if route.provider_only:
        op["description"] = "Provider keys and sessions only; a tenant caller gets 404."
    return op


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def document() -> dict[str, Any]:
    from metering.portal.api import ROUTES

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "metering billing API",
            "version": "1.0.0",
            "description": "Tenants, invoices and credit notes, usage, month to date and "
            "coverage of a VMware Cloud Director provider's billing (docs/portal.md).",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"apiKey": []}, {"session": []}],
        "paths": {route.path: {"get": _operation(route)} for route in ROUTES},
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a provider-issued API key (mk_…)",
                },
                "session": {"type": "apiKey", "in": "cookie", "name": "__Host-metering"},
            },
        },
    }


def document_text() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


async def openapi_endpoint(request: Request) -> Response:
    return Response(document_text(), media_type="application/json")
