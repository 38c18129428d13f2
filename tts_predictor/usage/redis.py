"""Redis usage store: a hash per usage row (HINCRBY / HINCRBYFLOAT, so replicas add to the same counters), a
sorted set of row keys by hour, and feedback in a sorted set ordered by rating then age."""

from __future__ import annotations

import json
from typing import Any

from tts_predictor.usage.records import BUCKETS, FeedbackRecord, UsageCounts, UsageKey

PREFIX = "tts:usage:"
INDEX = PREFIX + "rows"
FEEDBACK = PREFIX + "feedback"
_INTS = ("requests", "errors", "characters", "cache_hits")
_FLOATS = ("audio_seconds", "latency_sum_s")


def _row_key(key: UsageKey) -> str:
    # JSON keeps any character of a voice label unambiguous (no separator to escape)
    return PREFIX + "row:" + json.dumps([key.hour, key.key, key.route, key.voice, key.format])


class RedisUsageStore:
    """`UsageStore` on Redis (TTS_REDIS_URL), shared by every replica."""

    def __init__(self, url: str):
        import redis

        self._redis: Any = redis.Redis.from_url(url)

    def add(self, deltas: dict[UsageKey, UsageCounts]) -> None:
        """Increment every row's fields in one pipeline."""
        pipe = self._redis.pipeline(transaction=False)
        for key, counts in deltas.items():
            name = _row_key(key)
            for f in _INTS:
                pipe.hincrby(name, f, getattr(counts, f))
            for f in _FLOATS:
                pipe.hincrbyfloat(name, f, getattr(counts, f))
            for i, n in enumerate(counts.latency_buckets):
                if n:
                    pipe.hincrby(name, f"h{i}", n)
            pipe.zadd(INDEX, {name: key.hour})
        pipe.execute()

    def rows(self, start_hour: int, end_hour: int) -> list[tuple[UsageKey, UsageCounts]]:
        """Rows with `start_hour <= hour < end_hour`."""
        names = self._redis.zrangebyscore(INDEX, start_hour, f"({end_hour}")
        out = []
        for name, fields in zip(names, self._fields(names), strict=True):
            key = UsageKey(*json.loads(name.decode()[len(PREFIX + "row:") :]))
            get = {k.decode(): v.decode() for k, v in fields.items()}
            counts = UsageCounts(
                int(get.get("requests", 0)),
                int(get.get("errors", 0)),
                int(get.get("characters", 0)),
                float(get.get("audio_seconds", 0)),
                float(get.get("latency_sum_s", 0)),
                int(get.get("cache_hits", 0)),
                [int(get.get(f"h{i}", 0)) for i in range(BUCKETS)],
            )
            out.append((key, counts))
        return out

    def _fields(self, names: list[bytes]) -> list[dict[bytes, bytes]]:
        pipe = self._redis.pipeline(transaction=False)
        for name in names:
            pipe.hgetall(name)
        return list(pipe.execute())

    def purge(self, before: float) -> None:
        """Delete rows of hours before `before`, and older feedback."""
        old = self._redis.zrangebyscore(INDEX, "-inf", f"({int(before)}")
        if old:
            self._redis.delete(*old)
            self._redis.zrem(INDEX, *old)
        for doc in self._redis.zrange(FEEDBACK, 0, -1):
            if json.loads(doc)["created_at"] < before:
                self._redis.zrem(FEEDBACK, doc)

    def add_feedback(self, record: FeedbackRecord) -> None:
        """Score: rating first, then newer first (rating * 1e10 - created_at)."""
        self._redis.zadd(FEEDBACK, {json.dumps(record.to_json()): record.rating * 1e10 - record.created_at})

    def feedback(self, limit: int) -> list[FeedbackRecord]:
        """Lowest rating first, then newest first."""
        return [FeedbackRecord(**json.loads(doc)) for doc in self._redis.zrange(FEEDBACK, 0, limit - 1)]
