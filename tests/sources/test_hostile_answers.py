"""Hostile and broken API answers (issue 17): every case ends in a one-line error for that
part, a quarantined record, or the right rows; never a traceback, never a silently wrong
listing, and never a credential sent off the site.

The HTTP-level cases run the real client and paging code against a scripted API (in-process
ASGI, ``fakeapi``); the origin cases against two real loopback servers, the second one
recording whether an ``Authorization`` header reached it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

from metering.config import Secret, SiteConfig
from metering.errors import MeteringError, SourceDataError
from metering.sources import paging
from metering.sources.http import MAX_DEPTH, RetryPolicy, SiteClient

from .fakeapi import PASSWORD, VERSIONS_XML, FakeApi, js


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text, text
    assert PASSWORD not in text and "Bearer" not in text and "Basic" not in text, text
    return text


def query_page(records: list[Any], total: int | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"page": 1, "pageSize": 128, "record": records, **extra}
    if total is not None:
        body["total"] = total
    return body


VM = {"href": "http://fake/az1/vcd/api/vApp/vm-1", "name": "vm1"}


def listing_error(handler: Callable[[Request, int], Response], path: str = "/api/query") -> str:
    """The one-line error a VM query listing fails with when ``path`` answers ``handler``."""
    api = FakeApi()
    api.handlers[path] = handler

    async def go() -> None:
        async with api.client(sleeps=[]) as client:
            await paging.vcd_query(client, "adminVM")

    with pytest.raises(MeteringError) as info:
        run(go())
    return one_line(info.value)


# -- item 2: only the answer the API gives for the call is an answer -------------------------


def test_a_redirect_for_the_vm_query_fails_the_listing_and_is_not_followed() -> None:
    text = listing_error(
        lambda _r, _n: Response(status_code=302, headers={"Location": "http://elsewhere/"})
    )
    assert "HTTP 302 redirect, not followed" in text


def test_a_204_for_the_vm_query_is_not_no_vms() -> None:
    text = listing_error(lambda _r, _n: Response(status_code=204))
    assert "HTTP 204 is not an answer" in text


def test_a_200_with_an_empty_body_is_retried_then_fails() -> None:
    text = listing_error(lambda _r, _n: Response(b"", media_type="application/json"))
    assert "an empty body after 6 attempts" in text


@pytest.mark.parametrize(
    ("body", "shown"), [(None, "answered null"), ([], "answered list"), ({}, "valid total")]
)
def test_null_empty_object_or_list_instead_of_a_query_page_fails(body: Any, shown: str) -> None:
    text = listing_error(lambda _r, _n: js(body))
    assert shown in text and "query adminVM" in text


def test_a_query_page_with_neither_total_nor_links_is_not_a_short_listing() -> None:
    text = listing_error(lambda _r, _n: js(query_page([VM], None)))
    assert "page without a valid total" in text


def test_an_html_page_with_200_is_not_json() -> None:
    text = listing_error(lambda _r, _n: Response("<html>login</html>", media_type="text/html"))
    assert "answered 'text/html', not JSON" in text


def test_an_openapi_page_without_values_fails() -> None:
    api = FakeApi()
    api.handlers["/cloudapi/1.0.0/orgs"] = lambda _r, _n: js({})

    async def go() -> None:
        async with api.client(sleeps=[]) as client:
            await paging.openapi(client, "/cloudapi/1.0.0/orgs")

    with pytest.raises(SourceDataError) as info:
        run(go())
    assert "page without a valid resultTotal" in one_line(info.value)


def test_an_ose_list_without_a_total_reads_on_while_pages_are_full() -> None:
    api = FakeApi()
    items = [{"id": f"t{i}"} for i in range(5)]

    def page(request: Request, _: int) -> Response:
        off, lim = int(request.query_params["offset"]), int(request.query_params["limit"])
        return js({"items": items[off : off + lim]})  # no pageInfo at all

    api.handlers["/api/v1/core/associated-tenants"] = page

    async def go() -> list[Any]:
        async with api.client(sleeps=[]) as client:
            listing = await paging.ose_items(client, "/api/v1/core/associated-tenants", limit=2)
            return listing.records

    assert run(go()) == items


# -- item 3: bounded parsing ------------------------------------------------------------------


def test_json_nested_200k_levels_is_one_line_not_a_recursion_error() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    text = listing_error(lambda _r, _n: Response(deep, media_type="application/json"))
    assert f"JSON nested deeper than {MAX_DEPTH} levels" in text


# -- item 1: links stay on the site's origin; credentials never leave it ----------------------


class Recorder:
    """A loopback HTTP server answering every request with ``answer(path)`` and recording
    each request's path and Authorization header."""

    def __init__(self, answer: Callable[[str, int], tuple[bytes, dict[str, str]]]) -> None:
        self.answer = answer
        self.requests: list[tuple[str, str | None]] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                line, *fields = head.split("\r\n")
                headers = {k.lower(): v.strip() for k, _, v in (f.partition(":") for f in fields)}
                path = line.split(" ")[1]
                self.requests.append((path, headers.get("authorization")))
                body, extra = self.answer(path, self.port)
                lines = [
                    "HTTP/1.1 200 OK",
                    "Content-Type: application/json",
                    f"Content-Length: {len(body)}",
                    *(f"{k}: {v}" for k, v in extra.items()),
                ]
                writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def two_servers(
    site_answer: Callable[[str, int], tuple[bytes, dict[str, str]]],
    go: Callable[[SiteClient, str], Awaitable[object]],
) -> tuple[object, Recorder, Recorder]:
    """Run ``go`` with a client of a site served by one loopback server; the second server
    (another port: another origin) is what hostile links point to."""
    other = Recorder(lambda _p, _port: (b'{"record": [], "total": 0, "values": []}', {}))
    site_server: Recorder

    def answer(path: str, port: int) -> tuple[bytes, dict[str, str]]:
        return site_answer(path, other.port)

    site_server = Recorder(answer)

    async def main() -> object:
        a = await asyncio.start_server(site_server.handle, "127.0.0.1", 0)
        b = await asyncio.start_server(other.handle, "127.0.0.1", 0)
        site_server.port = a.sockets[0].getsockname()[1]
        other.port = b.sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{site_server.port}"
        config = SiteConfig(
            "az1",
            url + "/vcd",
            "admin",
            Secret(PASSWORD),
            url + "/ose",
            url + "/cloudian",
            "sysadmin",
            Secret(PASSWORD),
        )
        async with a, b, SiteClient(config, retry=RetryPolicy(attempts=1)) as client:
            try:
                return await go(client, f"http://127.0.0.1:{other.port}")
            except MeteringError as exc:
                return one_line(exc)

    return asyncio.run(main()), site_server, other


def _login_or(page: Callable[[str, int], tuple[bytes, dict[str, str]]]) -> Any:
    def answer(path: str, other_port: int) -> tuple[bytes, dict[str, str]]:
        if path.endswith("/sessions/provider"):
            return b"{}", {"X-VMWARE-VCLOUD-ACCESS-TOKEN": "site-token"}
        if path.endswith("/api/versions"):
            return VERSIONS_XML.encode(), {}
        return page(path, other_port)

    return answer


def test_an_off_site_next_page_link_is_an_error_and_the_token_stays_home() -> None:
    def page(_path: str, other: int) -> tuple[bytes, dict[str, str]]:
        link = {"rel": "nextPage", "href": f"http://127.0.0.1:{other}/vcd/api/query?page=2"}
        return json.dumps(query_page([VM], 2, link=[link])).encode(), {}

    async def go(client: SiteClient, _other: str) -> object:
        return await paging.vcd_query(client, "adminVM")

    result, site, other = two_servers(_login_or(page), go)
    assert isinstance(result, str) and "outside the site's http://127.0.0.1:" in result
    assert other.requests == []  # nothing at all reached the other origin
    assert any(auth == "Bearer site-token" for _, auth in site.requests)


def test_an_off_site_openapi_link_header_is_an_error_and_the_token_stays_home() -> None:
    def page(_path: str, other: int) -> tuple[bytes, dict[str, str]]:
        body = {"resultTotal": 2, "pageCount": 2, "page": 1, "values": [{"id": "o1"}]}
        link = f'<http://127.0.0.1:{other}/vcd/cloudapi/1.0.0/orgs?page=2>;rel="nextPage"'
        return json.dumps(body).encode(), {"Link": link}

    async def go(client: SiteClient, _other: str) -> object:
        return await paging.openapi(client, "/cloudapi/1.0.0/orgs")

    result, _site, other = two_servers(_login_or(page), go)
    assert isinstance(result, str) and "not followed" in result
    assert other.requests == []


def test_a_relative_link_on_the_site_is_followed_with_the_token() -> None:
    def page(path: str, _other: int) -> tuple[bytes, dict[str, str]]:
        if not path.startswith("/vcd/api/query?"):
            return json.dumps(query_page([], 2)).encode(), {}  # a wrongly joined link
        if "page=2" in path:
            return json.dumps(query_page([{**VM, "href": VM["href"] + "2"}], 2)).encode(), {}
        link = {"rel": "nextPage", "href": "query?type=adminVM&page=2"}  # relative to the page
        return json.dumps(query_page([VM], 2, link=[link])).encode(), {}

    async def go(client: SiteClient, _other: str) -> object:
        return len((await paging.vcd_query(client, "adminVM")).records)

    result, site, other = two_servers(_login_or(page), go)
    assert result == 2 and other.requests == []
    assert [auth for p, auth in site.requests if "page=2" in p] == ["Bearer site-token"]


def test_basic_credentials_are_never_sent_to_another_origin() -> None:
    async def go(client: SiteClient, other: str) -> object:
        return await client.get_json("cloudian", other + "/group/list")

    result, _site, other = two_servers(_login_or(lambda _p, _o: (b"[]", {})), go)
    assert isinstance(result, str) and "not followed" in result
    assert other.requests == []
