"""Job lifecycle events as CloudEvents 1.0 (JSON structured mode), kept in the job store's outbox and published to
NATS by a background task: at-least-once, in order per job, and a broker outage loses nothing (docs/events.md).

The store writes an event in the same transaction as the state change it reports (`JobStore.save` and friends call
`transition`), so no state change is ever without its event and no event without its state; `EventPublisher`
drains the outbox oldest first, marks events delivered only once the broker acknowledged them, and retries with a
doubling backoff while the broker is down. The service never waits for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from tts_predictor.errors import require_extra
from tts_predictor.jobs.records import CANCELLED, COMPLETED, FAILED, QUEUED, RUNNING, JobRecord

log = logging.getLogger(__name__)

EVENTS = ("queued", "started", "progress", "completed", "failed", "cancelled")
"""The lifecycle events; each is published on `<prefix>.<event>` with CloudEvent type `tts.job.<event>`."""
_BY_STATE = {QUEUED: "queued", RUNNING: "started", COMPLETED: "completed", FAILED: "failed", CANCELLED: "cancelled"}


def transition(before: str | None, after: str) -> str | None:
    """The event a state change reports: a new state names it, a running job saved again is progress, anything
    else (a finished job's webhook bookkeeping) none. `before` is the stored record's state (None: a new job)."""
    if before != after:
        return _BY_STATE.get(after)
    return "progress" if after == RUNNING else None


def cloud_event(job: JobRecord, event: str, sequence: int, source: str) -> str:
    """One event as a CloudEvents 1.0 JSON document (structured mode).

    `sequence` counts this job's events from 1 (the CloudEvents sequence extension: a string, compared as an
    integer, `sequencetype` Integer); `id` is unique, so consumers deduplicate redeliveries by it."""
    data = job.public()
    data.pop("webhook", None)  # the owner's endpoint is not the broker's business
    envelope: dict[str, Any] = {
        "specversion": "1.0",
        "id": uuid.uuid4().hex,
        "source": source,
        "type": f"tts.job.{event}",
        "subject": job.id,
        "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "datacontenttype": "application/json",
        "sequence": str(sequence),
        "sequencetype": "Integer",
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"))


class Outbox(Protocol):
    """What the publisher needs from a job store with events on."""

    def pending_events(self, limit: int) -> list[tuple[int, str, str]]:
        """The oldest undelivered events: (outbox position, event name, CloudEvent JSON)."""

    def mark_delivered(self, positions: Sequence[int]) -> None:
        """Drop delivered events from the outbox."""


class EventPublisher:
    """Drains the outbox to NATS (core NATS with a flush, or JetStream with a publish ack when `stream` is set)."""

    def __init__(self, outbox: Outbox, url: str, prefix: str, stream: str | None, backoff_max_s: float = 30.0):
        require_extra("nats", "events", "TTS_EVENTS_NATS_URL")  # at start, not in the publish loop
        self.outbox, self.url, self.prefix, self.stream = outbox, url, prefix, stream
        self.backoff_max_s = backoff_max_s
        self.wake = asyncio.Event()
        self._nc: Any = None
        self._js: Any = None

    async def run_forever(self, poll_s: float = 1.0) -> None:
        """Publish until cancelled; errors (broker down, a refused publish) back off and retry the same events."""
        delay = 0.25
        while True:
            try:
                sent = await self.publish_pending()
                delay = 0.25
                if sent:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("job events: publishing to %s failed (%s); retrying in %.1f s", self.url, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), poll_s)
            except TimeoutError:
                pass

    async def publish_pending(self, limit: int = 100) -> int:
        """Publish one batch of pending events in order and mark it delivered; how many were published."""
        pending = await asyncio.to_thread(self.outbox.pending_events, limit)
        if not pending:
            return 0
        await self._connect()
        for _, event, body in pending:
            subject = f"{self.prefix}.{event}"
            if self._js is not None:  # the stream stores it before it acks; Nats-Msg-Id drops a resend's duplicate
                await self._js.publish(subject, body.encode(), headers={"Nats-Msg-Id": json.loads(body)["id"]})
            else:
                await self._nc.publish(subject, body.encode())
        if self._js is None:
            await self._nc.flush(timeout=5)  # the server has read everything published before this PING
        await asyncio.to_thread(self.outbox.mark_delivered, [p for p, _, _ in pending])
        return len(pending)

    async def _connect(self) -> None:
        """Connect once (nats-py reconnects by itself after that); with a stream, make sure it exists."""
        if self._nc is not None and self._nc.is_connected:
            return
        if self._nc is None:
            import nats  # optional: pip install 'tts-predictor[events]'

            self._nc = await nats.connect(
                self.url, name="tts-predictor", max_reconnect_attempts=-1, reconnect_time_wait=0.5, connect_timeout=2
            )
            log.info("job events: connected to %s", self.url)
        if not self._nc.is_connected:
            raise ConnectionError("not connected (reconnecting)")
        if self.stream and self._js is None:
            js = self._nc.jetstream()
            await js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"])
            self._js = js

    async def close(self) -> None:
        """Close the connection (pending events stay in the outbox)."""
        if self._nc is not None:
            await self._nc.close()
