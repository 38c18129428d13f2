"""Job webhooks: signed JSON events (HMAC-SHA256), retries with exponential backoff, SSRF guard.

Signature header (Stripe-style): ``X-TTS-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
Receivers recompute the HMAC over the raw body and refuse timestamps older than the replay window
(`REPLAY_WINDOW_S`, 300 s) — `verify_signature` does both.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from tts_predictor.errors import UnsupportedOption
from tts_predictor.jobs.records import JobRecord

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-TTS-Signature"
REPLAY_WINDOW_S = 300.0


class WebhookRefused(UnsupportedOption):
    """The webhook URL is not allowed (400 at submission naming `webhook.url`)."""


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The X-TTS-Signature value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def verify_signature(
    secret: str, header: str, body: bytes, *, tolerance_s: float = REPLAY_WINDOW_S, now: float | None = None
) -> bool:
    """True when `header` signs `body` with `secret` and its timestamp is within the replay window."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        t = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - t) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts.get("v1", ""))


def check_url(url: str, allow_private: bool) -> None:
    """Only http(s); hosts resolving to loopback/private/link-local/reserved addresses only when allowed."""
    try:  # urlsplit raises on a bad IPv6 literal ('http://[::1'), .port on a port outside 0-65535 or not a number
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookRefused(f"webhook.url: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("webhook.url: must be an http:// or https:// URL with a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        raise WebhookRefused(f"webhook.url: cannot resolve host '{(parts.hostname or '')[:100]}'") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            raise WebhookRefused(
                f"webhook.url: '{parts.hostname[:100]}' resolves to a non-public address ({address}); "
                "private, loopback and link-local targets are refused (TTS_WEBHOOK_ALLOW_PRIVATE=true allows them)"
            )


def event(job: JobRecord) -> dict[str, Any]:
    """The event body: type job.completed / job.failed and the job's public view."""
    return {"type": f"job.{job.state}", "created_at": time.time(), "job": job.public()}


class WebhookSender:
    """Delivers events in background tasks and records every attempt on the job."""

    def __init__(self, settings: Any):
        self.settings = settings
        self.tasks: set[asyncio.Task[bool]] = set()

    def schedule(self, store: Any, job: JobRecord) -> None:
        """Send the job's final event (in the background)."""
        task = asyncio.create_task(self.deliver(store, job))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def deliver(self, store: Any, job: JobRecord) -> bool:
        """POST the event until a 2xx answer or the attempts run out; True when delivered."""
        secret = job.webhook_secret or self.settings.webhook_secret or ""
        body = json.dumps(event(job), separators=(",", ":")).encode()
        delay = self.settings.webhook_backoff_s
        for attempt in range(1, self.settings.webhook_max_attempts + 1):
            record: dict[str, Any] = {"attempt": attempt, "at": round(time.time(), 3)}
            try:
                await asyncio.to_thread(check_url, job.webhook_url or "", self.settings.webhook_allow_private)
                async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_s, follow_redirects=False) as client:
                    response = await client.post(
                        job.webhook_url or "",
                        content=body,
                        headers={
                            "content-type": "application/json",
                            SIGNATURE_HEADER: sign(secret, body),
                            "user-agent": "tts-predictor-webhook",
                        },
                    )
                record["status"] = response.status_code
                ok = 200 <= response.status_code < 300
            except (httpx.HTTPError, WebhookRefused, OSError) as exc:
                record["error"] = f"{type(exc).__name__}: {str(getattr(exc, 'reason', exc))[:200]}"
                ok = False
            await self._record(store, job.id, record)
            if ok:
                return True
            if attempt < self.settings.webhook_max_attempts:
                await asyncio.sleep(delay)
                delay *= 2
        log.warning("job %s: webhook not delivered after %d attempts", job.id, self.settings.webhook_max_attempts)
        return False

    @staticmethod
    async def _record(store: Any, job_id: str, record: dict[str, Any]) -> None:
        current = await asyncio.to_thread(store.get, job_id)
        if current is not None:
            current.webhook_attempts.append(record)
            await asyncio.to_thread(store.save, current)
