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
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from metering.config import ProviderConfig, Secret, SiteConfig
from metering.errors import MeteringError, SourceDataError
from metering.lake import store
from metering.sources import paging
from metering.sources.collect import CollectSummary, Options, collect
from metering.sources.http import MAX_DEPTH, RetryPolicy, SiteClient

from .fakeapi import PASSWORD, VERSIONS_XML, FakeApi, js
from .provider import Provider
from .test_collect import START, make_config, no_sleep


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


@pytest.mark.parametrize("gzipped", [False, True])
def test_an_answer_over_the_size_limit_is_refused_also_when_it_inflates(
    monkeypatch: pytest.MonkeyPatch, gzipped: bool
) -> None:
    import gzip

    monkeypatch.setattr("metering.sources.http.MAX_ANSWER_BYTES", 2**20)
    body = json.dumps(query_page([{**VM, "pad": "0" * 2**21}], 1)).encode()
    headers = {"Content-Encoding": "gzip"} if gzipped else {}
    content = gzip.compress(body) if gzipped else body
    assert len(content) < 2**20 or not gzipped  # a small gzip that inflates past the limit
    text = listing_error(
        lambda _r, _n: Response(content, media_type="application/json", headers=headers)
    )
    assert "answer larger than the 1 MiB limit" in text


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


# -- items 2-4 end to end: one collection against the scripted provider ------------------------


class Hostile(Provider):
    """The scripted provider with one VM of az1 patched (``vm_patch``)."""

    vm_patch: dict[str, Any] = {}  # noqa: RUF012 - set per test on the instance

    def vms(self, site: str) -> list[dict[str, Any]]:
        out = super().vms(site)
        if site == "az1" and self.vm_patch:
            out[1] = {**out[1], **self.vm_patch}
        return out


class Intercept(httpx.AsyncBaseTransport):
    """The provider's transport, except paths ending in a key: answered by its function."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, answers: dict[str, Callable[[], httpx.Response]]
    ) -> None:
        self.inner, self.answers = inner, answers

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        for suffix, answer in self.answers.items():
            if request.url.path.endswith(suffix) and "/az1/" in request.url.path:
                return answer()
        return await self.inner.handle_async_request(request)


def collect_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    provider: Provider,
    answers: dict[str, Callable[[], httpx.Response]] | None = None,
) -> tuple[CollectSummary, ProviderConfig]:
    config = make_config(tmp_path, monkeypatch)
    transport = Intercept(provider.transport(), answers or {})
    options = Options(transport=transport, sleep=no_sleep, retry=RetryPolicy(attempts=2))
    return collect(config, provider.now, options=options), config


def quarantined(config: ProviderConfig) -> list[dict[str, Any]]:
    return store.read_dataset(config.lake_dir, "quarantine").to_pylist()


def by_source(summary: CollectSummary, site: str = "az1") -> dict[str, Any]:
    return {r.source: r for r in summary.results if r.site == site}


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"numberOfCpus": 2**62}, "vcpu: 4611686018427387904 is above the plausible maximum 768"),
        ({"numberOfCpus": 1e30}, "is above the plausible maximum 768"),
        ({"memoryMB": 2**40}, "memory_mb: 1099511627776 is above the plausible maximum"),
        ({"status": "HIBERNATING"}, "status: unknown value 'HIBERNATING'"),
        ({"name": "vm-\ud800"}, "vm_name: not valid Unicode text ('vm-\\\\ud800')"),
    ],
)
def test_one_implausible_vm_is_quarantined_with_its_value_and_the_others_land(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, patch: dict[str, Any], reason: str
) -> None:
    provider = Hostile(START, START)
    provider.vm_patch = patch
    summary, config = collect_once(tmp_path, monkeypatch, provider)
    vcd = by_source(summary)["vcd"]
    assert (vcd.status, vcd.quarantined) == ("partial", 1) and "vcd_vm" in vcd.datasets
    [q] = quarantined(config)
    assert q["dataset"] == "vcd_vm" and reason in q["reason"], q["reason"]
    assert q["record_key"] and q["raw_record"].startswith("{")
    vms = store.read_dataset(config.lake_dir, "vcd_vm", site="az1")
    assert vms.num_rows == len(provider.vms("az1")) - 1
    assert all(r.status == "ok" for r in summary.results if r.site == "az2")


def test_a_failed_cse_listing_keeps_the_vms_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = Provider(START, START)
    broken = {"/capvcdCluster/1.2.0": lambda: httpx.Response(500)}
    summary, config = collect_once(tmp_path, monkeypatch, provider, broken)
    results = by_source(summary)
    assert results["cse"].status == "failed"
    assert results["vcd"].status == "partial" and "vcd_vm" in results["vcd"].datasets
    assert "vcd_vm: written without TKG node links" in (results["vcd"].error or "")
    vms = store.read_dataset(config.lake_dir, "vcd_vm", site="az1").to_pylist()
    assert len(vms) == len(provider.vms("az1"))
    assert sum(v["vcpu"] for v in vms if v["powered_on"]) == sum(
        v["numberOfCpus"] for v in provider.vms("az1") if v["status"] == "POWERED_ON"
    )


def test_a_200k_deep_answer_fails_its_part_and_every_part_is_in_the_run_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    answers = {
        "/cloudapi/1.0.0/apps": lambda: httpx.Response(
            200, content=deep, headers={"Content-Type": "application/json"}
        )
    }
    _, config = collect_once(tmp_path, monkeypatch, Provider(START, START), answers)
    runs = store.read_dataset(config.lake_dir, "runs").to_pylist()
    assert len(runs) == 2 * 6  # every site x source has its row
    alp = [r for r in runs if r["site"] == "az1" and r["source"] == "alp"]
    assert [r["status"] for r in alp] == ["failed"]
    assert f"JSON nested deeper than {MAX_DEPTH} levels" in alp[0]["error"]
    assert "\n" not in alp[0]["error"]
    others = [r for r in runs if (r["site"], r["source"]) != ("az1", "alp")]
    assert {r["status"] for r in others} == {"ok"}


def test_an_empty_vm_query_answer_leaves_a_gap_not_an_empty_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    null = {"Content-Type": "application/json"}
    answers = {"/api/query": lambda: httpx.Response(200, content=b"null", headers=null)}
    summary, config = collect_once(tmp_path, monkeypatch, Provider(START, START), answers)
    vcd = by_source(summary)["vcd"]
    assert "vcd_vm" in vcd.failed_datasets and "answered null" in (vcd.error or "")
    assert store.dataset_files(config.lake_dir, "vcd_vm", site="az1") == []


def test_a_configured_maximum_lets_a_larger_platform_through_and_bad_limits_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from metering.errors import ConfigError
    from metering.sources.limits import limits_from_config

    provider = Hostile(START, START)
    provider.vm_patch = {"numberOfCpus": 1000}
    config = make_config(tmp_path, monkeypatch)
    raw = {**config.raw, "collect": {"limits": {"vcd_vm": {"vcpu": 1024}}}}
    config = dataclasses.replace(config, raw=raw)
    options = Options(transport=provider.transport(), sleep=no_sleep)
    summary = collect(config, provider.now, options=options)
    assert summary.quarantined == 0
    vms = store.read_dataset(config.lake_dir, "vcd_vm", site="az1").to_pylist()
    assert 1000 in {v["vcpu"] for v in vms}
    for limits, key in (
        ({"vcd_vm": {"cpus": 2}}, "[collect.limits.vcd_vm] cpus: not a bounded quantity"),
        ({"vcd_vm": {"vcpu": "many"}}, "[collect.limits.vcd_vm] vcpu: must be int"),
        ({"vcd_vm": {"vcpu": 0}}, "[collect.limits.vcd_vm] vcpu: must be at least 1"),
        ({"nope": {"x": 1}}, "[collect.limits] nope: no bounded quantities"),
    ):
        bad = dataclasses.replace(config, raw={**config.raw, "collect": {"limits": limits}})
        with pytest.raises(ConfigError) as info:
            limits_from_config(bad)
        assert key in one_line(info.value)
