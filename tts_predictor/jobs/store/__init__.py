"""Job stores: the store protocol and its SQLite and Redis backends."""

from __future__ import annotations

from typing import Any

from tts_predictor.jobs.store.base import JobStore


def make_store(settings: Any) -> JobStore:
    """Redis when TTS_REDIS_URL is set (replicas share the queue), else SQLite in TTS_JOBS_DIR."""
    if settings.redis_url:
        from tts_predictor.jobs.store.redis import RedisJobStore

        return RedisJobStore(settings.redis_url)
    from tts_predictor.jobs.store.sqlite import SqliteJobStore

    return SqliteJobStore(settings.jobs_dir)
