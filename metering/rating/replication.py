"""Replication-aware object storage rates (domain.md, worked example 3).

A rate card may give the GB-month rate of a storage policy directly (a ``[[rates]]`` entry
for ``object_storage`` with that dimension) or derive it in ``[object_storage]``::

    [object_storage]
    raw_unit_price = "0.01"              # per raw GB-month
    multi_dc_surcharge_percent = "10"    # when a policy spans data centres
    [object_storage.policies."2DC-3R"]
    replicas = { DC1 = 2, DC2 = 1 }      # replication: overhead = total copies
    [object_storage.policies."EC-4+2"]
    erasure_coding = { DC1 = "4+2" }     # EC k+m per DC: overhead = Σ (k+m)/k

Derived rate = raw × overhead × (1 + surcharge) for multi-DC policies, rounded half-up to
9 decimals. Logical bytes are billed once at this rate; replicas are never billed again.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from metering.rating.policy import Rate, _Doc

_NANO = Decimal("0.000000001")


def policy_overhead(doc: _Doc, name: str, raw: Any) -> tuple[Decimal, int, str]:
    """(overhead factor, number of DCs, human description) of one storage policy."""
    path: list[str | int] = ["object_storage", "policies", name]
    if not isinstance(raw, dict):
        raise doc.error(path, "must be a table with replicas or erasure_coding")
    if ("replicas" in raw) == ("erasure_coding" in raw):
        raise doc.error(
            path, "give exactly one of replicas = {DC = n} or erasure_coding = {DC = 'k+m'}"
        )
    if "replicas" in raw:
        copies = doc.get(raw, [*path, "replicas"], dict)
        total = 0
        for dc, n in copies.items():
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise doc.error([*path, "replicas"], f"{dc}: replicas must be a positive integer")
            total += n
        if not copies:
            raise doc.error([*path, "replicas"], "needs at least one data centre")
        return Decimal(total), len(copies), f"{total} copies"
    schemes = doc.get(raw, [*path, "erasure_coding"], dict)
    overhead = Decimal(0)
    for dc, text in schemes.items():
        try:
            k, m = (int(x) for x in str(text).split("+"))
        except ValueError:
            raise doc.error([*path, "erasure_coding"], f"{dc}: write 'k+m', e.g. '4+2'") from None
        if k < 1 or m < 0:
            raise doc.error([*path, "erasure_coding"], f"{dc}: k must be >= 1 and m >= 0")
        overhead += Decimal(k + m) / Decimal(k)
    if not schemes:
        raise doc.error([*path, "erasure_coding"], "needs at least one data centre")
    return overhead, len(schemes), f"EC {', '.join(map(str, schemes.values()))}"


def derived_storage_rates(doc: _Doc, explicit: list[Rate]) -> list[Rate]:
    """Per-unit ``object_storage`` rates derived from ``[object_storage]``."""
    from metering.rating.policy import Rate, Tier

    block = doc.data.get("object_storage")
    if block is None:
        return []
    if not isinstance(block, dict):
        raise doc.error(["object_storage"], "must be a table")
    raw_price = doc.decimal(block, ["object_storage", "raw_unit_price"])
    surcharge = doc.decimal(block, ["object_storage", "multi_dc_surcharge_percent"], Decimal(0))
    policies = doc.get(block, ["object_storage", "policies"], dict)
    given = {r.dimension for r in explicit if r.product == "object_storage"}
    rates = []
    for name, raw in policies.items():
        overhead, dcs, what = policy_overhead(doc, name, raw)
        if name in given:
            continue  # a rate given directly wins over the derived one
        factor = Decimal(1) + surcharge / 100 if dcs > 1 else Decimal(1)
        price = (raw_price * overhead * factor).quantize(_NANO, rounding=ROUND_HALF_UP)
        how = f"raw {raw_price} × {what}" + (f" × {factor} (multi-DC)" if dcs > 1 else "")
        rates.append(
            Rate("object_storage", name, "per_unit", (Tier(Decimal(0), None, price),), 1, how)
        )
    return rates
