"""Server-side paging and filtering in the shapes of the reference APIs.

- VCD legacy query (JSON ``QueryResultRecords``): ``page`` (1-based), ``pageSize`` (max 128),
  ``total``, ``record[]``, ``link[]`` with ``rel="nextPage"``.
- VCD OpenAPI: ``resultTotal, pageCount, page, pageSize, associations, values`` and the next
  page in a ``Link`` header; a page past the end is 200 with ``values: []``.
- OSE: ``items`` + ``pageInfo{offset, limit, total}``.

Faults ``duplicate`` (a page starts with the previous page's last record) and ``loop`` (the
next-page link points at page 1) are applied here.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse

Record = dict[str, Any]
MAX_PAGE_SIZE = 128
_FIQL = re.compile(r"^([\w.]+)(==|!=|=gt=|=ge=|=lt=|=le=)(.*)$")


class BadRequest(Exception):
    """A query parameter the API would refuse (answered as 400)."""


def _int_param(request: Request, name: str, default: int, low: int = 1) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, got {raw!r}") from None
    if value < low:
        raise BadRequest(f"{name} must be at least {low}")
    return value


def _dig(record: Record, dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _compare(value: Any, op: str, text: str) -> bool:
    if isinstance(value, bool):
        value = "true" if value else "false"
    if op in ("==", "!="):
        if isinstance(value, str) and "*" in text:
            match = re.fullmatch(re.escape(text).replace(r"\*", ".*"), value) is not None
        else:
            match = str(value) == text
        return match if op == "==" else not match
    try:
        left, right = float(value), float(text)
    except (TypeError, ValueError):
        left, right = str(value), text  # type: ignore[assignment]
    return {"=gt=": left > right, "=ge=": left >= right, "=lt=": left < right}.get(
        op, left <= right
    )


def apply_filter(records: list[Record], expression: str | None) -> list[Record]:
    """FIQL as VCD reads it: ``;`` is AND, ``,`` is OR; fields may be dotted paths."""
    if not expression:
        return records
    alternatives = []
    for branch in expression.split(","):
        terms = []
        for term in branch.split(";"):
            match = _FIQL.match(term.strip())
            if not match:
                raise BadRequest(f"cannot parse filter term {term!r}")
            terms.append(match.groups())
        alternatives.append(terms)
    return [
        r
        for r in records
        if any(all(_compare(_dig(r, f), op, v) for f, op, v in terms) for terms in alternatives)
    ]


def _sort(request: Request, records: list[Record]) -> list[Record]:
    for param, reverse in (("sortAsc", False), ("sortDesc", True)):
        field = request.query_params.get(param)
        if field:
            return sorted(records, key=lambda r: str(_dig(r, field) or ""), reverse=reverse)
    return records


def _page_slice(request: Request, records: list[Record], page: int, size: int) -> list[Record]:
    chunk = records[(page - 1) * size : page * size]
    if getattr(request.state, "fault", None) == "duplicate" and page > 1 and chunk:
        chunk = [records[(page - 1) * size - 1], *chunk]
    return chunk


def _url(request: Request, **changes: Any) -> str:
    params = dict(request.query_params)
    params.update({k: str(v) for k, v in changes.items()})
    base = str(request.url).split("?", 1)[0]
    return f"{base}?{urlencode(params)}"


def legacy_query(request: Request, records: list[Record], name: str) -> JSONResponse:
    """One page of a legacy ``/api/query`` (JSON ``QueryResultRecords``)."""
    page = _int_param(request, "page", 1)
    size = min(_int_param(request, "pageSize", 25), MAX_PAGE_SIZE)
    records = _sort(request, apply_filter(records, request.query_params.get("filter")))
    total = len(records)
    last = max(1, -(-total // size))
    media = "application/vnd.vmware.vcloud.query.records+json"
    links = [
        {"rel": "alternate", "type": "application/vnd.vmware.vcloud.query.records+xml",
         "href": _url(request, page=page, pageSize=size)},
        {"rel": "firstPage", "type": media, "href": _url(request, page=1, pageSize=size)},
        {"rel": "lastPage", "type": media, "href": _url(request, page=last, pageSize=size)},
    ]  # fmt: skip
    if page < last:
        target = 1 if getattr(request.state, "fault", None) == "loop" else page + 1
        links.append({"rel": "nextPage", "type": media, "href": _url(request, page=target)})
    if page > 1:
        links.append({"rel": "previousPage", "type": media, "href": _url(request, page=page - 1)})
    body = {
        "otherAttributes": {},
        "link": links,
        "href": _url(request, page=page, pageSize=size),
        "type": media,
        "name": name,
        "page": page,
        "pageSize": size,
        "total": total,
        "record": _page_slice(request, records, page, size),
        "firstPage": None,
        "previousPage": None,
        "nextPage": None,
        "lastPage": None,
    }
    return JSONResponse(body, media_type=f"{media};version=38.0")


def openapi(request: Request, records: list[Record], model: str) -> JSONResponse:
    """One page of an OpenAPI collection; next page in the ``Link`` header."""
    page = _int_param(request, "page", 1)
    size = min(_int_param(request, "pageSize", 25), MAX_PAGE_SIZE)
    records = _sort(request, apply_filter(records, request.query_params.get("filter")))
    total = len(records)
    count = -(-total // size)
    links = []
    if page < count:
        target = 1 if getattr(request.state, "fault", None) == "loop" else page + 1
        links.append(_link(_url(request, page=target, pageSize=size), "nextPage", model))
    if 1 < page <= count:
        links.append(_link(_url(request, page=page - 1, pageSize=size), "previousPage", model))
    if count:
        links.append(_link(_url(request, page=count, pageSize=size), "lastPage", model))
    body = {
        "resultTotal": total,
        "pageCount": count,
        "page": page,
        "pageSize": size,
        "associations": None,
        "values": _page_slice(request, records, page, size),
    }
    headers = {"Link": ", ".join(links)} if links else {}
    return JSONResponse(body, headers=headers, media_type="application/json;version=38.0")


def _link(url: str, rel: str, model: str) -> str:
    return f'<{url}>;rel="{rel}";type="application/json";model="{model}"'


def ose_items(request: Request, items: list[Record]) -> JSONResponse:
    """One OSE page: ``offset``/``limit`` in, ``items`` + ``pageInfo`` out."""
    offset = _int_param(request, "offset", 0, low=0)
    limit = min(_int_param(request, "limit", 100), 1000)
    chunk = items[offset : offset + limit]
    if getattr(request.state, "fault", None) == "duplicate" and offset > 0 and chunk:
        chunk = [items[offset - 1], *chunk]
    body = {"items": chunk, "pageInfo": {"offset": offset, "limit": limit, "total": len(items)}}
    return JSONResponse(body)
