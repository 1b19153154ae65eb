"""Seeded, reproducible faults, by endpoint pattern and rate.

A :class:`FaultRule` matches requests by a glob on the path (``/az1/vcd/api/query*``,
``*/cloudian/usage``) and fires for a fraction ``rate`` of them. Whether a request is hit
depends only on the seed, the rule, the request (method, path, query) and how many times that
same request was made before, never on timing or interleaving, so a run replays exactly.

Kinds: ``429`` (with ``Retry-After``), ``500``/``502``/``503``, ``slow`` (answers after
``delay`` seconds), ``drop`` (the connection closes mid-response), ``truncate`` (the body is
cut short), ``malformed`` (the body is not JSON), ``duplicate`` (a page repeats the previous
page's last record), ``loop`` (the next-page link points back at page 1) and ``site_down``
(every endpoint of ``site`` answers 503 while the simulated clock is in ``[start, end)``).
"""

from __future__ import annotations

import fnmatch
import hashlib
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from metering.window import parse_utc

KINDS = (
    "429",
    "500",
    "502",
    "503",
    "slow",
    "drop",
    "truncate",
    "malformed",
    "duplicate",
    "loop",
    "site_down",
)
PAGING_KINDS = ("duplicate", "loop")


@dataclass
class FaultRule:
    kind: str
    pattern: str = "*"
    rate: float = 1.0
    site: str | None = None
    retry_after: int = 1
    delay: float = 5.0
    start: datetime | None = None
    end: datetime | None = None
    limit: int | None = None  # fire at most this many times (None: no limit)
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {list(KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate}")
        if self.kind == "site_down" and (self.site is None or self.start is None):
            raise ValueError("a site_down fault needs a site and a start time")
        if self.kind == "site_down" and self.end is None:
            assert self.start is not None
            self.end = self.start + timedelta(hours=1)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("start", "end"):
            out[key] = out[key].isoformat() if out[key] else None
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultRule:
        data = {k: v for k, v in data.items() if k != "fired"}
        for key in ("start", "end"):
            if data.get(key):
                data[key] = parse_utc(str(data[key]))
        if "kind" in data:
            data["kind"] = str(data["kind"])
        return cls(**data)


@dataclass
class FaultPlan:
    """The active rules; the first rule that fires for a request decides its fault."""

    seed: int
    rules: list[FaultRule] = field(default_factory=list)
    _seen: dict[tuple[int, str], int] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, pattern: str = "*", rate: float = 1.0, **params: Any) -> FaultRule:
        rule = FaultRule(kind=str(kind), pattern=pattern, rate=rate, **params)
        with self._lock:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self._seen.clear()

    def to_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.rules]

    def _draw(self, index: int, key: str) -> float:
        occurrence = self._seen.get((index, key), 0)
        self._seen[(index, key)] = occurrence + 1
        digest = hashlib.sha256(f"{self.seed}:{index}:{key}:{occurrence}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def decide(self, method: str, path: str, query: str, now: datetime) -> FaultRule | None:
        """The rule that fires for this request, if any (counts it)."""
        site = path.strip("/").split("/", 1)[0]
        key = f"{method} {path}?{query}"
        with self._lock:
            for index, rule in enumerate(self.rules):
                if rule.limit is not None and rule.fired >= rule.limit:
                    continue
                if rule.site is not None and rule.site != site:
                    continue
                if not fnmatch.fnmatchcase(path, rule.pattern):
                    continue
                if rule.kind == "site_down":
                    assert rule.start is not None
                    if not rule.start <= now < (rule.end or rule.start):
                        continue
                elif self._draw(index, key) >= rule.rate:
                    continue
                rule.fired += 1
                return rule
        return None
