"""A month's build (a minute at full size) never stalls other requests: while a request
waits for the month being rebuilt after rating rewrote it, another tenant's pages, the
sign-in page, the style sheet and the API answer at once (the read model's work runs in the
thread pool, off the event loop); and a rebuilt month replaces the previous version only
once built, a caller still holding the old one being sent to the new one."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from metering.close.contract import rating_path
from metering.readmodel.usage import month_query
from tests.close.builders import MONTH
from tests.portal.conftest import Env, tenant

PROMPT_SECONDS = 5.0  # a held build never ends by itself: anything stalled would time out


@contextmanager
def _month_rewritten_and_build_held(env: Env) -> Iterator[None]:
    """Rating rewrote the month (its invoice lines' mtime moves: a new version to build),
    and the one build slot is taken, as by a build in progress in another thread."""
    cache = env.portal.model.cache
    lines = rating_path(env.config, "invoice_lines", MONTH)
    cache._building.acquire()
    try:
        stat = os.stat(lines)
        os.utime(lines, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        assert not cache.built(MONTH)
        yield
    finally:
        cache._building.release()


def test_a_month_being_rebuilt_stalls_only_the_requests_that_need_it(env: Env) -> None:
    acme, evil = tenant(env, "acme"), tenant(env, "evil")
    evil_token = env.portal.keys.create(tenant_id="evil", label="concurrency", by="test")[0]
    assert acme.get("/tenant/").status_code == 200  # the month is built
    waiting: list[httpx.Response] = []
    with _month_rewritten_and_build_held(env):
        needs_build = threading.Thread(target=lambda: waiting.append(acme.get("/tenant/")))
        needs_build.start()
        time.sleep(0.5)
        assert needs_build.is_alive() and not waiting  # it waits for the month's build
        started = time.monotonic()
        docs = evil.get("/tenant/documents", timeout=PROMPT_SECONDS)
        login = httpx.get(f"{env.base_url}/login", timeout=PROMPT_SECONDS)
        css = httpx.get(f"{env.base_url}/static/portal.css", timeout=PROMPT_SECONDS)
        api = httpx.get(
            f"{env.base_url}/api/v1/invoices",
            headers={"Authorization": f"Bearer {evil_token}"},
            timeout=PROMPT_SECONDS,
        )
        elapsed = time.monotonic() - started
        assert docs.status_code == 200 and "INV-" in docs.text
        assert login.status_code == 200 and 'name="csrf_token"' in login.text
        assert css.status_code == 200
        assert api.status_code == 200
        assert {d["tenant_id"] for d in api.json()["data"]} == {"evil"}
        assert elapsed < PROMPT_SECONDS
        assert needs_build.is_alive() and not waiting  # still waiting all that time
    needs_build.join(timeout=60)
    assert [r.status_code for r in waiting] == [200]
    assert 'id="total">EUR' in waiting[0].text
    assert env.portal.model.cache.built(MONTH)


def test_a_rebuilt_month_closes_the_previous_version_only_once_replaced(env: Env) -> None:
    cache = env.portal.model.cache
    before = cache.month(MONTH)
    assert before is not None and not before.closed
    summary = month_query(cache, MONTH, "month_summary")
    lines = rating_path(env.config, "invoice_lines", MONTH)
    stat = os.stat(lines)
    os.utime(lines, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    rebuilt: list[object] = []
    with before.lock:  # a provider query still running on the previous version
        rebuild = threading.Thread(target=lambda: rebuilt.append(cache.month(MONTH)))
        rebuild.start()
        deadline = time.monotonic() + 60
        while not cache.built(MONTH) and time.monotonic() < deadline:
            time.sleep(0.05)
        after = cache.month(MONTH)  # the new version is served while the old one is in use
        assert after is not None and after is not before and not after.closed
        assert not before.closed  # the running query's connection is still open
        assert before.con.execute("select count(*) from invoice_lines").fetchone() is not None
    rebuild.join(timeout=60)
    assert rebuilt == [after]
    assert before.closed  # closed once its query was done
    assert month_query(cache, MONTH, "month_summary") == summary
    assert after.tables["lines"].rows("acme") == before.tables["lines"].rows("acme")
