"""Alerts: tell a person when the scheduler stops and waits for one.

A close the completeness gate refuses (or that fails otherwise) is not retried on its own:
someone must fix the data or accept the gaps. The scheduler then sends one alert per failed
close run, as JSON, to what ``[alerts]`` configures, and always logs it::

    [alerts]
    command = ["/usr/local/bin/notify-billing", "--team", "finance"]  # JSON on its stdin
    webhook_url_env = "METERING_ALERT_WEBHOOK"   # POSTed the JSON (URL from the environment,
                                                 # or webhook_url_file; a URL may hold a token)
    timeout_seconds = 10

Sending never fails the scheduler: an alert that cannot be delivered is logged as such.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from metering.config import ProviderConfig

log = logging.getLogger("metering.pipelines")


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go (both may be set; neither: the log only)."""

    command: tuple[str, ...]
    webhook_url: str | None
    timeout: float


def alert_settings(config: ProviderConfig) -> AlertSettings:
    """Parse ``[alerts]``; errors name the config file and key."""
    s = config.section("alerts")
    command = s.get("command", list, [])
    if not all(isinstance(part, str) and part for part in command):
        raise s.error("command", "must be a list of non-empty strings (program, arguments)")
    url = None
    if "webhook_url_env" in s.data:
        name = s.get("webhook_url_env", str)
        url = os.environ.get(name)
        if not url:
            raise s.error("webhook_url_env", f"environment variable {name} is not set")
    elif "webhook_url_file" in s.data:
        path = s.path("webhook_url_file", config.source_file.parent)
        try:
            url = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise s.error("webhook_url_file", f"cannot read {path}: {exc.strerror}") from None
    elif "webhook_url" in s.data:
        url = s.get("webhook_url", str)
    if url is not None and not url.startswith(("https://", "http://")):
        raise s.error("webhook_url", "must be an http(s) URL")
    timeout = float(s.get("timeout_seconds", int, 10))
    return AlertSettings(tuple(command), url, timeout)


def alert_body(config: ProviderConfig, event: str, **fields: Any) -> dict[str, Any]:
    """The JSON an alert carries: what happened, where, and the fields given."""
    return {
        "event": event,
        "provider": config.name,
        "host": socket.gethostname(),
        "at": datetime.now(UTC).isoformat(),
        **fields,
    }


def send_alert(config: ProviderConfig, body: dict[str, Any]) -> list[str]:
    """Log the alert and deliver it to the command and the webhook; returns where it went
    (``log``, ``command``, ``webhook``). Delivery failures are logged, never raised."""
    settings = alert_settings(config)
    text = json.dumps(body, sort_keys=True)
    extra = {"pipeline": body.get("pipeline"), "period": body.get("period"), "status": "alert"}
    log.error("ALERT %s: %s", body["event"], body.get("summary", ""), extra=extra)
    sent = ["log"]
    if settings.command:
        try:
            done = subprocess.run(  # noqa: S603 - the operator's own configured command
                list(settings.command),
                input=text,
                text=True,
                capture_output=True,
                timeout=settings.timeout,
                check=False,
            )
            if done.returncode == 0:
                sent.append("command")
            else:
                log.warning("alert command exited %d", done.returncode, extra=extra)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("alert command failed: %s", type(exc).__name__, extra=extra)
    if settings.webhook_url:
        try:
            response = httpx.post(
                settings.webhook_url,
                content=text,
                headers={"content-type": "application/json"},
                timeout=settings.timeout,
            )
            if response.is_success:
                sent.append("webhook")
            else:  # the URL is never logged: it may carry a token
                log.warning("alert webhook answered HTTP %d", response.status_code, extra=extra)
        except httpx.HTTPError as exc:
            log.warning("alert webhook failed: %s", type(exc).__name__, extra=extra)
    return sent
