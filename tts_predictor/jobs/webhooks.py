"""Job webhooks: signed JSON events (HMAC-SHA256), retries with exponential backoff, SSRF guard (URL syntax and
literal addresses at submission; names resolved, checked and pinned at each delivery).

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
import string
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from tts_predictor.errors import UnsupportedOption
from tts_predictor.jobs.records import JobRecord

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-TTS-Signature"
_HOST_CHARS = frozenset(string.ascii_letters + string.digits + ".-_:")
"""Characters of a host name after IDNA encoding (':' for IPv6 literals)."""
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
    """At submission: an http(s) URL with a host and a valid port; a literal IP address is checked against the SSRF
    rules now. A host name is resolved and checked at each delivery (`resolve_checked`), so a name that does not
    resolve yet never refuses the job.

    Raises:
        WebhookRefused: naming `webhook.url` (a 400).
    """
    try:  # urlsplit raises on a bad IPv6 literal ('http://[::1'), .port on a port outside 0-65535 or not a number
        parts = urlsplit(url)
        parts.port  # noqa: B018 (validates the port)
        name = httpx.URL(url).raw_host.decode("ascii")  # what delivery resolves (IDNA-encoded)
    except (ValueError, httpx.InvalidURL) as exc:
        raise WebhookRefused(f"webhook.url: not a valid URL ({str(exc)[:200]})") from None
    if not set(name) <= _HOST_CHARS:
        raise WebhookRefused("webhook.url: the host may hold only letters, digits, '.', '-', '_' (or be an IP address)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("webhook.url: must be an http:// or https:// URL with a host")
    try:
        literal = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return
    if not allow_private:
        _check_address(parts.hostname, literal)


class WebhookBlocked(WebhookRefused):
    """The webhook host resolves to an address the SSRF rules refuse (not retried)."""


def _check_address(host: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    checked = mapped or address  # ::ffff:127.0.0.1 is loopback
    if not checked.is_global or checked.is_multicast:
        raise WebhookBlocked(
            f"webhook.url: '{host[:100]}' resolves to a non-public address ({address}); "
            "private, loopback and link-local targets are refused (TTS_WEBHOOK_ALLOW_PRIVATE=true allows them)"
        )


@dataclass(frozen=True)
class Target:
    """A webhook URL pinned to the address that was checked: connect to `url`, send `host` and, for https, use
    the name for SNI and certificate checks, so no second DNS lookup can swap the address (DNS rebinding)."""

    url: httpx.URL
    host: str
    """The Host header: the name (IDNA) and port of the webhook URL."""
    sni: str | None


def resolve_checked(url: str, allow_private: bool) -> Target:
    """Resolve the webhook's host once, check every address (unless private targets are allowed) and pin the first.

    Raises:
        WebhookRefused: the host does not resolve; WebhookBlocked: it resolves to a refused address.
    """
    parsed = httpx.URL(url)
    name = parsed.raw_host.decode("ascii")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise WebhookRefused(f"webhook.url: cannot resolve host '{parsed.host[:100]}'") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not allow_private:
        for address in addresses:
            _check_address(parsed.host, address)
    pinned = parsed.copy_with(host=str(addresses[0]))
    return Target(pinned, parsed.netloc.decode("ascii"), name if parsed.scheme == "https" else None)


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
        """POST the event until a 2xx answer, a refused address or the attempts run out; True when delivered.

        Each attempt resolves the host and checks the addresses (`resolve_checked`), then connects to the checked
        address; the outcome is stored on the job (`webhook_delivered`)."""
        body = json.dumps(event(job), separators=(",", ":")).encode()
        delay = self.settings.webhook_backoff_s
        delivered, record = False, dict[str, Any]()
        for attempt in range(1, self.settings.webhook_max_attempts + 1):
            record, delivered, final = await self._attempt(job, body, attempt)
            last = delivered or final or attempt == self.settings.webhook_max_attempts
            await self._record(store, job.id, record, delivered if last else None)
            if last:
                break
            await asyncio.sleep(delay)
            delay *= 2
        if not delivered:
            log.warning("job %s: webhook not delivered: %s", job.id, record.get("error") or record.get("status"))
        return delivered

    async def _attempt(self, job: JobRecord, body: bytes, attempt: int) -> tuple[dict[str, Any], bool, bool]:
        """One POST: (the attempt's record, delivered, final: the address is refused, no retry helps)."""
        secret = job.webhook_secret or self.settings.webhook_secret or ""
        record: dict[str, Any] = {"attempt": attempt, "at": round(time.time(), 3)}
        try:
            target = await asyncio.to_thread(
                resolve_checked, job.webhook_url or "", self.settings.webhook_allow_private
            )
            async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_s, follow_redirects=False) as client:
                response = await client.post(
                    target.url,
                    content=body,
                    headers={
                        "host": target.host,
                        "content-type": "application/json",
                        SIGNATURE_HEADER: sign(secret, body),
                        "user-agent": "tts-predictor-webhook",
                    },
                    extensions={"sni_hostname": target.sni} if target.sni else {},
                )
        except (httpx.HTTPError, WebhookRefused, OSError) as exc:
            record["error"] = f"{type(exc).__name__}: {str(getattr(exc, 'reason', exc))[:200]}"
            return record, False, isinstance(exc, WebhookBlocked)
        record["status"] = response.status_code
        return record, 200 <= response.status_code < 300, False

    @staticmethod
    async def _record(store: Any, job_id: str, record: dict[str, Any], delivered: bool | None) -> None:
        current = await asyncio.to_thread(store.get, job_id)
        if current is not None:
            current.webhook_attempts.append(record)
            current.webhook_delivered = delivered
            await asyncio.to_thread(store.save, current)
