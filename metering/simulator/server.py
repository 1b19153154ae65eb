"""Serve a :class:`Simulation` on a loopback port from a background thread."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import warnings
from typing import Any, Self

import httpx
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from metering.loopback import LoopbackServer
from metering.simulator.app import create_app
from metering.simulator.simulation import Simulation


class _OneSendTransport:
    """A transport whose writes of one event-loop step leave in one ``send``.

    uvicorn writes a response's head and body separately: two system calls and, on the
    client, often two wake-ups per response. Over loopback those calls cost more than the
    simulator's own work for a small per-tenant answer.
    """

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _Protocol(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP/1.1 protocol over :class:`_OneSendTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(_OneSendTransport(transport))


class RunningServer(LoopbackServer):
    """The simulated provider served by uvicorn on ``127.0.0.1:<port>`` in a daemon thread;
    a context manager. While it runs, ``sim.server`` is this server."""

    what = "the simulated provider"

    def __init__(self, sim: Simulation, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = sim
        super().__init__(
            create_app(sim), host, port, http=_Protocol, log_level="critical", nodelay=True
        )

    def site_urls(self, site: str) -> dict[str, str]:
        """The three base URLs of a site: ``vcd``, ``ose`` and ``cloudian``."""
        if site not in self.sim.sites:
            raise KeyError(f"no site {site!r}; sites are {', '.join(self.sim.sites)}")
        return {s: f"{self.base_url}/{site}/{s}" for s in ("vcd", "ose", "cloudian")}

    def start(self) -> Self:
        super().start()
        self.sim.server = self
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C), then release the port."""
        self.sim.server = self
        try:
            super().serve_forever()
        finally:
            self.sim.server = None

    def stop(self) -> None:
        super().stop()
        if self.sim.server is self:
            self.sim.server = None


class ProcessServer(RunningServer):
    """The same server in a forked child process.

    The demo uses it so the collectors and the simulated provider run on separate cores
    instead of sharing one interpreter lock. The child owns the simulation's state from then
    on: move its clock over HTTP (``POST /_sim/clock``), not through ``sim``.
    """

    def __init__(self, sim: Simulation, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(sim, host, port)
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=self._serve_child, daemon=True)

    def _serve_child(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self) -> Self:
        with warnings.catch_warnings():
            # Python >= 3.12 warns on fork() from a process with threads (pytest-xdist has
            # some). The child only runs the server loop on its own socket and takes none of
            # the parent's locks, so the deadlock the warning is about cannot happen here.
            warnings.filterwarnings("ignore", message=".*fork.*", category=DeprecationWarning)
            self._process.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"{self.base_url}/_sim/clock", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if not self._process.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError("the simulated provider did not start") from None
                time.sleep(0.02)
        self.sim.server = self
        return self

    def stop(self) -> None:
        self._process.terminate()
        self._process.join(timeout=10)
        self._socket.close()
        if self.sim.server is self:
            self.sim.server = None


def serve_in_process(sim: Simulation, host: str = "127.0.0.1", port: int = 0) -> ProcessServer:
    """Start serving ``sim`` from a child process; stop it, or use ``with``."""
    return ProcessServer(sim, host, port).start()


def serve_in_thread(sim: Simulation, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Start serving ``sim``; returns the running server (stop it, or use ``with``)."""
    return RunningServer(sim, host, port).start()
