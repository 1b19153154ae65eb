"""The collectors' HTTP/1.1 pool against real sockets: keep-alive reuse, a server that closes
idle connections, chunked + gzip bodies, timeouts retried then reported, and TLS verified by
default (a self-signed server is refused unless its CA is the site's ``ca_bundle``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ipaddress
import json
import ssl
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from metering.config import Secret, SiteConfig
from metering.errors import SourceUnavailable
from metering.sources import pool
from metering.sources.http import RetryPolicy, SiteClient

Answer = Callable[[bytes], bytes]
# Every test runs on asyncio's loop and on uvloop (what collect() uses when installed).
LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
LOOP = "asyncio"


@pytest.fixture(autouse=True, params=sorted(LOOPS))
def loop(request: pytest.FixtureRequest) -> Iterator[None]:
    global LOOP  # the serve() helper of this module reads it
    LOOP = request.param
    yield
    LOOP = "asyncio"


def ok(body: object, extra: str = "") -> bytes:
    data = json.dumps(body).encode()
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n"
    return (head + extra + "\r\n").encode() + data


class Server:
    """A loopback HTTP/1.1 server that counts connections and requests."""

    def __init__(
        self, close_after_answer: bool = False, silent: bool = False, raw: bytes | None = None
    ) -> None:
        self.connections = 0
        self.paths: list[str] = []
        self.close_after_answer = close_after_answer or raw is not None
        self.silent = silent
        self.raw = raw

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                self.paths.append(path)
                if self.silent:
                    await asyncio.sleep(30)
                if self.raw is not None:
                    writer.write(self.raw)
                elif path.startswith("/gz"):
                    writer.write(self.gzip_chunked({"path": path}))
                else:
                    writer.write(ok({"path": path, "n": len(self.paths)}))
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    def gzip_chunked(body: object) -> bytes:
        data = gzip.compress(json.dumps(body).encode())
        half = len(data) // 2
        chunks = b"".join(
            f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (data[:half], data[half:])
        )
        head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            b"content-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        return head + chunks + b"0\r\n\r\n"


def site(url: str, **kw: object) -> SiteConfig:
    return SiteConfig("az1", url, "a", Secret("p"), None, url, "admin", Secret("pw"), **kw)  # type: ignore[arg-type]


async def no_sleep(_: float) -> None:
    return None


def serve(
    server: Server, go: Callable[[str], Awaitable[object]], tls: ssl.SSLContext | None = None
) -> object:
    async def main() -> object:
        listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=tls)
        port = listener.sockets[0].getsockname()[1]
        async with listener:
            return await go(f"{'https' if tls else 'http'}://127.0.0.1:{port}")

    with asyncio.Runner(loop_factory=LOOPS[LOOP]) as runner:
        return runner.run(main())


def test_keeps_one_connection_alive_for_sequential_requests() -> None:
    server = Server()

    async def go(url: str) -> object:
        async with SiteClient(site(url, concurrency=1)) as client:
            return [(await client.get_json("cloudian", f"/n/{i}"))[0] for i in range(20)]

    bodies = serve(server, go)
    assert bodies == [{"path": f"/n/{i}", "n": i + 1} for i in range(20)]
    assert server.connections == 1


def test_server_closing_idle_connections_costs_no_error_and_no_retry() -> None:
    server = Server(close_after_answer=True)

    async def go(url: str) -> object:
        async with SiteClient(site(url, concurrency=1), sleep=no_sleep) as client:
            bodies = []
            for i in range(5):
                bodies.append((await client.get_json("cloudian", f"/n/{i}"))[0])
                await asyncio.sleep(0.01)  # the server's close reaches the idle connection
            return bodies, client.stats.retries

    bodies, retries = serve(server, go)  # type: ignore[misc]
    assert [b["path"] for b in bodies] == [f"/n/{i}" for i in range(5)]
    assert retries == 0 and server.connections == 5


def test_chunked_gzip_body_and_query_reach_the_server_intact() -> None:
    server = Server()

    async def go(url: str) -> object:
        async with SiteClient(site(url)) as client:
            body, _ = await client.get_json("cloudian", "/gz", {"id": "g|u|b", "operation": "SB"})
            return body

    assert serve(server, go) == {"path": "/gz?id=g%7Cu%7Cb&operation=SB"}


def test_read_timeout_is_retried_then_reported_without_secrets() -> None:
    server = Server(silent=True)

    async def go(url: str) -> object:
        retry = RetryPolicy(attempts=2)
        async with SiteClient(site(url, timeout_seconds=0.2), retry=retry, sleep=no_sleep) as c:
            with pytest.raises(SourceUnavailable) as err:
                await c.get_json("cloudian", "/slow")
            return str(err.value), len(server.paths)

    message, attempts = serve(server, go)  # type: ignore[misc]
    assert "GET /slow" in message and "Timeout" in message and "pw" not in message
    assert attempts == 2


def self_signed(tmp_path: Path) -> tuple[ssl.SSLContext, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "ca.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


def test_tls_is_verified_by_default_and_trusts_the_site_ca_bundle(tmp_path: Path) -> None:
    tls, ca = self_signed(tmp_path)

    async def refused(url: str) -> object:
        retry = RetryPolicy(attempts=1)
        async with SiteClient(site(url), retry=retry, sleep=no_sleep) as client:
            with pytest.raises(SourceUnavailable, match="ConnectError"):
                await client.get_json("cloudian", "/x")
        return True

    async def trusted(url: str) -> object:
        async with SiteClient(site(url, ca_bundle=ca)) as client:
            return (await client.get_json("cloudian", "/x"))[0]

    assert serve(Server(), refused, tls) is True
    assert serve(Server(), trusted, tls) == {"path": "/x", "n": 1}


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n",
        # not chunked: ends at close
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: identity\r\n\r\n",
    ],
)
def test_answer_framed_by_close_is_read_whole_and_the_connection_not_reused(head: bytes) -> None:
    server = Server(raw=head + b'{"a": [1, 2]}')

    async def go(url: str) -> object:
        async with SiteClient(site(url, concurrency=1)) as client:
            return [(await client.get_json("cloudian", "/x"))[0] for _ in range(3)]

    assert serve(server, go) == [{"a": [1, 2]}] * 3
    assert server.connections == 3


@pytest.mark.parametrize(
    "raw",
    [
        b"HTP/1.1 200 OK\r\n\r\n",  # not HTTP
        b"HTTP/1.1 200 OK\r\n folded: header\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",  # cut short
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    ],
)
def test_malformed_answers_are_retried_then_reported(raw: bytes) -> None:
    server = Server(raw=raw)

    async def go(url: str) -> object:
        retry = RetryPolicy(attempts=3)
        async with SiteClient(site(url), retry=retry, sleep=no_sleep) as client:
            with pytest.raises(SourceUnavailable, match="RemoteProtocolError") as err:
                await client.get_json("cloudian", "/bad")
            return str(err.value)

    assert "gave up after 3 attempts" in str(serve(server, go))
    assert len(server.paths) == 3


def test_informational_answer_is_skipped_for_the_real_one() -> None:
    server = Server(raw=b"HTTP/1.1 100 Continue\r\n\r\n" + ok({"a": 1}))

    async def go(url: str) -> object:
        async with SiteClient(site(url)) as client:
            return (await client.get_json("cloudian", "/x"))[0]

    assert serve(server, go) == {"a": 1}


def test_answer_over_the_size_limit_is_a_transport_error_naming_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pool, "MAX_ANSWER_BYTES", 2**20)
    server = Server(raw=ok({"big": "x" * (3 * 2**19)}))  # 1.5 MiB

    async def go(url: str) -> object:
        retry = RetryPolicy(attempts=2)
        async with SiteClient(site(url), retry=retry, sleep=no_sleep) as client:
            with pytest.raises(SourceUnavailable) as err:
                await client.get_json("cloudian", "/big")
            return str(err.value)

    message = str(serve(server, go))
    assert "RemoteProtocolError (answer larger than the 1 MiB limit)" in message
