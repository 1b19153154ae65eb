"""The client factory: retries with backoff honouring Retry-After, re-login on 401,
bounded concurrency, unreadable bodies retried, and no secret in any error."""

from __future__ import annotations

import asyncio
import json
import ssl
import time

import pytest
from starlette.requests import Request
from starlette.responses import Response

from metering.config import Secret, SiteConfig
from metering.errors import SourceDataError, SourceUnavailable
from metering.sources.http import (
    MAX_DEPTH,
    RetryPolicy,
    json_depth_ok,
    parse_retry_after,
    ssl_verify,
)

from .fakeapi import PASSWORD, FakeApi, js


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_retries_5xx_and_429_honouring_retry_after_then_succeeds() -> None:
    api = FakeApi()

    def flaky(_: Request, n: int) -> Response:
        if n == 1:
            return js({}, 503, {"Retry-After": "7"})
        if n == 2:
            return js({}, 429)
        return js({"ok": n})

    api.handlers["/api/thing"] = flaky
    sleeps: list[float] = []

    async def go() -> object:
        async with api.client(sleeps=sleeps) as client:
            body, _ = await client.get_json("vcd", "/api/thing")
            return body, client.stats.retries

    assert run(go()) == ({"ok": 3}, 2)
    assert sleeps[0] == 7.0  # Retry-After wins over the (smaller) backoff
    assert 0 <= sleeps[1] <= RetryPolicy().base_delay * 2


def test_gives_up_after_the_attempts_with_one_line_and_no_secret() -> None:
    api = FakeApi()
    api.handlers["/system/bytecount"] = lambda _r, _n: js({}, 500)

    async def go() -> None:
        async with api.client() as client:
            await client.get_json("cloudian", "/system/bytecount")

    with pytest.raises(SourceUnavailable) as info:
        run(go())
    assert api.calls["/system/bytecount"] == RetryPolicy().attempts
    text = str(info.value)
    assert "HTTP 500" in text and "site=az1" in text and "\n" not in text
    assert PASSWORD not in text and "Basic" not in text


def test_expired_token_logs_in_again_once() -> None:
    api = FakeApi()

    def needs_fresh_token(request: Request, _: int) -> Response:
        ok = request.headers.get("authorization") == f"Bearer tok{len(api.tokens)}"
        return js({"values": []}) if ok and len(api.tokens) >= 2 else js({}, 401)

    api.handlers["/cloudapi/1.0.0/orgs"] = needs_fresh_token

    async def go() -> int:
        async with api.client() as client:
            body, _ = await client.get_json("vcd", "/cloudapi/1.0.0/orgs")
            assert body == {"values": []}
            return client.stats.relogins

    assert run(go()) == 1
    assert api.tokens == ["tok1", "tok2"]


def test_cloudian_uses_basic_auth_and_a_4xx_is_terminal() -> None:
    api = FakeApi()
    seen: list[str] = []

    def forbidden(request: Request, _: int) -> Response:
        seen.append(request.headers["authorization"].split()[0])
        return js({}, 403)

    api.handlers["/group/list"] = forbidden

    async def go() -> None:
        async with api.client() as client:
            await client.get_json("cloudian", "/group/list")

    with pytest.raises(SourceDataError, match="HTTP 403"):
        run(go())
    assert seen == ["Basic"]  # no retry of a terminal answer, no VCD login


def test_truncated_json_is_retried_and_204_is_empty_only_where_allowed() -> None:
    api = FakeApi()
    api.handlers["/x"] = lambda _r, n: (
        Response('{"a": [1, 2', media_type="application/json") if n < 3 else js([1])
    )
    api.handlers["/group"] = lambda _r, _n: Response(status_code=204)

    async def go() -> tuple[object, object]:
        async with api.client() as client:
            return (await client.get_json("cloudian", "/x"))[0], (
                await client.get_json("cloudian", "/group", allow_empty=True)
            )[0]

    async def not_allowed() -> None:
        async with api.client() as client:
            await client.get_json("cloudian", "/group")

    assert run(go()) == ([1], None)
    assert api.calls["/x"] == 3
    with pytest.raises(SourceDataError, match="HTTP 204 is not an answer"):
        run(not_allowed())


def test_concurrency_is_bounded_per_site() -> None:
    api = FakeApi()
    api.handlers["/slow"] = lambda _r, _n: js(1)

    async def go() -> None:
        async with api.client(concurrency=3) as client:
            await asyncio.gather(*(client.get_json("cloudian", "/slow") for _ in range(20)))

    run(go())
    assert api.calls["/slow"] == 20
    assert 1 < api.max_in_flight <= 3


def test_retry_after_forms_and_tls_defaults(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    site = SiteConfig("az1", "https://vcd", "a", Secret("p"), None, None, "s", None)
    default = ssl_verify(site)
    assert isinstance(default, ssl.SSLContext)  # TLS verification is on by default
    assert default.verify_mode is ssl.CERT_REQUIRED and default.check_hostname
    assert ssl_verify(site) is default  # the trust store is loaded once, not per client
    off = SiteConfig(
        "az1", "https://vcd", "a", Secret("p"), None, None, "s", None, verify_tls=False
    )
    assert ssl_verify(off) is False


def test_a_response_slower_than_the_timeout_is_retried() -> None:
    api = FakeApi(slow_first_call={"/slow": 5.0})
    api.handlers["/slow"] = lambda _r, n: js({"call": n})

    async def go() -> tuple[object, int, float]:
        started = time.monotonic()
        async with api.client(timeout=0.2) as client:
            body = (await client.get_json("cloudian", "/slow"))[0]
            return body, client.stats.retries, time.monotonic() - started

    body, retries, seconds = run(go())
    assert body == {"call": 1}  # the slow first attempt never got an answer
    assert retries == 1 and seconds < 2


def test_retries_are_logged_without_credentials(caplog: pytest.LogCaptureFixture) -> None:
    api = FakeApi()
    api.handlers["/api/query"] = lambda _r, n: js({}, 503) if n == 1 else js({"record": []})
    caplog.set_level("INFO", logger="metering.sources.http")

    async def go() -> None:
        async with api.client() as client:
            await client.get_json("vcd", "/api/query")

    run(go())
    assert "site az1: GET /az1/vcd/api/query: HTTP 503; retry 1" in caplog.text
    assert PASSWORD not in caplog.text and "tok1" not in caplog.text


def test_no_cookie_is_kept_or_sent_back() -> None:
    """Credentials travel in headers only: a session cookie an API sets is never stored
    or replayed (nothing secret lingers in a jar)."""
    api = FakeApi()
    seen: list[str | None] = []

    def sets_cookie(request: Request, _: int) -> Response:
        seen.append(request.headers.get("cookie"))
        return js({"ok": True}, 200, {"Set-Cookie": "vcloud-session=abc; Path=/"})

    api.handlers["/cloudapi/1.0.0/orgs"] = sets_cookie

    async def go() -> None:
        async with api.client() as client:
            for _ in range(2):
                body, _ = await client.get_json("vcd", "/cloudapi/1.0.0/orgs")
                assert body == {"ok": True}

    run(go())
    assert seen == [None, None]


def test_collections_run_on_uvloop_when_installed() -> None:
    from metering.sources.http import run_loop

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run_loop(loop_module()).startswith("uvloop")


def test_json_depth_counts_only_structure_outside_strings() -> None:
    nested: object = {"leaf": "[[[[{{{{" * 50, "q": 'say \\"[[[\\"'}
    for _ in range(MAX_DEPTH - 1):
        nested = {"n": nested, "list": [1, 2]}  # never deeper than "n"
    text = json.dumps(nested).encode()
    assert json_depth_ok(text)  # exactly MAX_DEPTH levels
    assert not json_depth_ok(json.dumps([nested]).encode())
    assert json_depth_ok(b"[" * 1000)  # unbalanced: json.loads names the problem
    assert not json_depth_ok(b"[" * 200_000 + b"]" * 200_000)
