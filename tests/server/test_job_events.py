"""Job lifecycle events reach a real nats-server as CloudEvents, and none is lost when the broker is stopped in the
middle of a job and started again: the job store's outbox keeps them until the broker acknowledges them.

The ground is the broker's own stream (JetStream, stored on disk), read back after the job with nats-py: every
event of the job arrives (deduplicated by CloudEvent id), numbered 1..N without a gap, in order, with the lifecycle
queued -> started -> progress... -> completed."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from jobs_helpers import long_text, wait_job
from nats_broker import NatsBroker
from server_process import ServerProcess

nats = pytest.importorskip("nats", reason="pip install '.[events]' (nats-py)")
pytest.importorskip("nats.js.errors")
pytestmark = pytest.mark.slow
STREAM, PREFIX = "TTS_JOBS", "tts.jobs"


async def stream_events(url: str, job_id: str) -> list[dict]:
    """Every event of `job_id` in the stream, in stream order (an ordered consumer from the first message)."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    try:
        info = await js.stream_info(STREAM)
    except nats.js.errors.NotFoundError:  # the publisher has not reconnected and created it yet
        await nc.close()
        return []
    out: list[dict] = []
    sub = await js.subscribe(f"{PREFIX}.>", ordered_consumer=True)
    for _ in range(info.state.messages):
        msg = await sub.next_msg(timeout=10)
        event = json.loads(msg.data)
        event["_subject"] = msg.subject
        if event["subject"] == job_id:
            out.append(event)
    await nc.close()
    return out


def test_no_event_is_lost_when_the_broker_stops_mid_job(tmp_path):
    broker = NatsBroker(tmp_path / "nats").start()
    env = {
        "TTS_JOBS_DIR": str(tmp_path / "jobs"),
        "TTS_EVENTS_NATS_URL": broker.url,
        "TTS_EVENTS_NATS_STREAM": STREAM,
        "TTS_EVENTS_SOURCE": "/tests/job-events",
    }
    server = ServerProcess(env=env).start()
    try:
        body = {"text": long_text(2500), "options": {"format": "wav"}}
        response = httpx.post(f"{server.url}/v1/jobs", json=body, timeout=60)
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        at_stop = wait_job(server.url, job_id, until=lambda j: j["progress"]["sentences_done"] >= 2, timeout_s=120)
        broker.stop()
        assert at_stop["state"] == "running"
        # the job goes on without the broker, and the service keeps serving
        during = wait_job(server.url, job_id, until=lambda j: j["progress"]["sentences_done"] >= 8, timeout_s=120)
        assert httpx.get(f"{server.url}/v1/jobs/{job_id}", timeout=30).status_code == 200
        broker.start()
        final = wait_job(server.url, job_id, timeout_s=240)
        assert final["state"] == "completed"
        expected_last = final["progress"]["sentences_total"]
        events = wait_for_events(broker.url, job_id)
    finally:
        server.stop()
        broker.stop()
    unique = {e["id"]: e for e in events}
    ordered = sorted(unique.values(), key=lambda e: int(e["sequence"]))
    sequences = [int(e["sequence"]) for e in ordered]
    assert sequences == list(range(1, len(ordered) + 1)), "an event is missing"
    first_seen = [int(e["sequence"]) for e in dict((e["id"], e) for e in reversed(events)).values()]
    assert first_seen == sorted(first_seen, reverse=True)  # stream order is sequence order
    kinds = [e["type"] for e in ordered]
    assert kinds[0] == "tts.job.queued" and kinds[1] == "tts.job.started" and kinds[-1] == "tts.job.completed"
    assert set(kinds[2:-1]) == {"tts.job.progress"}
    # progress events while the broker was down are there too: every sentence count from start to end
    done = [e["data"]["progress"]["sentences_done"] for e in ordered if e["type"] == "tts.job.progress"]
    assert set(range(at_stop["progress"]["sentences_done"], during["progress"]["sentences_done"] + 1)) <= set(done)
    assert max(done) == expected_last
    for e in ordered:
        assert e["specversion"] == "1.0" and e["source"] == "/tests/job-events" and e["subject"] == job_id
        assert e["datacontenttype"] == "application/json" and e["time"].endswith("Z")
        assert e["_subject"] == f"{PREFIX}.{e['type'].removeprefix('tts.job.')}"


def wait_for_events(url: str, job_id: str, timeout_s: float = 60.0) -> list[dict]:
    """The job's events in the stream once its completed event is there (the publisher retries with backoff)."""
    deadline = time.monotonic() + timeout_s
    while True:
        events = asyncio.run(stream_events(url, job_id))
        if any(e["type"] == "tts.job.completed" for e in events):
            return events
        if time.monotonic() > deadline:
            raise TimeoutError(f"no completed event in {timeout_s} s; got {[e['type'] for e in events]}")
        time.sleep(0.5)


def test_jobs_run_without_a_broker_and_their_events_follow_once_it_starts(tmp_path):
    broker = NatsBroker(tmp_path / "nats")  # its port is chosen, nothing listens there yet
    env = {"TTS_JOBS_DIR": str(tmp_path / "jobs"), "TTS_EVENTS_NATS_URL": broker.url, "TTS_EVENTS_NATS_STREAM": STREAM}
    server = ServerProcess(env=env).start()
    try:
        response = httpx.post(f"{server.url}/v1/jobs", json={"text": long_text(300)}, timeout=60)
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        assert wait_job(server.url, job_id, timeout_s=120)["state"] == "completed"
        health = httpx.post(f"{server.url}/v1/audio/speech", json={"model": "tts-1", "input": "Hi.", "voice": "alloy"})
        assert health.status_code == 200  # the service serves with the broker down
        broker.start()
        events = wait_for_events(broker.url, job_id)
    finally:
        server.stop()
        broker.stop()
    sequences = sorted({int(e["sequence"]) for e in events})
    assert sequences == list(range(1, len(sequences) + 1))
    assert events[0]["type"] == "tts.job.queued" and events[-1]["type"] == "tts.job.completed"
