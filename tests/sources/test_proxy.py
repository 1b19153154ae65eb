"""Proxies: a site's ``proxy`` key and HTTP(S)_PROXY / NO_PROXY, against a real forward proxy on
loopback that counts what it relays (absolute-form for http, CONNECT tunnels for https); a
bad proxy URL is one config error naming the key, and its password shows nowhere."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from metering.config import Secret, load_config
from metering.errors import ConfigError, SourceUnavailable
from metering.sources.http import RetryPolicy, SiteClient
from tests.foundation.test_config import GOOD, write
from tests.sources.test_pool import Server, no_sleep, self_signed, site


class Proxy:
    """A tiny forward proxy: counts relayed requests, CONNECT tunnels and credentials seen."""

    def __init__(self) -> None:
        self.relayed: list[str] = []
        self.tunnels: list[str] = []
        self.auth: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                line, *fields = head.decode().split("\r\n")
                method, target, version = line.split(" ")
                self.auth += [
                    f.split(":", 1)[1].strip() for f in fields if "proxy-auth" in f.lower()
                ]
                if method == "CONNECT":
                    self.tunnels.append(target)
                    await self.tunnel(target, reader, writer)
                    return
                self.relayed.append(target)
                writer.write(await self.forward(method, target, version, fields))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def forward(self, method: str, target: str, version: str, fields: list[str]) -> bytes:
        """Relay one absolute-form request on a fresh upstream connection; return the answer."""
        authority, _, path = target.removeprefix("http://").partition("/")
        host, port = authority.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        kept = [f for f in fields if f and not f.lower().startswith("proxy-")]
        up_writer.write("\r\n".join([f"{method} /{path} {version}", *kept, "", ""]).encode())
        answer = await up_reader.read()  # the test server closes after each answer
        up_writer.close()
        return answer

    async def tunnel(
        self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
            dst.close()

        await asyncio.gather(
            pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True
        )


def run(
    go: Callable[[str, str], Awaitable[object]], server: Server, tls: object = None
) -> tuple[object, Proxy]:
    proxy = Proxy()

    async def main() -> object:
        upstream = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)  # type: ignore[arg-type]
        relay = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
        port, relay_port = (s.sockets[0].getsockname()[1] for s in (upstream, relay))
        async with upstream, relay:
            scheme = "https" if tls else "http"
            return await go(f"{scheme}://127.0.0.1:{port}", f"http://127.0.0.1:{relay_port}")

    return asyncio.run(main()), proxy


async def three_pages(client: SiteClient) -> list[object]:
    return [(await client.get_json("cloudian", f"/n/{i}"))[0]["path"] for i in range(3)]


def test_site_proxy_key_carries_every_request_with_its_credentials() -> None:
    async def go(url: str, proxy: str) -> object:
        authed = proxy.replace("http://", "http://meter:s3cret@")
        async with SiteClient(site(url, proxy=Secret(authed))) as client:
            return await three_pages(client)

    pages, proxy = run(go, Server(close_after_answer=True))
    assert pages == ["/n/0", "/n/1", "/n/2"]
    assert [t.rsplit("/", 2)[-2:] for t in proxy.relayed] == [["n", str(i)] for i in range(3)]
    assert proxy.auth == ["Basic " + base64.b64encode(b"meter:s3cret").decode()] * len(proxy.auth)
    assert proxy.auth  # httpx sent the proxy credentials


def test_environment_proxy_is_honoured_and_no_proxy_bypasses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def go(url: str, proxy: str) -> object:
        monkeypatch.setenv("HTTP_PROXY", proxy)
        async with SiteClient(site(url)) as client:
            through = await three_pages(client)
        monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
        async with SiteClient(site(url)) as client:
            return through, await three_pages(client)

    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    (through, direct), proxy = run(go, Server(close_after_answer=True))  # type: ignore[misc]
    assert through == direct == ["/n/0", "/n/1", "/n/2"]
    assert len(proxy.relayed) == 3  # the first three only: NO_PROXY sent the rest direct


def test_https_site_tunnels_through_the_proxy_and_still_verifies_tls(tmp_path: Path) -> None:
    tls, ca = self_signed(tmp_path)

    async def go(url: str, proxy: str) -> object:
        async with SiteClient(site(url, proxy=Secret(proxy), ca_bundle=ca)) as client:
            pages = await three_pages(client)
        retry = RetryPolicy(attempts=1)
        async with SiteClient(site(url, proxy=Secret(proxy)), retry=retry, sleep=no_sleep) as c:
            with pytest.raises(SourceUnavailable, match="ConnectError"):
                await c.get_json("cloudian", "/x")  # the default trust store refuses it
        return pages

    pages, proxy = run(go, Server(), tls)
    assert pages == ["/n/0", "/n/1", "/n/2"]
    assert len(proxy.tunnels) == 2 and proxy.relayed == []


def test_unreachable_proxy_fails_without_showing_its_password() -> None:
    async def go(url: str, proxy: str) -> object:
        dead = "http://meter:s3cret@127.0.0.1:9"  # discard port: nothing listens
        retry = RetryPolicy(attempts=2)
        async with SiteClient(site(url, proxy=Secret(dead)), retry=retry, sleep=no_sleep) as c:
            with pytest.raises(SourceUnavailable) as err:
                await c.get_json("cloudian", "/x")
        return str(err.value)

    message, proxy = run(go, Server())
    assert "ConnectError" in message and "s3cret" not in message and proxy.relayed == []


@pytest.mark.parametrize(
    "value", ["ftp://meter:s3cret@proxy.example", "proxy.example:3128", "http://:s3cret@:99999"]
)
def test_bad_proxy_url_is_one_config_error_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TEST_VCD_PW", "x")
    (tmp_path / "cloudian.secret").write_text("y", encoding="utf-8")
    text = GOOD.replace('name = "az1"', f'name = "az1"\nproxy = "{value}"')
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert "provider.toml: [sites[0]] proxy: must be an http:// or https:// proxy URL" in str(
        err.value
    )
    assert "s3cret" not in str(err.value)
