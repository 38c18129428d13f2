"""Usage analytics and quality feedback: hourly usage per API key (hashed), route, voice and format, and ratings
of recent syntheses, kept in the same kind of store as the jobs (SQLite in TTS_JOBS_DIR, Redis with TTS_REDIS_URL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tts_predictor.usage.recorder import RecentRequests, UsageRecorder
from tts_predictor.usage.records import UsageStore

if TYPE_CHECKING:
    from tts_predictor.settings import Settings


def make_usage_store(settings: Settings) -> UsageStore:
    """Redis when TTS_REDIS_URL is set (replicas add to the same counters), else SQLite in TTS_JOBS_DIR."""
    if settings.redis_url:
        from tts_predictor.usage.redis import RedisUsageStore

        return RedisUsageStore(settings.redis_url)
    from tts_predictor.usage.sqlite import SqliteUsageStore

    return SqliteUsageStore(settings.jobs_dir)


def open_usage(settings: Settings) -> UsageRecorder | None:
    """The process's usage recorder (with its store and the recent request ids), or None with TTS_USAGE=off."""
    if settings.usage != "on":
        return None
    recent = RecentRequests(settings.feedback_recent_requests, settings.feedback_store_text)
    return UsageRecorder(make_usage_store(settings), settings.usage_flush_s, settings.usage_retention_days, recent)


__all__ = ["RecentRequests", "UsageRecorder", "UsageStore", "make_usage_store", "open_usage"]
