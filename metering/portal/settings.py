"""The portal's settings: ``[portal]`` of the provider config (docs/portal.md).

```toml
[portal]
host = "127.0.0.1"            # behind a TLS reverse proxy in production
port = 8800
secure_cookies = true         # Secure session cookies (browsers accept them on localhost)
session_idle_minutes = 30
session_max_hours = 8
login_attempts = 5            # per client address and per account, in login_window_seconds
login_window_seconds = 300

[[portal.webhooks]]
url = "https://billing.example.com/hooks/metering"
secret_file = "secrets/webhook.secret"   # or secret_env
events = ["invoice.issued", "credit_note.issued", "close.blocked"]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from metering.config import ProviderConfig, Secret, Section

EVENTS = ("invoice.issued", "credit_note.issued", "close.blocked")


@dataclass(frozen=True)
class WebhookTarget:
    """One subscriber: where to POST, the shared secret it verifies signatures with."""

    url: str
    secret: Secret
    events: tuple[str, ...]


@dataclass(frozen=True)
class PortalSettings:
    host: str
    port: int
    secure_cookies: bool
    session_idle_minutes: int
    session_max_hours: int
    login_attempts: int
    login_window_seconds: int
    state_path: Path  # the portal's own SQLite file: API keys, webhook deliveries
    webhooks: tuple[WebhookTarget, ...]


def _webhooks(config: ProviderConfig) -> tuple[WebhookTarget, ...]:
    section = config.section("portal")
    raw = section.data.get("webhooks", [])
    if not isinstance(raw, list):
        raise section.error("webhooks", "must be an array of tables ([[portal.webhooks]])")
    targets = []
    base = config.source_file.parent
    for i, entry in enumerate(raw):
        table = f"{section.table}.webhooks[{i}]"
        s = Section(entry if isinstance(entry, dict) else {}, section.where, table)
        url = s.url("url")
        assert url is not None
        events = s.get("events", list, list(EVENTS))
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            raise s.error("events", f"unknown event(s) {unknown}; known: {', '.join(EVENTS)}")
        secret = s.secret("secret", base)
        assert secret is not None
        targets.append(WebhookTarget(url, secret, tuple(events)))
    return tuple(targets)


def load_portal_settings(config: ProviderConfig) -> PortalSettings:
    """``[portal]`` of ``config``, validated (errors name the file and key)."""
    s = config.section("portal")
    port = s.get("port", int, 8800)
    if not 0 <= port < 65536:
        raise s.error("port", "must be a TCP port (0 = any free port)")
    positive = {}
    for key, default in (
        ("session_idle_minutes", 30),
        ("session_max_hours", 8),
        ("login_attempts", 5),
        ("login_window_seconds", 300),
    ):
        positive[key] = s.get(key, int, default)
        if positive[key] < 1:
            raise s.error(key, "must be at least 1")
    return PortalSettings(
        host=s.get("host", str, "127.0.0.1"),
        port=port,
        secure_cookies=s.get("secure_cookies", bool, True),
        state_path=config.data_dir / "portal.sqlite",
        webhooks=_webhooks(config),
        **positive,
    )
