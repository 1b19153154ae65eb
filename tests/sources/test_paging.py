"""Paging strategies: every page followed once, duplicates kept once, loops and short
listings retried and then reported, never silently truncated."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

from metering.errors import SourceUnavailable
from metering.sources import paging

from .fakeapi import BASE, FakeApi, js

RECORDS = [{"href": f"{BASE}/vcd/api/vApp/vm-{i}", "name": f"vm{i}"} for i in range(7)]


def legacy(pages: list[list[dict[str, Any]]], links: dict[int, int], total: int):  # type: ignore[no-untyped-def]
    def handler(request: Request, _: int) -> Response:
        page = int(request.query_params.get("page", 1))
        body: dict[str, Any] = {
            "page": page,
            "pageSize": 3,
            "total": total,
            "record": pages[page - 1] if page <= len(pages) else [],
        }
        if page in links:
            href = f"{BASE}/vcd/api/query?type=adminVM&format=records&page={links[page]}&pageSize=3"
            body["link"] = [{"rel": "nextPage", "href": href}]
        return js(body)

    return handler


def listing(api: FakeApi, coro_fn):  # type: ignore[no-untyped-def]
    async def go() -> Any:
        async with api.client() as client:
            return await coro_fn(client)

    return asyncio.run(go())


def test_vcd_query_follows_next_page_links_and_drops_duplicates() -> None:
    api = FakeApi()
    pages = [RECORDS[0:3], [RECORDS[2], *RECORDS[3:5]], RECORDS[5:7]]  # vm2 repeated on page 2
    api.handlers["/api/query"] = legacy(pages, {1: 2, 2: 3}, total=7)
    result = listing(api, lambda c: paging.vcd_query(c, "adminVM", page_size=3))
    assert [r["name"] for r in result.records] == [f"vm{i}" for i in range(7)]
    assert (result.pages, result.duplicates) == (3, 1)


def test_vcd_query_loop_is_retried_then_reported() -> None:
    api = FakeApi()
    looping = legacy([RECORDS[0:3], RECORDS[3:6], RECORDS[6:]], {1: 2, 2: 1}, 7)
    starts = []

    def handler(request: Request, n: int) -> Response:
        starts.extend([n] if request.query_params.get("page") == "1" else [])
        return looping(request, n)

    api.handlers["/api/query"] = handler
    with pytest.raises(SourceUnavailable, match="page loop"):
        listing(api, lambda c: paging.vcd_query(c, "adminVM", page_size=3))
    assert len(starts) == paging.LISTING_ATTEMPTS  # the whole listing, from page 1, each time


def test_vcd_query_fetches_pages_ahead_concurrently_in_page_order() -> None:
    api = FakeApi()
    records = [{"href": f"{BASE}/vcd/api/vApp/vm-{i}", "name": f"vm{i}"} for i in range(20)]
    pages = [records[i : i + 3] for i in range(0, 20, 3)]
    api.handlers["/api/query"] = legacy(pages, {p: p + 1 for p in range(1, len(pages))}, 20)
    result = listing(api, lambda c: paging.vcd_query(c, "adminVM", page_size=3))
    assert [r["name"] for r in result.records] == [f"vm{i}" for i in range(20)]
    assert api.calls["/api/query"] == len(pages) and result.pages == len(pages)
    assert api.max_in_flight > 1  # pages after the first were in flight together


def test_short_listing_is_retried_and_recovers() -> None:
    api = FakeApi()
    full = legacy([RECORDS[0:3], RECORDS[3:6], RECORDS[6:]], {1: 2, 2: 3}, 7)
    short = legacy([RECORDS[0:3], RECORDS[4:7]], {1: 2}, 7)  # vm3 shifted out under us

    def handler(request: Request, n: int) -> Response:
        return short(request, n) if n <= 2 else full(request, n)

    api.handlers["/api/query"] = handler
    result = listing(api, lambda c: paging.vcd_query(c, "adminVM", page_size=3))
    assert len(result.records) == 7


def test_openapi_link_header_then_page_count_and_empty_page() -> None:
    api = FakeApi()
    values = [{"id": f"urn:vcloud:org:{i}", "name": f"org{i}"} for i in range(5)]

    def handler(request: Request, _: int) -> Response:
        page = int(request.query_params["page"])
        chunk = values[(page - 1) * 2 : page * 2]
        headers = {}
        if page == 1:  # first page gives a Link header, later ones only pageCount
            nxt = f"{BASE}/vcd/cloudapi/1.0.0/orgs?page=2&pageSize=2"
            headers["Link"] = f'<{nxt}>;rel="nextPage";type="application/json"'
        body = {"resultTotal": 5, "pageCount": 3, "page": page, "pageSize": 2, "values": chunk}
        return js(body, headers=headers)

    api.handlers["/cloudapi/1.0.0/orgs"] = handler
    result = listing(api, lambda c: paging.openapi(c, "/cloudapi/1.0.0/orgs", page_size=2))
    assert [r["name"] for r in result.records] == [f"org{i}" for i in range(5)]


def test_ose_offset_limit() -> None:
    api = FakeApi()
    items = [{"id": str(i), "name": f"t{i}"} for i in range(5)]

    def handler(request: Request, _: int) -> Response:
        off, lim = int(request.query_params["offset"]), int(request.query_params["limit"])
        return js(
            {"items": items[off : off + lim], "pageInfo": {"offset": off, "limit": lim, "total": 5}}
        )

    api.handlers["/api/v1/core/tenants"] = handler
    result = listing(api, lambda c: paging.ose_items(c, "/api/v1/core/tenants", limit=2))
    assert [r["name"] for r in result.records] == [f"t{i}" for i in range(5)]


def test_ose_page_repeating_the_previous_record_does_not_skip_one() -> None:
    api = FakeApi()
    items = [{"id": str(i), "name": f"t{i}"} for i in range(5)]

    def handler(request: Request, _: int) -> Response:
        off, lim = int(request.query_params["offset"]), int(request.query_params["limit"])
        chunk = items[off : off + lim]
        if off:  # the simulator's "duplicate" fault: the previous page's last record again
            chunk = [items[off - 1], *chunk]
        return js({"items": chunk, "pageInfo": {"offset": off, "limit": lim, "total": 5}})

    api.handlers["/x"] = handler
    result = listing(api, lambda c: paging.ose_items(c, "/x", limit=2))
    assert [r["name"] for r in result.records] == [f"t{i}" for i in range(5)]
    assert result.duplicates == 2 and api.calls["/x"] == 3


def test_cloudian_limit_plus_one_repeats_the_marker_row_once() -> None:
    api = FakeApi()
    users = [{"userId": f"u{i}", "groupId": "g"} for i in range(5)]

    def handler(request: Request, _: int) -> Response:
        limit = int(request.query_params["limit"])
        offset = request.query_params.get("offset")
        start = 0 if offset is None else int(offset[1:])
        return js(users[start : start + limit])

    api.handlers["/user/list"] = handler
    result = listing(api, lambda c: paging.cloudian_list(c, "/user/list", "userId", limit=2))
    assert [r["userId"] for r in result.records] == [f"u{i}" for i in range(5)]
    assert result.duplicates == 0
