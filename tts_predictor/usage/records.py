"""Usage records: the hour bucket key, its counts with a fixed latency histogram, grouping by day, CSV; and the
store contract (SQLite and Redis implement it)."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

LATENCY_EDGES = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Upper bounds (seconds) of the latency histogram's buckets; a last bucket holds everything slower."""
BUCKETS = len(LATENCY_EDGES) + 1
HOUR = 3600
DAY = 86_400


@dataclass(frozen=True)
class UsageKey:
    """One usage row: an hour, a caller and what it asked for."""

    hour: int
    """Start of the hour, in Unix seconds (UTC)."""
    key: str
    """The caller's owner id (a hash of its API key, `auth.owner_of`), 'anonymous' without keys, 'invalid-key'."""
    route: str
    """`metrics.ROUTES`."""
    voice: str
    """The voice label of tts_requests_total (the first item's, for a batch)."""
    format: str
    """The output format ('-' when the request failed before it was known)."""


@dataclass
class UsageCounts:
    """What the requests of one `UsageKey` added up to."""

    requests: int = 0
    errors: int = 0
    characters: int = 0
    audio_seconds: float = 0.0
    latency_sum_s: float = 0.0
    cache_hits: int = 0
    latency_buckets: list[int] = field(default_factory=lambda: [0] * BUCKETS)

    def add(self, other: UsageCounts) -> None:
        """Add `other`'s counts into these."""
        self.requests += other.requests
        self.errors += other.errors
        self.characters += other.characters
        self.audio_seconds += other.audio_seconds
        self.latency_sum_s += other.latency_sum_s
        self.cache_hits += other.cache_hits
        self.latency_buckets = [a + b for a, b in zip(self.latency_buckets, other.latency_buckets, strict=True)]

    @classmethod
    def one(cls, error: bool, characters: int, audio_s: float, latency_s: float, cache_hits: int) -> UsageCounts:
        """The counts of one request."""
        buckets = [0] * BUCKETS
        buckets[next((i for i, edge in enumerate(LATENCY_EDGES) if latency_s <= edge), BUCKETS - 1)] = 1
        return cls(1, int(error), characters, audio_s, latency_s, cache_hits, buckets)


def quantile(buckets: list[int], q: float) -> float | None:
    """The upper bound of the histogram bucket holding the `q` quantile (None when empty; the last bucket reads as
    its lower bound, the largest edge)."""
    total = sum(buckets)
    if not total:
        return None
    seen = 0
    for i, count in enumerate(buckets):
        seen += count
        if seen >= q * total:
            return LATENCY_EDGES[min(i, len(LATENCY_EDGES) - 1)]
    return LATENCY_EDGES[-1]


def grouped(rows: list[tuple[UsageKey, UsageCounts]], group: str) -> list[dict[str, Any]]:
    """Rows summed per period ('hour' or 'day', computed from the hours) x key x route x voice x format, as JSON."""
    span = DAY if group == "day" else HOUR
    sums: dict[UsageKey, UsageCounts] = {}
    for key, counts in rows:
        period = UsageKey(key.hour - key.hour % span, key.key, key.route, key.voice, key.format)
        sums.setdefault(period, UsageCounts()).add(counts)
    return [_row(k, c) for k, c in sorted(sums.items(), key=lambda kc: (kc[0].hour, kc[0].key, kc[0].route))]


def _row(key: UsageKey, counts: UsageCounts) -> dict[str, Any]:
    n = counts.requests or 1
    return {
        "period": key.hour,
        "key": key.key,
        "route": key.route,
        "voice": key.voice,
        "format": key.format,
        "requests": counts.requests,
        "errors": counts.errors,
        "error_rate": round(counts.errors / n, 4),
        "characters": counts.characters,
        "audio_seconds": round(counts.audio_seconds, 3),
        "cache_hits": counts.cache_hits,
        "latency_mean_s": round(counts.latency_sum_s / n, 4),
        "latency_p50_s": quantile(counts.latency_buckets, 0.5),
        "latency_p95_s": quantile(counts.latency_buckets, 0.95),
        "latency_buckets": counts.latency_buckets,
    }


CSV_COLUMNS = (
    "period",
    "key",
    "route",
    "voice",
    "format",
    "requests",
    "errors",
    "error_rate",
    "characters",
    "audio_seconds",
    "cache_hits",
    "latency_mean_s",
    "latency_p50_s",
    "latency_p95_s",
)


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The grouped rows as CSV with a header line (the histogram itself stays in the JSON)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@dataclass(frozen=True)
class FeedbackRecord:
    """One rating of a synthesis (POST /v1/feedback), with what the server remembered of that request."""

    request_id: str
    created_at: float
    key: str
    """Owner id of the caller who rated."""
    rating: int
    tags: list[dict[str, Any]]
    comment: str
    route: str
    voice: str
    format: str
    text_sha256: str
    """SHA-256 of the request's normalized text (compare ratings of the same text without storing it)."""
    text_chars: int
    text: str | None
    """The normalized text, only with TTS_FEEDBACK_STORE_TEXT=true."""

    def to_json(self) -> dict[str, Any]:
        """As a JSON object."""
        return asdict(self)


class UsageStore(Protocol):
    """Durable usage rows and feedback, shared by the replicas that share the store."""

    def add(self, deltas: dict[UsageKey, UsageCounts]) -> None:
        """Add the counts to the stored rows (creating those that do not exist)."""

    def rows(self, start_hour: int, end_hour: int) -> list[tuple[UsageKey, UsageCounts]]:
        """The rows of the hours from `start_hour` up to, not including, `end_hour`."""

    def purge(self, before: float) -> None:
        """Delete usage hours and feedback older than `before` (Unix seconds)."""

    def add_feedback(self, record: FeedbackRecord) -> None:
        """Store one feedback record."""

    def feedback(self, limit: int) -> list[FeedbackRecord]:
        """At most `limit` feedback records, lowest rating first, then newest first."""
