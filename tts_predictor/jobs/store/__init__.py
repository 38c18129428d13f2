"""Job stores: the store protocol and its SQLite and Redis backends."""

from __future__ import annotations

from typing import Any

from tts_predictor.jobs.store.base import JobStore


def make_store(settings: Any) -> JobStore:
    """Redis when TTS_REDIS_URL is set (replicas share the queue), else SQLite in TTS_JOBS_DIR (with the job events'
    outbox when TTS_EVENTS_NATS_URL is set; the Redis store has no outbox yet and refuses that setting)."""
    if settings.redis_url:
        if settings.events_nats_url:
            raise ValueError("TTS_EVENTS_NATS_URL needs the SQLite job store: the Redis store has no event outbox yet")
        from tts_predictor.jobs.store.redis import RedisJobStore

        return RedisJobStore(settings.redis_url)
    from tts_predictor.jobs.store.sqlite import SqliteJobStore

    return SqliteJobStore(settings.jobs_dir, settings.events_source if settings.events_nats_url else None)
