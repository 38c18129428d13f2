"""SQLite usage store: one file beside the jobs database in TTS_JOBS_DIR (WAL mode), for a single replica."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from tts_predictor.usage.records import BUCKETS, FeedbackRecord, UsageCounts, UsageKey

_HIST = [f"h{i}" for i in range(BUCKETS)]
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS usage (
  hour INTEGER NOT NULL, key TEXT NOT NULL, route TEXT NOT NULL, voice TEXT NOT NULL, format TEXT NOT NULL,
  requests INTEGER NOT NULL, errors INTEGER NOT NULL, characters INTEGER NOT NULL, audio_seconds REAL NOT NULL,
  latency_sum_s REAL NOT NULL, cache_hits INTEGER NOT NULL, {", ".join(f"{h} INTEGER NOT NULL" for h in _HIST)},
  PRIMARY KEY (hour, key, route, voice, format));
CREATE TABLE IF NOT EXISTS feedback (
  request_id TEXT NOT NULL, created_at REAL NOT NULL, key TEXT NOT NULL, rating INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_rating ON feedback(rating, created_at);
"""
_SUMS = ("requests", "errors", "characters", "audio_seconds", "latency_sum_s", "cache_hits", *_HIST)
_UPSERT = (
    f"INSERT INTO usage VALUES ({', '.join('?' * (5 + len(_SUMS)))}) "
    "ON CONFLICT (hour, key, route, voice, format) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in _SUMS)
)


class SqliteUsageStore:
    """`UsageStore` on `usage.sqlite3` in the jobs directory; a lock serializes this process's connection."""

    def __init__(self, directory: str):
        Path(directory).mkdir(parents=True, exist_ok=True)
        self.path = str(Path(directory) / "usage.sqlite3")
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def add(self, deltas: dict[UsageKey, UsageCounts]) -> None:
        """Upsert every row in one transaction."""
        values = [
            (
                k.hour,
                k.key,
                k.route,
                k.voice,
                k.format,
                c.requests,
                c.errors,
                c.characters,
                c.audio_seconds,
                c.latency_sum_s,
                c.cache_hits,
                *c.latency_buckets,
            )
            for k, c in deltas.items()
        ]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(_UPSERT, values)
            self._db.execute("COMMIT")

    def rows(self, start_hour: int, end_hour: int) -> list[tuple[UsageKey, UsageCounts]]:
        """Rows with `start_hour <= hour < end_hour`."""
        found = self._run("SELECT * FROM usage WHERE hour >= ? AND hour < ?", (start_hour, end_hour))
        return [
            (UsageKey(*r[:5]), UsageCounts(r[5], r[6], r[7], r[8], r[9], r[10], list(r[11 : 11 + BUCKETS])))
            for r in found
        ]

    def purge(self, before: float) -> None:
        """Delete hours starting before `before` and older feedback."""
        self._run("DELETE FROM usage WHERE hour < ?", (int(before),))
        self._run("DELETE FROM feedback WHERE created_at < ?", (before,))

    def add_feedback(self, record: FeedbackRecord) -> None:
        """Insert one record (the whole record as JSON; the sort columns beside it)."""
        self._run(
            "INSERT INTO feedback VALUES (?,?,?,?,?)",
            (record.request_id, record.created_at, record.key, record.rating, json.dumps(record.to_json())),
        )

    def feedback(self, limit: int) -> list[FeedbackRecord]:
        """Lowest rating first, then newest first."""
        found = self._run("SELECT doc FROM feedback ORDER BY rating ASC, created_at DESC LIMIT ?", (limit,))
        return [FeedbackRecord(**json.loads(r[0])) for r in found]
