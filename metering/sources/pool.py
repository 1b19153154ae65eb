"""An HTTP/1.1 keep-alive connection pool on asyncio streams, under httpx's transport.

A daily collection is ~18,000 small GETs per site. httpcore's pool runs every request
through anyio locks and cancel scopes (each lock forces an extra event-loop pass) and polls
every idle socket before reusing it, and h11 validates every event through a state
machine; over loopback that cost more CPU than the requests themselves.
:class:`PooledTransport` is httpx's own ``AsyncHTTPTransport`` (requests still pass its
``handle_async_request``, which builds the httpcore request and maps errors to
``httpx.TransportError``) over :class:`Pool`: plain asyncio streams with one idle-connection
list per origin; answers are framed by httptools (llhttp, Node's parser: status line, header
fields, ``Content-Length``, chunked, or read to close). httpx decodes gzip and friends above.

What it keeps from httpcore: TLS with the caller's verifying context (SNI and hostname
checks), connect/read/write timeouts as ``httpcore.*Timeout`` (the read timeout bounds each
answer), transport failures and malformed answers as ``httpcore.*Error`` (so retries see
``httpx.TransportError``), keep-alive expiry, ``Connection: close`` honoured, and a
connection reused only after a completely framed answer. A request that finds a reused
connection closed by the server before any byte of the answer is sent once more on a new
connection (what httpcore's readable-socket check prevents). One answer is bounded
(:data:`MAX_ANSWER_BYTES`): a larger one is a transport error naming the limit.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterable
from types import TracebackType

import httpcore
import httptools
import httpx
from httpx._utils import URLPattern, get_environment_proxies  # httpx's env proxy rules

KEEPALIVE_SECONDS = 5.0  # httpx's default keep-alive expiry
_READ_SIZE = 64 * 1024
MAX_ANSWER_BYTES = 64 * 2**20  # one answer, head and body: far above any real page
_Origin = tuple[bytes, bytes, int]


class _StaleConnection(Exception):
    """A reused connection was closed by the server before it answered."""


def _timeouts(request: httpcore.Request) -> dict[str, float | None]:
    value = request.extensions.get("timeout", {})
    return value if isinstance(value, dict) else {}


class _Answer:
    """httptools (llhttp) callbacks collecting one answer; 1xx answers before it are skipped."""

    def __init__(self, head_only: bool) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.head_only = head_only
        self.status, self.reason = 0, b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.head_done = self.done = self.extra = False
        self.keep_alive = False

    def on_message_begin(self) -> None:
        self.extra = self.extra or self.done  # bytes after the answer: never reuse

    def on_status(self, reason: bytes) -> None:
        self.reason = reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.head_done = self.status >= 200 or self.status < 100
        self.done = self.head_only and self.head_done

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if not self.head_done:  # an informational answer: the real one follows
            self.headers.clear()
            return
        self.done = True
        self.keep_alive = self.parser.should_keep_alive()  # reset once the next one begins

    def framed_by_close(self) -> bool:
        """Whether the body has no length of its own (it ends when the server closes)."""
        fields = {name.lower(): value.lower() for name, value in self.headers}
        chunked = b"chunked" in fields.get(b"transfer-encoding", b"")
        return b"content-length" not in fields and not chunked


class _Connection:
    """One HTTP/1.1 connection; one exchange at a time (RFC 9112 framing, client side)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = time.monotonic()
        self.reused = False
        self.keep_alive = True

    def usable(self, now: float) -> bool:
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and now - self.idle_since < KEEPALIVE_SECONDS
        )

    def close(self) -> None:
        self.writer.close()

    async def _send(self, request: httpcore.Request, timeout: float | None) -> None:
        lines = [request.method, b" ", request.url.target, b" HTTP/1.1\r\n"]
        chunked = False
        for name, value in request.headers:
            if any(c in name + value for c in (b"\r", b"\n", b"\0")):
                raise httpcore.LocalProtocolError(f"header {name!r} holds a line break")
            chunked = chunked or (name.lower() == b"transfer-encoding" and b"chunked" in value)
            lines += [name, b": ", value, b"\r\n"]
        lines.append(b"\r\n")
        if isinstance(request.stream, AsyncIterable):
            body = b"".join([chunk async for chunk in request.stream])
            if chunked:
                body = (b"%x\r\n%b\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
            lines.append(body)
        try:
            self.writer.write(b"".join(lines))
            async with asyncio.timeout(timeout):
                await self.writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out sending the request") from None
        except OSError as exc:
            raise (_StaleConnection() if self.reused else httpcore.WriteError(str(exc))) from None

    async def _read(self, answer: _Answer) -> None:
        """Feed the answer's bytes to the parser until it is complete (or the server closes)."""
        received = 0
        while not answer.done:
            try:
                data = await self.reader.read(_READ_SIZE)
            except OSError as exc:
                if not received and self.reused:
                    raise _StaleConnection from None
                raise httpcore.ReadError(str(exc)) from None
            if not data:
                self._end_of_stream(answer, received)
                return
            received += len(data)
            if received > MAX_ANSWER_BYTES:
                raise httpcore.RemoteProtocolError(
                    f"answer larger than the {MAX_ANSWER_BYTES / 2**20:g} MiB limit"
                )
            try:
                answer.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                raise httpcore.RemoteProtocolError("unexpected protocol switch") from None
            except httptools.HttpParserError as exc:
                raise httpcore.RemoteProtocolError(f"malformed answer: {exc}") from None

    def _end_of_stream(self, answer: _Answer, received: int) -> None:
        """The server closed: the end of a read-to-close body, a stale connection, or a cut."""
        self.keep_alive = False
        if answer.head_done and answer.framed_by_close():
            answer.done = True  # HTTP/1.0 style: the body ends when the server closes
        elif not received and self.reused:
            raise _StaleConnection
        elif not received:
            raise httpcore.RemoteProtocolError("server disconnected without an answer")
        else:
            raise httpcore.RemoteProtocolError("server disconnected mid-answer")

    async def exchange(self, request: httpcore.Request) -> httpcore.Response:
        """Send ``request`` and read the whole answer (bodies here are small JSON)."""
        timeouts = _timeouts(request)
        await self._send(request, timeouts.get("write"))
        answer = _Answer(head_only=request.method == b"HEAD")
        try:
            async with asyncio.timeout(timeouts.get("read")):
                await self._read(answer)
        except TimeoutError:
            raise httpcore.ReadTimeout("timed out reading the response") from None
        if not answer.keep_alive or answer.extra or answer.head_only:
            self.keep_alive = False  # a HEAD's parser still expects the body it announced
        return httpcore.Response(
            answer.status,
            headers=answer.headers,
            content=b"".join(answer.body),
            extensions={
                "http_version": b"HTTP/" + answer.parser.get_http_version().encode(),
                "reason_phrase": answer.reason,
            },
        )

    def reusable(self) -> bool:
        """Whether the answer was framed so the connection can carry the next request."""
        return self.keep_alive and not self.reader.at_eof()


class Pool:
    """Idle HTTP/1.1 connections per origin; the caller bounds how many run at once."""

    def __init__(self, ssl_context: ssl.SSLContext) -> None:
        self._ssl = ssl_context
        self._idle: dict[_Origin, list[_Connection]] = {}

    async def _connect(self, origin: _Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        name = host.decode("ascii")
        tls = self._ssl if scheme == b"https" else None
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    name, port, ssl=tls, server_hostname=name if tls else None, limit=_READ_SIZE
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"timed out connecting to {name}:{port}") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpcore.ConnectError(str(exc)) from None
        return _Connection(reader, writer)

    def _take(self, origin: _Origin) -> _Connection | None:
        idle, now = self._idle.get(origin), time.monotonic()
        while idle:
            conn = idle.pop()
            if conn.usable(now):
                conn.reused = True
                return conn
            conn.close()
        return None

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        port = url.port or (443 if url.scheme == b"https" else 80)
        origin = (url.scheme, url.host, port)
        for _ in range(2):  # a stale reused connection gets one fresh retry
            conn = self._take(origin) or await self._connect(
                origin, _timeouts(request).get("connect")
            )
            try:
                response = await conn.exchange(request)
            except _StaleConnection:
                conn.close()
                continue
            except BaseException:
                conn.close()
                raise
            if conn.reusable():
                conn.idle_since = time.monotonic()
                self._idle.setdefault(origin, []).append(conn)
            else:
                conn.close()
            return response
        raise httpcore.RemoteProtocolError("server closed the connection twice")

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    async def __aenter__(self) -> Pool:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None = None,
        value: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        await self.aclose()


class PooledTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP transport (its request mapping and error mapping) over :class:`Pool`."""

    def __init__(self, verify: ssl.SSLContext | bool = True) -> None:
        # Not super().__init__: that builds an httpcore pool we would throw away.
        self._pool = Pool(httpx.create_ssl_context(verify=verify))  # type: ignore[assignment]


def env_proxy(url: str) -> str | None:
    """The proxy the environment names for ``url`` (``HTTP_PROXY``, ``HTTPS_PROXY``,
    ``ALL_PROXY``), or None when there is none or ``NO_PROXY`` names the host.

    httpx's own reading of these variables (curl's rules: ``NO_PROXY=.example.com``,
    ``localhost``, IP addresses, ``*``), so a site behaves as an ``httpx.Client`` would.
    """
    target = httpx.URL(url)
    mounts = sorted((URLPattern(key), proxy) for key, proxy in get_environment_proxies().items())
    return next((proxy for pattern, proxy in mounts if pattern.matches(target)), None)


class RoutedTransport(httpx.AsyncBaseTransport):
    """Each origin of a site direct through our :class:`Pool`, or through its proxy with
    httpx's own transport (CONNECT tunnels for https, absolute-form requests for http)."""

    def __init__(self, verify: ssl.SSLContext | bool, proxy: str | None) -> None:
        self._verify, self._proxy = verify, proxy
        self._direct = PooledTransport(verify=verify)
        self._routes: dict[tuple[bytes, bytes, int | None], httpx.AsyncBaseTransport] = {}
        self._proxied: dict[str, httpx.AsyncHTTPTransport] = {}

    def _route(self, url: httpx.URL) -> httpx.AsyncBaseTransport:
        proxy = self._proxy or env_proxy(str(url))
        if proxy is None:
            return self._direct
        if proxy not in self._proxied:
            self._proxied[proxy] = httpx.AsyncHTTPTransport(proxy=proxy, verify=self._verify)
        return self._proxied[proxy]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port)
        transport = self._routes.get(origin)
        if transport is None:
            transport = self._routes[origin] = self._route(url)
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        await self._direct.aclose()
        for transport in self._proxied.values():
            await transport.aclose()


def site_transport(
    urls: list[str], verify: ssl.SSLContext | bool, proxy: str | None
) -> httpx.AsyncBaseTransport:
    """A site's transport: our pool alone when no proxy applies to any of its ``urls``
    (no routing cost per request), else a :class:`RoutedTransport`."""
    if proxy is None and all(env_proxy(url) is None for url in urls):
        return PooledTransport(verify=verify)
    return RoutedTransport(verify, proxy)
