"""Serve a :class:`Simulation` on a loopback port from a background thread."""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
import warnings
from types import TracebackType

import httpx
import uvicorn

from metering.simulator.app import create_app
from metering.simulator.simulation import Simulation


class RunningServer:
    """A uvicorn server on ``127.0.0.1:<port>`` in a daemon thread; a context manager."""

    def __init__(self, sim: Simulation, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = sim
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: no Nagle delay between headers and body.
        self._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            create_app(sim), log_level="critical", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def site_urls(self, site: str) -> dict[str, str]:
        """The three base URLs of a site: ``vcd``, ``ose`` and ``cloudian``."""
        if site not in self.sim.sites:
            raise KeyError(f"no site {site!r}; sites are {', '.join(self.sim.sites)}")
        return {s: f"{self.base_url}/{site}/{s}" for s in ("vcd", "ose", "cloudian")}

    def start(self) -> RunningServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulated provider did not start")
            time.sleep(0.01)
        self.sim.server = self
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (Ctrl-C), then release the port."""
        self.sim.server = self
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()
            self.sim.server = None

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
        if self.sim.server is self:
            self.sim.server = None

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


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

    def start(self) -> ProcessServer:
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
