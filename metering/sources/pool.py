"""An HTTP/1.1 keep-alive connection pool on asyncio streams, under httpx's transport.

A daily collection is ~18,000 small GETs per site. httpcore's pool runs every request
through anyio locks and cancel scopes (each lock forces an extra event-loop pass) and polls
every idle socket before reusing it; over loopback that cost more CPU than the requests
themselves. :class:`PooledTransport` is httpx's own ``AsyncHTTPTransport`` (requests still
pass its ``handle_async_request``, which builds the httpcore request and maps errors to
``httpx.TransportError``) over :class:`Pool`: the same h11 protocol machine httpcore uses,
on plain asyncio streams, with one idle-connection list per origin.

What it keeps from httpcore: TLS with the caller's verifying context (SNI and hostname
checks), connect/read/write timeouts as ``httpcore.*Timeout``, transport failures as
``httpcore.*Error`` (so retries see ``httpx.TransportError``), keep-alive expiry, and a
connection is reused only when both sides finished the exchange cleanly. A request that
finds a reused connection closed by the server before any byte of the answer is sent once
more on a new connection (what httpcore's readable-socket check prevents).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterable
from types import TracebackType
from typing import Any

import h11
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
    """One HTTP/1.1 connection; one exchange at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.protocol = h11.Connection(h11.CLIENT)
        self.idle_since = time.monotonic()
        self.reused = False

    def usable(self, now: float) -> bool:
        return (
            not self.reader.at_eof()
            and not self.writer.is_closing()
            and now - self.idle_since < KEEPALIVE_SECONDS
        )

    def close(self) -> None:
        self.writer.close()

    async def _read(self, timeout: float | None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self.reader.read(_READ_SIZE)
        except TimeoutError:
            raise httpcore.ReadTimeout("timed out reading the response") from None
        except OSError as exc:
            raise httpcore.ReadError(str(exc)) from None

    async def _send(self, request: httpcore.Request, timeout: float | None) -> None:
        out = self.protocol.send(
            h11.Request(method=request.method, target=request.url.target, headers=request.headers)
        )
        parts = [out or b""]
        if isinstance(request.stream, AsyncIterable):
            async for chunk in request.stream:
                parts.append(self.protocol.send(h11.Data(data=chunk)) or b"")
        parts.append(self.protocol.send(h11.EndOfMessage()) or b"")
        try:
            self.writer.write(b"".join(parts))
            async with asyncio.timeout(timeout):
                await self.writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out sending the request") from None
        except OSError as exc:
            raise httpcore.WriteError(str(exc)) from None

    async def _next(self, timeout: float | None, answered: bool) -> Any:
        """The next h11 event, reading from the socket as needed."""
        while True:
            try:
                event = self.protocol.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpcore.RemoteProtocolError(str(exc)) from None
            if event is not h11.NEED_DATA:
                return event
            data = await self._read(timeout)
            if not data and not answered and self.reused:
                raise _StaleConnection
            if not data and not answered:
                raise httpcore.RemoteProtocolError("server disconnected without an answer")
            self.protocol.receive_data(data)

    async def exchange(self, request: httpcore.Request) -> httpcore.Response:
        """Send ``request`` and read the whole answer (bodies here are small JSON)."""
        timeouts = _timeouts(request)
        try:
            await self._send(request, timeouts.get("write"))
        except httpcore.WriteError:
            if self.reused:
                raise _StaleConnection from None
            raise
        head = await self._next(timeouts.get("read"), answered=False)
        while isinstance(head, h11.InformationalResponse):
            head = await self._next(timeouts.get("read"), answered=True)
        if not isinstance(head, h11.Response):
            raise httpcore.RemoteProtocolError(f"unexpected {type(head).__name__}")
        chunks = []
        while True:
            event = await self._next(timeouts.get("read"), answered=True)
            if isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                raise httpcore.RemoteProtocolError(f"unexpected {type(event).__name__}")
        return httpcore.Response(
            head.status_code,
            headers=head.headers.raw_items(),
            content=b"".join(chunks),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    def reusable(self) -> bool:
        """Whether both sides ended the exchange cleanly and kept the connection open."""
        if self.protocol.our_state is h11.DONE and self.protocol.their_state is h11.DONE:
            self.protocol.start_next_cycle()
            return True
        return False


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
