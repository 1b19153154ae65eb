"""Serve the portal from a background thread on a loopback port (tests, the bench)."""

from __future__ import annotations

from typing import Any

from metering.loopback import LoopbackServer


class PortalServer(LoopbackServer):
    """uvicorn serving the portal's ASGI app on ``127.0.0.1:<free port>`` in a daemon thread."""

    what = "the portal"

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(app, host, port)

    @property
    def base_url(self) -> str:
        """``localhost`` rather than the address: browsers keep Secure cookies for it."""
        return f"http://localhost:{self.port}"
