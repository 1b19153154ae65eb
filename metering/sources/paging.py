"""Pagination strategies, one per API style, each guarded against loops and duplicates.

- :func:`vcd_query`: VCD legacy query (``record[]``, next page = ``link[rel=nextPage]``).
- :func:`openapi`: VCD OpenAPI (``values``, next page = ``Link: <…>;rel="nextPage"``, else
  ``pageCount``; a page past the end is ``values: []``).
- :func:`ose_items`: OSE (``items`` + ``pageInfo{offset,limit,total}``, ``offset``/``limit``).
- :func:`cloudian_list`: Cloudian ``limit+1`` (a reply of ``limit+1`` rows means more; ask
  again with ``offset`` = the extra row's id, which comes back first).

Guards: a page URL/offset seen twice, or more pages than the total allows, is a loop; a
record id seen twice is a duplicate and kept once. When the API states a total and the
unique records do not add up to it, the listing was inconsistent (a page shifted under us):
the whole listing is retried, then reported as unavailable, never silently short.

Every page must be the envelope its API returns (:class:`~metering.sources.http.BadAnswer`
otherwise, naming what is missing): a legacy query page is an object with an integer
``total`` and a ``record`` list (absent only when ``total`` is 0); an OpenAPI page an object
with a ``values`` list and an integer ``resultTotal``; an OSE page an object with an
``items`` list; a Cloudian list a JSON array (an empty body: none). ``null``, ``{}`` or
``[]`` in place of an envelope is never read as "no resources". Next-page links are
resolved against the page that carried them and must stay on the site's origin
(:class:`~metering.sources.http.OffOrigin`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from metering.errors import SourceDataError, SourceUnavailable
from metering.sources.answers import BadAnswer
from metering.sources.http import NotFound, SiteClient

__all__ = [
    "BadAnswer",
    "Listing",
    "NotFound",
    "cloudian_list",
    "openapi",
    "ose_items",
    "vcd_query",
]

Record = Mapping[str, Any]
KeyFn = Callable[[Record], str]

MAX_PAGES = 10_000
LISTING_ATTEMPTS = 3
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;[^,]*rel="?nextPage"?')


class ListingInconsistent(Exception):
    """A listing looped or did not add up; the caller lists again from the start."""


@dataclass
class Listing:
    """The unique records of a listing and what the guards saw."""

    records: list[Record] = field(default_factory=list)
    pages: int = 0
    duplicates: int = 0
    _seen: set[str] = field(default_factory=set, repr=False)

    def add(self, items: list[Any], key: KeyFn) -> int:
        """Add a page's records, dropping repeats; returns how many were new."""
        new = 0
        self.pages += 1
        if self.pages > MAX_PAGES:
            raise ListingInconsistent(f"more than {MAX_PAGES} pages")
        for position, item in enumerate(items):
            k = key(item) if isinstance(item, dict) else f"#{self.pages}:{position}"
            if k in self._seen:
                self.duplicates += 1
                continue
            self._seen.add(k)
            self.records.append(item)
            new += 1
        return new


def record_id(*names: str) -> KeyFn:
    """Key a record by its first present id field (falls back to its JSON text)."""

    def key(record: Record) -> str:
        for name in names:
            value = record.get(name)
            if value not in (None, ""):
                return str(value)
        import json

        return json.dumps(record, sort_keys=True, default=str)

    return key


async def _with_retries(client: SiteClient, what: str, run: Callable[[], Any]) -> Listing:
    problem = ""
    for _ in range(LISTING_ATTEMPTS):
        try:
            listing: Listing = await run()
            return listing
        except ListingInconsistent as exc:
            problem = str(exc)
            client.stats.retries += 1
    raise SourceUnavailable(
        f"{what}: listing inconsistent after {LISTING_ATTEMPTS} attempts ({problem})",
        site=client.site.name,
    )


def _check_total(listing: Listing, total: object) -> None:
    if isinstance(total, int) and len(listing.records) != total:
        raise ListingInconsistent(f"{len(listing.records)} unique records, total says {total}")


def _count(value: object) -> int | None:
    """A count field (``total``, ``resultTotal``): a non-negative integer, else None."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _envelope(
    client: SiteClient, what: str, body: Any, items: str, total: str
) -> tuple[list[Any], int]:
    """The records and stated total of one page; anything but the envelope is a BadAnswer."""
    if not isinstance(body, dict):
        shown = "null" if body is None else type(body).__name__
        raise BadAnswer(f"{what}: answered {shown}, not a page object", site=client.site.name)
    count = _count(body.get(total))
    if count is None:
        raise BadAnswer(
            f"{what}: page without a valid {total} ({body.get(total)!r})", site=client.site.name
        )
    records = body.get(items)
    if records is None and count == 0:
        return [], count
    if not isinstance(records, list):
        raise BadAnswer(
            f"{what}: page without a {items} list ({total} {count})", site=client.site.name
        )
    return records, count


async def vcd_query(
    client: SiteClient,
    query_type: str,
    *,
    page_size: int = 128,
    key: KeyFn | None = None,
    headers: Mapping[str, str] | None = None,
) -> Listing:
    """All records of a legacy ``/api/query?type=…&format=records`` query (JSON form).

    The ``nextPage`` links are followed exactly as before, but once the first page states
    ``total`` and ``pageSize`` the pages after it are requested ahead, concurrently (by
    ``page`` number, as go-vcd does): a full-size site's ~400 VM pages one after the other
    were the longest chain of a collection. A link is answered from a page fetched ahead
    only when it asks for exactly that page (same query), else it is requested as given.
    """
    keyf = key or record_id("href", "id")

    def query(page: int) -> dict[str, Any]:
        return {"type": query_type, "format": "records", "page": page, "pageSize": page_size}

    async def run() -> Listing:
        listing, visited = Listing(), set()
        ahead: dict[str, asyncio.Task[tuple[Any, httpx.Response]]] = {}
        url: str | None = "/api/query"
        params: dict[str, Any] | None = query(1)
        total: int | None = None
        try:
            while url is not None:
                marker = _page_marker(url, params)
                if marker in visited:
                    raise ListingInconsistent(f"page loop at {url}")
                visited.add(marker)
                task = ahead.pop(_query_of(url, params), None)
                body, response = (
                    await task if task else await client.get_json("vcd", url, params, headers)
                )
                records, total = _envelope(client, f"query {query_type}", body, "record", "total")
                if not ahead and len(visited) == 1:
                    ahead = _fetch_ahead(client, body, query, headers)
                if not listing.add(records, keyf) and not records:
                    break
                url, params = _legacy_next(client, body, response), None
        finally:
            for task in ahead.values():
                task.cancel()
            await asyncio.gather(*ahead.values(), return_exceptions=True)
        _check_total(listing, total)
        return listing

    return await _with_retries(client, f"query {query_type}", run)


def _fetch_ahead(
    client: SiteClient,
    first: Mapping[str, Any],
    query: Callable[[int], dict[str, Any]],
    headers: Mapping[str, str] | None = None,
) -> dict[str, asyncio.Task[tuple[Any, httpx.Response]]]:
    """Tasks fetching pages 2..N of a legacy query, keyed by their query string."""
    total, size = first.get("total"), first.get("pageSize")
    if not isinstance(total, int) or not isinstance(size, int) or size < 1:
        return {}
    if not any(isinstance(k, dict) and k.get("rel") == "nextPage" for k in first.get("link") or []):
        return {}
    pages = min(-(-total // size), MAX_PAGES)
    return {
        _query_of("/api/query", query(n)): asyncio.ensure_future(
            client.get_json("vcd", "/api/query", query(n), headers)
        )
        for n in range(2, pages + 1)
    }


def _query_of(url: str, params: Mapping[str, Any] | None) -> str:
    """A page's query parameters, order-free, to match a link with a page fetched ahead."""
    parsed = httpx.URL(url).copy_merge_params(dict(params or {}))
    return "&".join(sorted(f"{k}={v}" for k, v in parsed.params.multi_items()))


def _page_marker(url: str, params: Mapping[str, Any] | None) -> str:
    """What identifies a page: its ``page`` number when it has one, else the whole URL."""
    parsed = httpx.URL(url).copy_merge_params(dict(params or {}))
    page = parsed.params.get("page")
    return f"page={page}" if page else str(parsed)


def _legacy_next(
    client: SiteClient, body: Mapping[str, Any], response: httpx.Response
) -> str | None:
    """The page's ``nextPage`` link, resolved on the site's origin (or OffOrigin)."""
    links = body.get("link") or []
    for link in links if isinstance(links, list) else []:
        if isinstance(link, dict) and link.get("rel") == "nextPage" and link.get("href"):
            return client.resolve("vcd", str(link["href"]), relative_to=str(response.request.url))
    return None


async def openapi(
    client: SiteClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    page_size: int = 128,
    key: KeyFn | None = None,
) -> Listing:
    """All ``values`` of a VCD OpenAPI collection (``/cloudapi/…``)."""
    keyf = key or record_id("id")

    async def run() -> Listing:
        listing, visited = Listing(), set()
        page, total = 1, 0
        url: str = path
        query: dict[str, Any] | None = {**(params or {}), "page": 1, "pageSize": page_size}
        while True:
            marker = _page_marker(url, query)
            if marker in visited:
                raise ListingInconsistent(f"page loop at {url}")
            visited.add(marker)
            body, response = await client.get_json("vcd", url, query)
            values, total = _envelope(client, f"GET {path}", body, "values", "resultTotal")
            listing.add(values, keyf)
            if not values:
                break
            match = _LINK_NEXT.search(response.headers.get("Link", ""))
            page_count = body.get("pageCount")
            if match:
                here = str(response.request.url)
                url, query = client.resolve("vcd", match.group(1), relative_to=here), None
            elif isinstance(page_count, int) and page < page_count:
                url, query = path, {**(params or {}), "page": page + 1, "pageSize": page_size}
            else:
                break
            page += 1
        _check_total(listing, total)
        return listing

    return await _with_retries(client, f"GET {path}", run)


async def ose_items(
    client: SiteClient, path: str, *, limit: int = 100, key: KeyFn | None = None
) -> Listing:
    """All ``items`` of an OSE list (``offset``/``limit`` + ``pageInfo.total``)."""
    keyf = key or record_id("id", "name")

    async def run() -> Listing:
        listing, offset = Listing(), 0
        offsets: set[int] = set()
        total: int | None = None
        while True:
            if offset in offsets:
                raise ListingInconsistent(f"offset loop at {offset}")
            offsets.add(offset)
            body, _ = await client.get_json("ose", path, {"offset": offset, "limit": limit})
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                shown = "null" if body is None else type(body).__name__
                raise BadAnswer(
                    f"GET {path}: answered {shown} without an items list", site=client.site.name
                )
            items = body["items"]
            info = body.get("pageInfo")
            total = _count(info.get("total")) if isinstance(info, dict) else None
            new = listing.add(items, keyf)
            if items and not new:
                raise ListingInconsistent(f"page at offset {offset} repeats earlier records")
            offset += new  # a repeated record does not move the window
            # Without a stated total, only a page shorter than asked ends the listing.
            if not items or (offset >= total if total is not None else len(items) < limit):
                break
        _check_total(listing, total)
        return listing

    return await _with_retries(client, f"GET {path}", run)


async def cloudian_list(
    client: SiteClient,
    path: str,
    id_field: str,
    *,
    params: Mapping[str, Any] | None = None,
    limit: int = 100,
) -> Listing:
    """All rows of a Cloudian ``limit+1`` list (``/group/list``, ``/user/list``)."""
    keyf = record_id(id_field)

    async def run() -> Listing:
        listing, offset = Listing(), None
        offsets: set[str] = set()
        while True:
            query = {**(params or {}), "limit": limit + 1}
            if offset is not None:
                if offset in offsets:
                    raise ListingInconsistent(f"offset loop at {offset}")
                offsets.add(offset)
                query["offset"] = offset
            body, response = await client.get_json("cloudian", path, query, allow_empty=True)
            if response.status_code == 204 or not isinstance(body, list | None):
                # nothing to list is a 200 with an empty body; a 204 or an object is not an
                # answer of a list call (apache/cloudstack CloudianClient)
                got = "HTTP 204" if response.status_code == 204 else type(body).__name__
                raise SourceDataError(
                    f"GET {path}: {got} where the API answers a JSON list", site=client.site.name
                )
            rows = list(body or [])
            if len(rows) <= limit:
                listing.add(rows, keyf)
                break
            listing.add(rows[:limit], keyf)
            offset = keyf(rows[limit])
        return listing

    return await _with_retries(client, f"GET {path}", run)
