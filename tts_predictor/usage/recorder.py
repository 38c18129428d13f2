"""The usage recorder: per-request counts summed in memory per hour row and written to the store by a background
thread (every TTS_USAGE_FLUSH_S and at shutdown), never on the request's path; and the recent request ids that
quality feedback may name."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from tts_predictor import metrics
from tts_predictor.usage.records import DAY, HOUR, UsageCounts, UsageKey, UsageStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecentRequest:
    """What feedback on a synthesis is stored with (the request text only when allowed)."""

    key: str
    route: str
    voice: str
    format: str
    characters: int
    text_sha256: str
    text_chars: int
    text: str | None


class RecentRequests:
    """The last `size` successful syntheses by request id (an LRU in memory: feedback names one of them)."""

    def __init__(self, size: int, keep_text: bool):
        self.size, self.keep_text = size, keep_text
        self._items: OrderedDict[str, RecentRequest] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, request_id: str, tally: metrics.Tally, key: str, characters: int) -> None:
        """Remember a finished synthesis (its first item's voice and format; its normalized text's hash)."""
        if not self.size or not tally.noted:
            return
        _, voice, fmt = tally.noted[0]
        digest = hashlib.sha256(tally.text.encode("utf-8", "surrogatepass")).hexdigest()
        text = tally.text if self.keep_text else None
        item = RecentRequest(key, tally.route, voice, fmt, characters, digest, len(tally.text), text)
        with self._lock:
            self._items[request_id] = item
            self._items.move_to_end(request_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, request_id: str) -> RecentRequest | None:
        """The remembered request, or None (unknown, or older than the last `size`)."""
        with self._lock:
            return self._items.get(request_id)


class UsageRecorder:
    """Sums requests per `UsageKey` in memory (at most `MAX_PENDING` rows; beyond, new rows are dropped and counted
    in tts_usage_dropped_total) and writes them to `store` from one background thread."""

    MAX_PENDING = 20_000

    def __init__(self, store: UsageStore, flush_s: float, retention_days: int, recent: RecentRequests):
        self.store, self.flush_s, self.retention_s = store, flush_s, retention_days * DAY
        self.recent = recent
        self._pending: dict[UsageKey, UsageCounts] = {}
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._purged_at = 0.0

    def record(self, tally: metrics.Tally, key: str, status: str, characters: int, audio_s: float, latency_s: float):
        """Count one finished request (its first synthesis's voice and format; '-' when it noted none)."""
        _, voice, fmt = tally.noted[0] if tally.noted else ("-", "-", "-")
        now = time.time()
        row = UsageKey(int(now) - int(now) % HOUR, key, tally.route, voice, fmt)
        counts = UsageCounts.one(status.startswith(("4", "5")), characters, audio_s, latency_s, tally.cache_hits)
        with self._lock:
            if row in self._pending:
                self._pending[row].add(counts)
            elif len(self._pending) < self.MAX_PENDING:
                self._pending[row] = counts
            else:
                metrics.USAGE_DROPPED.inc()
            full = len(self._pending) >= self.MAX_PENDING // 2
        if full:
            self._wake.set()

    def flush(self) -> None:
        """Write the pending rows (and purge rows past the retention, at most once an hour). Store errors are
        logged and the rows kept for the next try, up to the memory bound."""
        with self._flush_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            try:
                if pending:
                    self.store.add(pending)
                if time.time() - self._purged_at > HOUR:
                    self.store.purge(time.time() - self.retention_s)
                    self._purged_at = time.time()
            except Exception:
                log.exception("usage: writing %d rows to the store failed; kept for the next flush", len(pending))
                self._restore(pending)

    def _restore(self, pending: dict[UsageKey, UsageCounts]) -> None:
        with self._lock:
            for row, counts in pending.items():
                if row in self._pending:
                    self._pending[row].add(counts)
                elif len(self._pending) < self.MAX_PENDING:
                    self._pending[row] = counts
                else:
                    metrics.USAGE_DROPPED.inc(counts.requests)

    def start(self) -> None:
        """Start the flushing thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tts-usage", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and write what is pending (the app's shutdown)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            self.flush()
