"""Replay the VCD corpus (``tests/sources/corpus/vcd``) from a real loopback HTTP server.

Each corpus file names the public source its shape was checked against and holds one
answer; this server hands them out on the paths and tenant contexts a collector asks for,
with the status codes VCD uses (404 for an entity type that is not registered, 401 without
a token, 406 for an API version the site does not offer).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metering.loopback import LoopbackServer

CORPUS = Path(__file__).parent / "corpus" / "vcd"
TOKEN = "corpus-token"
CONTEXT = "X-VMWARE-VCLOUD-TENANT-CONTEXT"


def answer(name: str) -> Any:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))["answer"]


def _app(vm_files: dict[str, str], query_files: dict[str, str], edges: str) -> Starlette:
    versions = (CORPUS / "versions.xml").read_bytes()

    def offered(request: Request) -> bool:
        accept = request.headers.get("Accept", "")
        return any(f"version={v}" in accept for v in ("36.3", "37.2", "38.1", "39.0"))

    async def get_versions(_: Request) -> Response:
        return Response(versions, media_type="application/vnd.vmware.vcloud.versions+xml")

    async def login(request: Request) -> Response:
        if not offered(request):
            return Response(status_code=406)
        return JSONResponse({}, headers={"X-VMWARE-VCLOUD-ACCESS-TOKEN": TOKEN})

    async def api(request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return Response(status_code=401)
        if not offered(request):
            return Response(status_code=406)
        path, query = request.url.path.split("/vcd", 1)[1], request.query_params
        if path == "/api/query" and query.get("type") == "vm":
            name = vm_files.get(request.headers.get(CONTEXT, ""))
            if name is None:
                return Response(status_code=403)
            return JSONResponse(answer(name))
        if path.startswith("/api/vApp/vm-") and path.endswith("/snapshotSection"):
            uuid = path.removeprefix("/api/vApp/vm-").removesuffix("/snapshotSection")
            path = f"/snapshotSection-{uuid}"
        kind = str(query.get("type"))
        files = {
            "/api/query": query_files.get(kind, f"{kind}.json"),
            "/cloudapi/1.0.0/orgs": "orgs.json",
            "/cloudapi/2.0.0/vdcComputePolicies": "vdcComputePolicies.json",
            "/cloudapi/1.0.0/edgeGateways": edges,
        }
        name = files.get(path) or (
            f"{path[1:]}.json" if path.startswith("/snapshotSection-") else None
        )
        if name is None or not (CORPUS / name).is_file():
            return Response(status_code=404)  # e.g. a capvcdCluster type not registered
        return JSONResponse(answer(name))

    return Starlette(
        routes=[
            Route("/az1/vcd/api/versions", get_versions),
            Route("/az1/vcd/cloudapi/1.0.0/sessions/provider", login, methods=["POST"]),
            Route("/az1/vcd/{rest:path}", api),
        ]
    )


class CorpusServer(LoopbackServer):
    """The replay app on ``127.0.0.1:<port>`` in a daemon thread; a context manager."""

    what = "the corpus server"

    def __init__(
        self,
        vm_files: dict[str, str],
        query_files: dict[str, str] | None = None,
        edges: str = "edgeGateways.json",
    ) -> None:
        """``query_files``: another corpus file for a query type (default ``<type>.json``);
        ``edges``: the corpus file of ``/cloudapi/1.0.0/edgeGateways``."""
        super().__init__(_app(vm_files, query_files or {}, edges), log_level="critical")

    @property
    def vcd_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/az1/vcd"

    def __enter__(self) -> CorpusServer:
        return self.start()
