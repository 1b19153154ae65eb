"""Webhooks over HTTP to a real receiver: signed bodies, retries with backoff, every attempt
recorded, each event once."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from metering.config import Secret
from metering.pipelines.history import RunHistory
from metering.portal.server import PortalServer
from metering.portal.settings import WebhookTarget
from metering.portal.webhooks import MAX_ATTEMPTS, Webhooks, backoff
from metering.window import Window
from tests.portal.conftest import Env

SECRET = "whsec-test-0123456789"


class Receiver:
    """A billing system's endpoint: verifies each signature, fails the first ``failures``."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        self.app = Starlette(routes=[Route("/hook", self.hook, methods=["POST"])])

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        stamp = request.headers["x-metering-timestamp"]
        mac = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        valid = hmac.compare_digest(
            request.headers["x-metering-signature"], "v1=" + mac.hexdigest()
        )
        self.received.append(
            {"valid": valid, "event": request.headers["x-metering-event"], "body": json.loads(body)}
        )
        if self.failures > 0:
            self.failures -= 1
            return Response(status_code=503)
        return Response(status_code=204 if valid else 401)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    found = Receiver(failures=2)
    with PortalServer(found.app).start() as server:
        yield found, f"{server.base_url}/hook"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 7, 0, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def test_issued_documents_are_delivered_signed_retried_and_recorded(
    env: Env, receiver: tuple[Receiver, str], tmp_path
) -> None:
    target, url = receiver
    clock = Clock()
    hooks = Webhooks(
        tmp_path / "portal.sqlite",
        (WebhookTarget(url, Secret(SECRET), ("invoice.issued", "credit_note.issued")),),
        clock=clock,
    )
    target.failures = 1
    first = hooks.run_once(env.portal.model)
    # two issued invoices, one delivery each (the case's unmapped org is held: no number)
    assert len(first) == 2
    assert {a.event_id for a in first} == {
        "invoice.issued:INV-2026-000001",
        "invoice.issued:INV-2026-000002",
    }
    assert [a.status_code for a in first].count(503) == 1  # the receiver's failure
    assert hooks.deliver_due() == []  # the failed one waits for its backoff
    clock.now += backoff(1)
    retried = hooks.run_once(env.portal.model)
    assert len(retried) == 1 and {a.status_code for a in retried} == {204}
    assert {a.attempt for a in retried} == {2}
    clock.now += 3600
    assert hooks.run_once(env.portal.model) == []  # each event once
    assert all(r["valid"] for r in target.received)
    bodies = {r["body"]["id"]: r["body"] for r in target.received}
    acme = bodies["invoice.issued:INV-2026-000001"]
    assert acme["type"] == "invoice.issued" and acme["data"]["total_amount"] == "94.66"
    assert acme["data"]["tenant_id"] == "acme"
    record = {d["event_id"]: d for d in hooks.deliveries()}
    assert {d["state"] for d in record.values()} == {"delivered"}
    retried_ids = {a.event_id for a in retried}
    for event_id, delivery in record.items():
        log = delivery["attempt_log"]
        if event_id in retried_ids:
            assert [(a["attempt"], a["status_code"]) for a in log] == [(1, 503), (2, 204)]
        else:
            assert [(a["attempt"], a["status_code"]) for a in log] == [(1, 204)]
    assert SECRET.encode() not in (tmp_path / "portal.sqlite").read_bytes()


def test_an_unreachable_receiver_is_retried_with_backoff_then_failed(env: Env, tmp_path) -> None:
    clock = Clock()
    hooks = Webhooks(
        tmp_path / "portal.sqlite",
        (WebhookTarget("http://127.0.0.1:9/hook", Secret(SECRET), ("invoice.issued",)),),
        clock=clock,
    )
    hooks.discover(env.portal.model)
    waits = []
    for attempt in range(1, MAX_ATTEMPTS + 1):
        done = hooks.deliver_due()
        assert len(done) == 2 and {a.attempt for a in done} == {attempt}
        assert {a.status_code for a in done} == {None}
        waits.append(backoff(attempt))
        clock.now += backoff(attempt)
    assert waits[:3] == [30.0, 60.0, 120.0]
    assert hooks.deliver_due() == []
    assert {d["state"] for d in hooks.deliveries()} == {"failed"}
    assert all(len(d["attempt_log"]) == MAX_ATTEMPTS for d in hooks.deliveries())


def test_a_blocked_close_is_announced(env: Env, receiver: tuple[Receiver, str], tmp_path) -> None:
    target, url = receiver
    target.failures = 0
    history = RunHistory(env.config.data_dir / "pipelines" / "runs.sqlite")
    try:
        history.record_waiting(
            "close", "2026-11", Window.month(2026, 11), "night 2026-11-03 failed"
        )
    finally:
        history.close()
    hooks = Webhooks(
        tmp_path / "portal.sqlite", (WebhookTarget(url, Secret(SECRET), ("close.blocked",)),)
    )
    done = hooks.run_once(env.portal.model)
    assert len(done) == 1 and done[0].status_code == 204
    (event,) = target.received
    assert event["event"] == "close.blocked"
    assert event["body"]["data"]["month"] == "2026-11"
    assert event["body"]["data"]["reason"] == "night 2026-11-03 failed"
