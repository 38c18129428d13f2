"""The SQLite job store's event outbox: each state change writes its CloudEvent in the same transaction, numbered
per job; nothing is written with events off; delivered events leave the outbox."""

from __future__ import annotations

import json
import time

import pytest
from pydantic import ValidationError

from tts_predictor.jobs.events import transition
from tts_predictor.jobs.records import CANCELLED, COMPLETED, QUEUED, RUNNING, JobRecord
from tts_predictor.jobs.store import make_store
from tts_predictor.jobs.store.sqlite import SqliteJobStore
from tts_predictor.settings import Settings


def record(job_id: str = "j1") -> JobRecord:
    return JobRecord(id=job_id, owner="o", params={"format": "wav"}, source_kind="text", chars_total=10)


def bodies(store: SqliteJobStore) -> list[dict]:
    return [json.loads(body) for _, _, body in store.pending_events(100)]


def test_transitions():
    assert transition(None, QUEUED) == "queued"
    assert transition(QUEUED, RUNNING) == "started"
    assert transition(RUNNING, RUNNING) == "progress"
    assert transition(RUNNING, COMPLETED) == "completed"
    assert transition(RUNNING, CANCELLED) == "cancelled"
    assert transition(COMPLETED, COMPLETED) is None  # a finished job's webhook bookkeeping


def test_lifecycle_goes_to_the_outbox_in_order(tmp_path):
    store = SqliteJobStore(str(tmp_path), event_source="/unit")
    job = record()
    store.create(job, "[]")
    claimed = store.claim("w", time.time(), 30)
    assert claimed is not None
    claimed.state = RUNNING
    assert store.save(claimed, "w")
    claimed.chars_done = 5
    assert store.save(claimed, "w")
    assert not store.save(claimed, "someone-else")  # not written: no event either
    claimed.state = COMPLETED
    assert store.save(claimed, "w")
    store.save(claimed)  # webhook bookkeeping on a finished job: no event
    events = bodies(store)
    assert [e["type"] for e in events] == ["tts.job." + t for t in ("queued", "started", "progress", "completed")]
    assert [e["sequence"] for e in events] == ["1", "2", "3", "4"]
    assert len({e["id"] for e in events}) == 4
    assert events[2]["data"]["progress"]["chars_done"] == 5 and events[0]["source"] == "/unit"
    positions = [p for p, _, _ in store.pending_events(2)]
    store.mark_delivered(positions)
    assert [e["sequence"] for e in bodies(store)] == ["3", "4"]


def test_retry_and_cancel_events(tmp_path):
    store = SqliteJobStore(str(tmp_path), event_source="/unit")
    store.create(record(), "[]")
    job = store.claim("w", time.time(), 30)
    assert job is not None
    job.state = RUNNING
    store.save(job, "w")
    job.state = QUEUED
    assert store.defer(job, "w", time.time())
    job.state = CANCELLED
    store.save(job)  # the API's cancel
    assert [e["type"].split(".")[-1] for e in bodies(store)] == ["queued", "started", "queued", "cancelled"]


def test_no_outbox_rows_with_events_off(tmp_path):
    store = SqliteJobStore(str(tmp_path))
    store.create(record(), "[]")
    assert store.pending_events(10) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TTS_EVENTS_SUBJECT_PREFIX", "tts.>"),
        ("TTS_EVENTS_SUBJECT_PREFIX", "tts..jobs"),
        ("TTS_EVENTS_SUBJECT_PREFIX", "tts jobs"),
        ("TTS_EVENTS_SUBJECT_PREFIX", "a" * 33),
        ("TTS_EVENTS_NATS_STREAM", "jobs.stream"),
        ("TTS_EVENTS_NATS_STREAM", "*"),
        ("TTS_EVENTS_SOURCE", ""),
    ],
)
def test_bad_event_settings_are_refused_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as err:
        Settings()
    assert name.removeprefix("TTS_").lower() in str(err.value)


def test_events_with_the_redis_store_are_refused_at_start():
    settings = Settings(redis_url="redis://127.0.0.1:1/0", events_nats_url="nats://127.0.0.1:4222")
    with pytest.raises(ValueError, match="TTS_EVENTS_NATS_URL"):
        make_store(settings)
