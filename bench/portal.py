"""Latency of the tenant portal and the billing API on an existing closed month.

    python -m bench.portal --config out/provider.toml [--requests 200] [--tenants 20]

Serves the portal for that config on a loopback port (uvicorn in a thread, as `metering
serve` runs it), sends one warm-up request (the month's first build, reported apart), then,
one request at a time, measures the wall time and the process CPU time (server and client:
one process) of every tenant page and API call in :data:`CALLS`, as randomly chosen tenants
(pages with their session, the API with their tenant key, list calls with a provider key),
and prints p50, p95 and max per call. Sessions are opened in the portal's session store
directly (VCD sign-in is not what is measured); keys are created and revoked again.

At the bench's full size, point it at the close stage's output:
``python -m bench --size full --stages close --workers 2 --workdir W`` then
``python -m bench.portal --config W/<close config>``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

import httpx


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _stats(name: str, seconds: list[float], cpu: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    cpu_ms = [s * 1000 for s in cpu]
    return {
        "call": name,
        "requests": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(_percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
        "cpu_p50_ms": round(statistics.median(cpu_ms), 1),
        "cpu_p95_ms": round(_percentile(cpu_ms, 0.95), 1),
    }


# (what is measured, URL; {tenant} and {number}: the chosen tenant's id and newest document,
# {month}: the newest rated month; who asks: "page" the tenant's session, "tenant" its API
# key, "provider" a provider key, "staff" a provider staff session)
CALLS = (
    ("GET /tenant/ (month-to-date page)", "/tenant/", "page"),
    ("GET /tenant/documents (invoices page)", "/tenant/documents", "page"),
    ("GET /tenant/documents/{number} (one invoice)", "/tenant/documents/{number}", "page"),
    ("GET /tenant/compare (past months)", "/tenant/compare", "page"),
    ("GET /api/v1/invoices?limit=50 (provider key)", "/api/v1/invoices?limit=50", "provider"),
    ("GET /api/v1/tenants?limit=50 (provider key)", "/api/v1/tenants?limit=50", "provider"),
    ("GET /api/v1/invoices (tenant key)", "/api/v1/invoices", "tenant"),
    (
        "GET /api/v1/tenants/{id}/month-to-date (tenant key)",
        "/api/v1/tenants/{tenant}/month-to-date",
        "tenant",
    ),
    ("GET /api/v1/tenants/{id}/usage (tenant key)", "/api/v1/tenants/{tenant}/usage", "tenant"),
    ("GET /provider/ (months)", "/provider/", "staff"),
    ("GET /provider/months/{month}", "/provider/months/{month}", "staff"),
    ("GET /provider/tenants", "/provider/tenants", "staff"),
    ("GET /provider/revenue", "/provider/revenue", "staff"),
    ("GET /provider/margin", "/provider/margin", "staff"),
    ("GET /provider/tenants/{id}/ (its month to date)", "/provider/tenants/{tenant}/", "staff"),
)
WARM_UP_TIMEOUT_SECONDS = 900.0
TIMEOUT_SECONDS = 120.0  # a slow answer is a figure to report, not a failure


def run(config_path: Path, requests: int, tenants: int, seed: int = 1) -> list[dict[str, Any]]:
    from metering.config import load_config
    from metering.portal import create_app
    from metering.portal.server import PortalServer
    from metering.portal.signin import Principal

    config = load_config(config_path)
    app = create_app(config)
    portal = app.app.state.portal
    rng = random.Random(seed)
    chosen = [t.tenant_id for t in portal.model.tenants()]
    chosen = rng.sample(chosen, min(tenants, len(chosen)))
    newest = {t: portal.model.documents(t) for t in chosen}
    chosen = [t for t in chosen if newest[t]]  # a tenant with an invoice to open
    if not chosen:
        raise SystemExit(f"{config_path}: none of the sampled tenants has an issued document")
    cookies = {t: portal.sessions.create(Principal("tenant", "bench", t))[0] for t in chosen}
    staff = portal.sessions.create(Principal("provider", "bench", None))[0]
    month = portal.model.current_month() or ""
    provider_key, provider_record = portal.keys.create(tenant_id=None, label="bench")
    tenant_keys = {t: portal.keys.create(tenant_id=t, label="bench") for t in chosen}
    timings: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _, _ in CALLS}
    try:
        with PortalServer(app).start() as server, httpx.Client(base_url=server.base_url) as http:

            def headers(tenant: str, who: str) -> dict[str, str]:
                if who in ("page", "staff"):
                    cookie = staff if who == "staff" else cookies[tenant]
                    return {"Cookie": f"{portal.cookie}={cookie}"}
                key = provider_key if who == "provider" else tenant_keys[tenant][0]
                return {"Authorization": f"Bearer {key}"}

            started = time.perf_counter()
            http.get(
                "/tenant/", headers=headers(chosen[0], "page"), timeout=WARM_UP_TIMEOUT_SECONDS
            )
            warm_up = time.perf_counter() - started
            for _ in range(requests):
                tenant = rng.choice(chosen)
                number = newest[tenant][0].number
                for name, template, who in CALLS:
                    url = template.replace("{tenant}", tenant).replace("{number}", number)
                    url = url.replace("{month}", month)
                    started, cpu = time.perf_counter(), time.process_time()
                    answer = http.get(url, headers=headers(tenant, who), timeout=TIMEOUT_SECONDS)
                    timings[name][0].append(time.perf_counter() - started)
                    timings[name][1].append(time.process_time() - cpu)
                    if answer.status_code != 200:
                        raise RuntimeError(f"{url}: HTTP {answer.status_code}")
    finally:
        portal.keys.revoke(provider_record.id)
        for _, record in tenant_keys.values():
            portal.keys.revoke(record.id)
    first = {"call": "first request (the month's build)", "requests": 1}
    first["wall_ms"] = round(warm_up * 1000, 1)
    return [first, *(_stats(name, *timings[name]) for name, _, _ in CALLS)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.portal", description=__doc__)
    parser.add_argument(
        "--config", type=Path, required=True, help="provider.toml of a closed month"
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per call")
    parser.add_argument("--tenants", type=int, default=20, help="tenants to sample")
    args = parser.parse_args(argv)
    rows = run(args.config, args.requests, args.tenants)
    for row in rows:
        if "p50_ms" not in row:
            print(f"{row['call']:<55} {row['wall_ms']:>7} ms")
            continue
        figures = f"p50 {row['p50_ms']:>7} ms  p95 {row['p95_ms']:>7} ms  max {row['max_ms']:>7} ms"
        cpu = f"cpu p50 {row['cpu_p50_ms']:>6} ms  p95 {row['cpu_p95_ms']:>6} ms"
        print(f"{row['call']:<55} {figures}  {cpu}  (n={row['requests']})")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
