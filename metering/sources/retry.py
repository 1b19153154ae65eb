"""When and how long a site's client waits before asking again.

Retried: the statuses of :data:`RETRY_STATUS` (a rate limit, a server or gateway error), a
transport error or timeout, and an answer that could not be read. The wait is exponential
backoff with full jitter, or the server's ``Retry-After`` when that is longer (capped).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from metering.window import utc

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: ``attempts`` in all, backoff ``base × 2^n`` capped, full jitter."""

    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        backoff = rng.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
        if retry_after is not None:
            return min(self.max_retry_after, max(retry_after, backoff))
        return backoff


class RetryableResponse(Exception):
    """A response that may succeed when asked again (5xx, 429, unreadable body)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
