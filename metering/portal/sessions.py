"""Browser sessions, CSRF tokens and the sign-in rate limit.

Sessions live in this process's memory, keyed by the SHA-256 of the cookie value (the value
itself is kept nowhere): a restart signs everyone out, which is the safe failure. The cookie
is ``Secure``, ``HttpOnly`` and ``SameSite=Strict``; with secure cookies on, its name has the
``__Host-`` prefix, so browsers only accept it from this host over HTTPS (or localhost).
Every session carries a CSRF token that each state-changing request must echo (a form field
or the ``X-CSRF-Token`` header); before sign-in, the login form uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from metering.portal.signin import Principal


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


@dataclass
class Session:
    principal: Principal
    csrf: str
    created: float
    seen: float = field(default=0.0)


class SessionStore:
    """Sessions with an idle and an absolute lifetime."""

    def __init__(self, idle_seconds: float, max_seconds: float) -> None:
        self.idle = idle_seconds
        self.max = max_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, principal: Principal) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        session = Session(principal, secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._sessions[digest(token)] = session
            self._sweep(now)
        return token, session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = time.monotonic()
        key = digest(token)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                return None
            if now - session.seen > self.idle or now - session.created > self.max:
                del self._sessions[key]
                return None
            session.seen = now
            return session

    def end(self, token: str | None) -> None:
        if token:
            with self._lock:
                self._sessions.pop(digest(token), None)

    def _sweep(self, now: float) -> None:
        stale = [
            k
            for k, s in self._sessions.items()
            if now - s.seen > self.idle or now - s.created > self.max
        ]
        for key in stale:
            del self._sessions[key]


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), expected.encode())


class RateLimiter:
    """At most ``limit`` recorded attempts per key in a sliding ``window`` of seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] > self.window:
            hits.popleft()
        return hits

    def blocked(self, key: str, limit: int | None = None) -> bool:
        with self._lock:
            return len(self._live(key, time.monotonic())) >= (limit or self.limit)

    def hit(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._live(key, now).append(now)
            if len(self._hits) > 10_000:  # forget idle keys
                for stale in [k for k, h in self._hits.items() if not h]:
                    del self._hits[stale]
