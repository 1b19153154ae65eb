"""Replays a corpus fixture (tests/sources/corpus/<source>/<case>.json) as one site over real
HTTP on a loopback port, so a collector reads it exactly as it reads a provider.

A fixture's ``answers`` map a request to ``{"status": int, "body": any}``; the key is the
path under the site's service (``/vcd/cloudapi/1.0.0/orgs``), or that path with its
``filter`` query (``/vcd/cloudapi/1.0.0/entityTypes?filter=vendor==vmware;nss==dsConfig``),
which wins. A request no answer names gets VCD's 404 error body. Logins succeed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from metering.config import Secret, SiteConfig
from metering.loopback import LoopbackServer

CORPUS = Path(__file__).parent / "corpus"
PASSWORD = "corpus-pa55"


def load(path: Path) -> dict[str, Any]:
    fixture: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return fixture


def _app(answers: dict[str, Any], seen: list[str]) -> Starlette:
    async def login(request: Request) -> Response:
        headers = {"X-VMWARE-VCLOUD-ACCESS-TOKEN": "corpus-token"}
        return JSONResponse({"id": "urn:vcloud:session:corpus"}, headers=headers)

    async def versions(_: Request) -> Response:  # a VCD 10.6 (corpus/vcd/versions.xml)
        body = (CORPUS / "vcd" / "versions.xml").read_bytes()
        return Response(body, media_type="application/vnd.vmware.vcloud.versions+xml")

    async def answer(request: Request) -> Response:
        path = "/" + request.path_params["rest"]
        fiql = request.query_params.get("filter")
        key = f"{path}?filter={fiql}" if fiql and f"{path}?filter={fiql}" in answers else path
        seen.append(key)
        found = answers.get(key)
        if found is None:
            body = {"minorErrorCode": "NOT_FOUND", "message": f"{path} not found"}
            return JSONResponse(body, status_code=404)
        status = int(found.get("status", 200))
        if "body" not in found:
            return Response(status_code=status)
        return JSONResponse(found["body"], status_code=status)

    return Starlette(
        routes=[
            Route("/az1/vcd/cloudapi/1.0.0/sessions/provider", login, methods=["POST"]),
            Route("/az1/vcd/api/versions", versions),
            Route("/az1/{rest:path}", answer),
        ]
    )


class CorpusSite(LoopbackServer):
    """One fixture served on ``127.0.0.1:<port>`` from a daemon thread; a context manager."""

    what = "the corpus site"

    def __init__(self, fixture: dict[str, Any]) -> None:
        self.seen: list[str] = []
        super().__init__(_app(fixture["answers"], self.seen), log_level="critical")

    def site(self) -> SiteConfig:
        base = f"http://127.0.0.1:{self.port}/az1"
        return SiteConfig(
            name="az1",
            vcd_url=f"{base}/vcd",
            vcd_user="admin",
            vcd_password=Secret(PASSWORD),
            ose_url=f"{base}/ose",
            cloudian_url=f"{base}/cloudian",
            cloudian_user="sysadmin",
            cloudian_password=Secret(PASSWORD),
        )

    def __enter__(self) -> CorpusSite:
        return self.start()
