"""Jobs over a real server, as a user watches them: progress sentence by sentence with an early ETA, and webhooks
resolved and checked at delivery (an unresolvable host or one resolving to loopback is accepted at submission and
reported on the job; the SSRF rules hold at delivery, and the connection goes to the address that was checked)."""

from __future__ import annotations

import asyncio
import math
import socket
import time

import httpx
import pytest
from jobs_helpers import Receiver, long_text, wait_job
from server_process import ServerProcess

from tts_predictor.jobs import webhooks
from tts_predictor.jobs.records import COMPLETED, JobRecord
from tts_predictor.jobs.store.sqlite import SqliteJobStore
from tts_predictor.settings import Settings

pytestmark = pytest.mark.slow
SECRET = "s3cret-webhook-key-0123"


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """Default chunk size (1,500 characters), private webhook targets refused, two fast delivery attempts."""
    env = {
        "TTS_JOBS_DIR": str(tmp_path_factory.mktemp("jobs")),
        "TTS_WEBHOOK_ALLOW_PRIVATE": "false",
        "TTS_WEBHOOK_BACKOFF_S": "0.1",
        "TTS_WEBHOOK_MAX_ATTEMPTS": "2",
    }
    server = ServerProcess(env=env).start()
    yield server
    server.stop()


def _submit(server: ServerProcess, body: dict) -> dict:
    response = httpx.post(f"{server.url}/v1/jobs", json=body, timeout=60)
    assert response.status_code == 202, response.text
    return response.json()


def _poll_until_finished(server: ServerProcess, job_id: str, timeout_s: float = 300.0) -> list[dict]:
    """Every status seen, polled as fast as the server answers, until the job ends."""
    seen: list[dict] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        seen.append(httpx.get(f"{server.url}/v1/jobs/{job_id}", timeout=30).json())
        if seen[-1]["state"] in ("completed", "failed", "cancelled"):
            return seen
        time.sleep(0.02)
    raise TimeoutError(f"job {job_id} not finished: {seen[-1]}")


def test_progress_moves_per_sentence_with_an_eta_before_a_third(strict_server):
    """Chunks are 1,500 characters: progress counted per chunk would show at most chunks_total + 1 values and
    nothing between 0 and the first chunk (over a third of this job); per sentence it shows many, with an ETA."""
    job = _submit(strict_server, {"text": long_text(3200)})
    assert job["progress"]["sentences_total"] > 15 and job["progress"]["sentences_done"] == 0
    seen = _poll_until_finished(strict_server, job["id"])
    final = seen[-1]["progress"]
    assert seen[-1]["state"] == COMPLETED, seen[-1]
    assert final["sentences_done"] == final["sentences_total"] and final["chars_done"] == final["chars_total"]
    assert 2 <= final["chunks_total"] <= 3
    chars = [s["progress"]["chars_done"] for s in seen]
    assert chars == sorted(chars)  # never goes back
    assert len(set(chars)) > final["chunks_total"] + 1, sorted(set(chars))
    sentences = {s["progress"]["sentences_done"] for s in seen}
    assert len(sentences) > final["chunks_total"] + 1
    early = [
        s["progress"]
        for s in seen
        if s["state"] == "running" and 0 < s["progress"]["chars_done"] < final["chars_total"] / 3
    ]
    assert early, "no status seen in the first third of the job"
    for progress in early:
        assert progress["eta_s"] is not None and math.isfinite(progress["eta_s"]) and progress["eta_s"] > 0, progress
        assert progress["chars_per_s"] > 0 and progress["sentences_done"] >= 1
    assert final["eta_s"] is None and final["chars_per_s"] is None


def test_unresolvable_webhook_host_is_accepted_and_its_failure_reported(strict_server):
    job = _submit(
        strict_server,
        {"text": "A short job.", "webhook": {"url": "https://no-such-host.invalid/hook", "secret": SECRET}},
    )
    assert job["webhook"] == {
        "url": "https://no-such-host.invalid/hook",
        "delivered": None,
        "attempts": [],
        "last_error": None,
    }
    done = wait_job(strict_server.url, job["id"], until=lambda j: j["webhook"]["delivered"] is not None)
    assert done["state"] == COMPLETED and done["audio_url"]
    assert done["webhook"]["delivered"] is False and len(done["webhook"]["attempts"]) == 2  # both attempts tried
    assert "cannot resolve host 'no-such-host.invalid'" in done["webhook"]["last_error"]


@pytest.mark.parametrize("host", ["localhost", "0x7f000001", "2130706433"])
def test_webhook_host_resolving_to_loopback_is_refused_at_delivery(strict_server, host):
    """Names (and the numeric forms getaddrinfo reads as 127.0.0.1) pass submission; the resolved address is
    refused at delivery, once (a refused address is not retried), and the receiver is never called."""
    receiver = Receiver([])
    try:
        url = receiver.url.replace("127.0.0.1", host)
        job = _submit(strict_server, {"text": "A short job.", "webhook": {"url": url, "secret": SECRET}})
        done = wait_job(strict_server.url, job["id"], until=lambda j: j["webhook"]["delivered"] is not None)
    finally:
        receiver.close()
    assert done["state"] == COMPLETED and receiver.calls == []
    assert done["webhook"]["delivered"] is False and len(done["webhook"]["attempts"]) == 1
    assert "non-public address (127.0.0.1)" in done["webhook"]["last_error"]
    assert "TTS_WEBHOOK_ALLOW_PRIVATE" in done["webhook"]["last_error"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:9/hook",
        "http://[::ffff:127.0.0.1]:9/hook",
        "http://10.0.0.1/hook",
        "http://a b/hook",
        "http://[fe80::1%25eth0]/hook",
    ],
)
def test_literal_private_addresses_and_bad_hosts_are_refused_at_submission(strict_server, url):
    response = httpx.post(
        f"{strict_server.url}/v1/jobs", json={"text": "Hi.", "webhook": {"url": url, "secret": SECRET}}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith("webhook.url:")


def test_delivery_connects_to_the_checked_address_with_the_name_as_host(monkeypatch, tmp_path):
    """The name is resolved once per attempt, by the check; the POST goes to that address with the name in the
    Host header (no second lookup a rebinding DNS server could answer differently). `hook.example` resolves only
    through the patched resolver: without the pinning the connection could not be made at all."""
    receiver = Receiver([])
    port = int(receiver.url.rsplit(":", 1)[1].split("/")[0])
    lookups: list[str] = []
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        lookups.append(host)
        return real("127.0.0.1" if host == "hook.example" else host, *args, **kwargs)

    monkeypatch.setattr(webhooks.socket, "getaddrinfo", resolver)
    settings = Settings(webhook_allow_private=True, webhook_secret=SECRET, webhook_max_attempts=1)
    job = JobRecord(id="job_1", owner="o", params={}, source_kind="text", chars_total=1, state=COMPLETED)
    job.webhook_url = f"http://hook.example:{port}/hook"
    store = SqliteJobStore(str(tmp_path))
    store.create(job, "[]")
    try:
        delivered = asyncio.run(webhooks.WebhookSender(settings).deliver(store, job))
    finally:
        receiver.close()
    stored = store.get(job.id)
    assert delivered and stored.webhook_delivered is True and stored.webhook_attempts[0]["status"] == 200
    ((headers, _body),) = receiver.calls
    assert {k.lower(): v for k, v in headers.items()}["host"] == f"hook.example:{port}"
    assert lookups.count("hook.example") == 1
