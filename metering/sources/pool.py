"""An HTTP/1.1 keep-alive connection pool on asyncio streams, under httpx's transport.

A daily collection is ~18,000 small GETs per site. httpcore's pool runs every request
through anyio locks and cancel scopes (each lock forces an extra event-loop pass) and polls
every idle socket before reusing it, and h11 validates every event through a state
machine; over loopback that cost more CPU than the requests themselves.
:class:`PooledTransport` is httpx's own ``AsyncHTTPTransport`` (requests still pass its
``handle_async_request``, which builds the httpcore request and maps errors to
``httpx.TransportError``) over :class:`Pool`: HTTP/1.1 message framing (RFC 9112: status
line, header fields, ``Content-Length``, chunked, or read to close) on plain asyncio
streams, with one idle-connection list per origin. httpx decodes gzip and friends above it.

What it keeps from httpcore: TLS with the caller's verifying context (SNI and hostname
checks), connect/read/write timeouts as ``httpcore.*Timeout`` (the read timeout bounds each
answer), transport failures and malformed answers as ``httpcore.*Error`` (so retries see
``httpx.TransportError``), keep-alive expiry, ``Connection: close`` honoured, and a
connection reused only after a completely framed answer. A request that finds a reused
connection closed by the server before any byte of the answer is sent once more on a new
connection (what httpcore's readable-socket check prevents).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterable
from types import TracebackType

import httpcore
import httpx

KEEPALIVE_SECONDS = 5.0  # httpx's default keep-alive expiry
_READ_SIZE = 64 * 1024
_Origin = tuple[bytes, bytes, int]


class _StaleConnection(Exception):
    """A reused connection was closed by the server before it answered."""


def _timeouts(request: httpcore.Request) -> dict[str, float | None]:
    value = request.extensions.get("timeout", {})
    return value if isinstance(value, dict) else {}


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

    async def _head(self, first: bool) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
        """Status line and header fields of the next response head."""
        try:
            raw = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if first and not exc.partial and self.reused:
                raise _StaleConnection from None
            raise httpcore.RemoteProtocolError("server disconnected without an answer") from None
        except asyncio.LimitOverrunError:
            raise httpcore.RemoteProtocolError("response head too large") from None
        except OSError as exc:
            if first and self.reused:
                raise _StaleConnection from None
            raise httpcore.ReadError(str(exc)) from None
        status_line, *fields = raw[:-4].split(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        code, _, reason = rest.partition(b" ")
        if not version.startswith(b"HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise httpcore.RemoteProtocolError(f"bad status line {status_line[:80]!r}")
        headers = []
        for field in fields:
            name, sep, value = field.partition(b":")
            if not sep or not name or name != name.strip() or field[:1] in (b" ", b"\t"):
                raise httpcore.RemoteProtocolError(f"bad header line {field[:80]!r}")
            headers.append((name, value.strip(b" \t")))
        return int(code), version, reason, headers

    async def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            line = await self.reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise httpcore.RemoteProtocolError(f"bad chunk size {line[:40]!r}") from None
            if size == 0:
                while await self.reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailer fields: none of ours
                return b"".join(parts)
            data = await self.reader.readexactly(size + 2)
            if data[-2:] != b"\r\n":
                raise httpcore.RemoteProtocolError("chunk not followed by CRLF")
            parts.append(data[:-2])

    async def _body(self, method: bytes, status: int, fields: dict[bytes, bytes]) -> bytes:
        if method == b"HEAD" or status in (204, 304):
            return b""
        if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            return await self._chunked()
        length = fields.get(b"content-length")
        if length is None:
            self.keep_alive = False  # the body ends when the server closes
            return await self.reader.read()
        if not length.strip().isdigit():
            raise httpcore.RemoteProtocolError(f"bad Content-Length {length[:40]!r}")
        return await self.reader.readexactly(int(length))

    async def exchange(self, request: httpcore.Request) -> httpcore.Response:
        """Send ``request`` and read the whole answer (bodies here are small JSON)."""
        timeouts = _timeouts(request)
        await self._send(request, timeouts.get("write"))
        try:
            async with asyncio.timeout(timeouts.get("read")):
                status, version, reason, headers = await self._head(first=True)
                while 100 <= status < 200:  # informational: the real answer follows
                    if status == 101:
                        raise httpcore.RemoteProtocolError("unexpected protocol switch")
                    status, version, reason, headers = await self._head(first=False)
                fields = {name.lower(): value for name, value in headers}
                body = await self._body(request.method, status, fields)
        except TimeoutError:
            raise httpcore.ReadTimeout("timed out reading the response") from None
        except asyncio.IncompleteReadError:
            raise httpcore.RemoteProtocolError("server disconnected mid-answer") from None
        except asyncio.LimitOverrunError:
            raise httpcore.RemoteProtocolError("chunk line too long") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from None
        connection = fields.get(b"connection", b"").lower()
        if b"close" in connection or (version == b"HTTP/1.0" and b"keep-alive" not in connection):
            self.keep_alive = False
        return httpcore.Response(
            status,
            headers=headers,
            content=body,
            extensions={"http_version": version, "reason_phrase": reason},
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
