"""Latency of the tenant portal and the billing API on an existing closed month.

    python -m bench.portal --config out/provider.toml [--requests 200] [--tenants 20]

Serves the portal for that config on a loopback port (uvicorn in a thread, as `metering
serve` runs it), then, one request at a time, measures the wall time of
- ``GET /tenant/`` (the month-to-date page) as randomly chosen tenants,
- ``GET /api/v1/invoices?limit=50`` with a provider API key (a list call),
- ``GET /api/v1/tenants/{id}/month-to-date`` with that tenant's key,
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


def _stats(name: str, seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "call": name,
        "requests": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(_percentile(ms, 0.95), 1),
        "max_ms": round(max(ms), 1),
    }


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
    cookies = {t: portal.sessions.create(Principal("tenant", "bench", t))[0] for t in chosen}
    provider_key, provider_record = portal.keys.create(tenant_id=None, label="bench")
    tenant_keys = {t: portal.keys.create(tenant_id=t, label="bench") for t in chosen}
    timings: dict[str, list[float]] = {"page": [], "list": [], "mtd": []}
    try:
        with PortalServer(app).start() as server, httpx.Client(base_url=server.base_url) as http:

            def timed(name: str, url: str, headers: dict[str, str]) -> None:
                started = time.perf_counter()
                answer = http.get(url, headers=headers)
                timings[name].append(time.perf_counter() - started)
                if answer.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {answer.status_code}")

            for _ in range(requests):
                tenant = rng.choice(chosen)
                timed("page", "/tenant/", {"Cookie": f"{portal.cookie}={cookies[tenant]}"})
                timed(
                    "list", "/api/v1/invoices?limit=50", {"Authorization": f"Bearer {provider_key}"}
                )
                key = tenant_keys[tenant][0]
                timed(
                    "mtd",
                    f"/api/v1/tenants/{tenant}/month-to-date",
                    {"Authorization": f"Bearer {key}"},
                )
    finally:
        portal.keys.revoke(provider_record.id)
        for _, record in tenant_keys.values():
            portal.keys.revoke(record.id)
    return [
        _stats("GET /tenant/ (month-to-date page)", timings["page"]),
        _stats("GET /api/v1/invoices?limit=50 (provider key)", timings["list"]),
        _stats("GET /api/v1/tenants/{id}/month-to-date (tenant key)", timings["mtd"]),
    ]


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
        figures = f"p50 {row['p50_ms']:>7} ms  p95 {row['p95_ms']:>7} ms  max {row['max_ms']:>7} ms"
        print(f"{row['call']:<55} {figures}  (n={row['requests']})")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
