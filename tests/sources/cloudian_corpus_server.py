"""Replay a corpus case's recorded answers over real HTTP on a loopback port.

A case file (JSON) names its public ``source`` and gives ``answers``: per API path, either one
answer or a map from a query selector (``"groupId=g1"``, ``"id=g1|u1|b1&operation=SB"``) to an
answer. An answer is ``{"status": 200, "json": ...}`` (a JSON body), ``{"status": 200,
"text": ""}`` (a raw body, e.g. empty) or ``{"status": 204}``. A path or selector the case does
not name answers ``default`` of that path if given, else 404.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from metering.loopback import LoopbackServer

CORPUS = Path(__file__).parent / "corpus"


def load(name: str) -> dict[str, Any]:
    """A case; ``extends`` names a case whose answers this one starts from (and overrides)."""
    case: dict[str, Any] = json.loads((CORPUS / name).read_text(encoding="utf-8"))
    assert case.get("source"), f"{name}: every corpus file names its public source"
    if "extends" in case:
        base = load(str(Path(name).parent / case["extends"]))
        case["answers"] = {**base["answers"], **case.get("answers", {})}
    return case


def _respond(answer: dict[str, Any]) -> Response:
    status = int(answer.get("status", 200))
    if "json" in answer:
        return Response(json.dumps(answer["json"]), status, media_type="application/json")
    return Response(answer.get("text", ""), status, media_type=answer.get("type"))


def _pick(spec: dict[str, Any], request: Request) -> dict[str, Any] | None:
    if "status" in spec or "json" in spec or "text" in spec:
        return spec
    query = request.query_params
    for selector, answer in spec.items():
        if selector == "default":
            continue
        wanted = dict(part.split("=", 1) for part in selector.split("&"))
        if all(query.get(k) == v for k, v in wanted.items()):
            return answer  # type: ignore[no-any-return]
    return spec.get("default")


class Replay:
    """``with Replay(case["answers"]) as base:`` serves them at ``base`` + path."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def app(self) -> Starlette:
        async def any_path(request: Request) -> Response:
            path = "/" + request.path_params["rest"]
            self.calls.append(f"{path}?{request.url.query}")
            spec = self.answers.get(path)
            answer = None if spec is None else _pick(spec, request)
            return Response(status_code=404) if answer is None else _respond(answer)

        return Starlette(routes=[Route("/az1/cloudian/{rest:path}", any_path)])

    def __enter__(self) -> str:
        self._server = LoopbackServer(self.app(), log_level="warning").start()
        return f"{self._server.base_url}/az1/cloudian"

    def __exit__(self, *exc: object) -> None:
        self._server.stop()
