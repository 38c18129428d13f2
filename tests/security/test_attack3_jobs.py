"""Security regressions of issue 23, jobs part, against real servers and real stores: poison jobs (finding 1),
unbounded job audio and memory (finding 9), malformed webhook URLs and MP3 chapter tables (low), and what an
outsider tried beyond those (chapter counts, empty chapters, SSML in Markdown, unicode titles, many keys at once,
cancel during render, restart mid-job)."""

from __future__ import annotations

import json
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict

import httpx
import psutil
import pytest
from jobs_helpers import long_text, wait_job
from server_process import ServerProcess

from tts_predictor.auth import owner_of
from tts_predictor.jobs.records import QUEUED, RUNNING, Chapter, JobRecord, new_job_id
from tts_predictor.jobs.store.sqlite import SqliteJobStore
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.text.segments import Segment

pytestmark = pytest.mark.slow
A = {"Authorization": "Bearer key-a"}
B = {"X-API-Key": "key-b"}
KEYS = [f"key-{i:02d}" for i in range(12)]
MAX_AUDIO_S = 3100
MARK_ONLY = "<speak> <mark name='x'/> </speak>"


def _seed(store: SqliteJobStore, owner_key: str, kind: str, text: str, plan: dict | None, at: float, **fields) -> str:
    """A job as a version before the fix left it in the store (accepted, and planned when `plan` is given)."""
    params = SynthesisParameters(ssml=kind == "ssml").model_dump(mode="json")
    job = JobRecord(new_job_id(), owner_of(owner_key), params, kind, len(text), created_at=at, **fields)
    store.create(job, json.dumps([{"title": None, "text": text}]))
    if plan is not None:
        store.set_plan(job.id, plan)
    return job.id


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    """A server started on a jobs database holding two poison jobs of key-a ahead of a plain job of key-b."""
    directory = tmp_path_factory.mktemp("poisoned")
    store = SqliteJobStore(str(directory))
    now = time.time() - 60
    mark_plan = {"chunks": [[asdict(Segment(mark="x"))]], "chapters": [asdict(Chapter("Chapter 1", 0, 1))]}
    ids = {
        "mark": _seed(store, "key-a", "ssml", MARK_ONLY, mark_plan, now),  # LibsndfileError on every run
        "empty": _seed(store, "key-a", "ssml", "<speak></speak>", {"chunks": [], "chapters": []}, now + 1),
        "other": _seed(store, "key-b", "text", "Hello there.", None, now + 2),
        # Runs whose worker died (the record still says running, no lease): one on its last attempt, one not.
        "crashed": _seed(store, "key-a", "text", "Crash again.", None, now + 3, state=RUNNING, attempts=2),
        "resumed": _seed(store, "key-b", "text", "Resume me.", None, now + 4, state=RUNNING, attempts=1),
    }
    env = {
        "TTS_JOBS_DIR": str(directory),
        "TTS_API_KEYS": ",".join(["key-a", "key-b", *KEYS]),
        "TTS_JOB_MAX_ATTEMPTS": "3",
        "TTS_JOB_RETRY_BACKOFF_S": "0",  # no delay: only the claim order keeps the poison job behind the others
        "TTS_JOB_POLL_S": "0.2",
        "TTS_JOB_MAX_AUDIO_S": "5",
        "TTS_JOB_MAX_QUEUED_PER_KEY": "3",
    }
    server = ServerProcess(env=env).start()
    yield server, ids
    server.stop()


@pytest.fixture(scope="module")
def roomy(tmp_path_factory):
    """A server whose jobs may hold MAX_AUDIO_S of audio."""
    env = {
        "TTS_JOBS_DIR": str(tmp_path_factory.mktemp("roomy")),
        "TTS_API_KEYS": "key-a,key-b",
        "TTS_JOB_MAX_AUDIO_S": str(MAX_AUDIO_S),
        "TTS_JOB_MAX_CHAPTERS": "300",
        "TTS_JOB_CHUNK_CHARS": "300",
        "TTS_JOB_POLL_S": "0.2",
    }
    server = ServerProcess(env=env).start()
    yield server
    server.stop()


def _post(server: ServerProcess, body: dict, headers=A) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/jobs", json=body, headers=headers, timeout=120)


def test_poison_job_fails_after_bounded_retries_and_never_blocks_another_key(poisoned):
    """Finding 1: a stored job that fails on every run (LibsndfileError on a mark-only chunk, IndexError on an
    empty plan) is retried TTS_JOB_MAX_ATTEMPTS times behind the other jobs, then failed with its reason."""
    server, ids = poisoned
    other = wait_job(server.url, ids["other"], headers=B, timeout_s=120)
    mark = wait_job(server.url, ids["mark"], headers=A, timeout_s=120)
    empty = wait_job(server.url, ids["empty"], headers=A, timeout_s=60)
    assert other["state"] == "completed", other
    assert mark["state"] == "failed" and mark["attempts"] == 3, mark
    assert "failed 3 times" in mark["error"] and "LibsndfileError" in mark["error"], mark
    assert empty["state"] == "failed" and "nothing to speak" in empty["error"], empty
    # Retried behind the job ready before it, not ahead: key-b's job started before the poison job gave up.
    assert other["started_at"] < mark["finished_at"], (other, mark)


def test_job_whose_worker_keeps_dying_fails_instead_of_crash_looping(poisoned):
    """Attack (restart mid-job): a run whose worker died counts as a failed attempt, so a job that kills its worker
    (an engine crash, an OOM kill) ends failed after TTS_JOB_MAX_ATTEMPTS restarts instead of being taken up first
    after every restart forever; a run that stores a chunk clears the count."""
    server, ids = poisoned
    crashed = wait_job(server.url, ids["crashed"], headers=A, timeout_s=120)
    resumed = wait_job(server.url, ids["resumed"], headers=B, timeout_s=120)
    assert crashed["state"] == "failed" and crashed["attempts"] == 3, crashed
    assert "stopped without finishing" in crashed["error"], crashed
    assert resumed["state"] == "completed" and resumed["attempts"] == 0, resumed


@pytest.mark.parametrize(
    "body",
    [
        {"ssml": "<speak></speak>"},
        {"text": "<speak></speak>"},
        {"ssml": MARK_ONLY},
        {"text": MARK_ONLY, "options": {"ssml": True}},
        {"text": " \n\t "},
    ],
)
def test_text_that_speaks_nothing_is_refused_at_submission(poisoned, body):
    """Finding 1: what the synchronous routes refuse as 'nothing to speak' is a 400 at submission, not a job."""
    response = _post(poisoned[0], body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(next(iter(body))), response.text  # names the field
    assert (
        "nothing to speak" in response.json()["error"]["message"] or "is empty" in response.json()["error"]["message"]
    )


def test_speech_longer_than_the_job_limit_fails_with_the_reason(poisoned):
    """Finding 9: speech beyond TTS_JOB_MAX_AUDIO_S (5 s here) ends the job as failed, naming the limit."""
    job = _post(poisoned[0], {"text": long_text(600)}, headers=B)
    assert job.status_code == 202, job.text
    done = wait_job(poisoned[0].url, job.json()["id"], headers=B, timeout_s=120)
    assert done["state"] == "failed" and "TTS_JOB_MAX_AUDIO_S" in done["error"], done
    assert done["attempts"] == 0  # a limit is not retried


def test_planned_pauses_beyond_the_limit_are_a_400(roomy):
    """Finding 9: the pauses alone (311 x 10 s > 3100 s) are refused before any synthesis."""
    ssml = "<speak>Hi." + "<break time='10s'/>" * 311 + "</speak>"
    response = _post(roomy, {"ssml": ssml})
    assert response.status_code == 400 and "TTS_JOB_MAX_AUDIO_S" in response.json()["error"]["message"], response.text


def _peak_rss(pid: int, stop: threading.Event, out: list[int]) -> None:
    proc = psutil.Process(pid)
    while not stop.is_set():
        out.append(proc.memory_info().rss)
        time.sleep(0.05)


def test_long_breaks_render_in_bounded_memory(roomy):
    """Finding 9: 300 x 10 s breaks (3000 s of audio) took +2.2 GB held as one chunk; now chunks of at most 60 s
    of planned silence are synthesized, stored and rendered one at a time."""
    warm = _post(roomy, {"text": "Warm up the worker."}).json()
    assert wait_job(roomy.url, warm["id"], headers=A)["state"] == "completed"
    httpx.get(f"{roomy.url}/v1/jobs/{warm['id']}/audio", headers=A)
    base = psutil.Process(roomy.proc.pid).memory_info().rss
    stop, samples = threading.Event(), []
    sampler = threading.Thread(target=_peak_rss, args=(roomy.proc.pid, stop, samples), daemon=True)
    sampler.start()
    try:
        ssml = "<speak>Hi." + "<break time='10s'/>" * 300 + "Bye.</speak>"
        job = _post(roomy, {"ssml": ssml}).json()
        done = wait_job(roomy.url, job["id"], headers=A, timeout_s=300)
        assert done["state"] == "completed" and done["duration_s"] > 3000, done
        assert done["progress"]["chunks_total"] >= 50
        audio = httpx.get(f"{roomy.url}/v1/jobs/{job['id']}/audio", headers=A, timeout=120)
        assert audio.status_code == 200 and len(audio.content) > 3000 * 2 * 16000
    finally:
        stop.set()
        sampler.join()
    growth = max(samples) - base
    assert growth < 200 * 2**20, f"RSS grew {growth / 2**20:.0f} MiB"


@pytest.mark.parametrize("url", ["http://[::1", "http://example.com:99999/x", "http://example.com:port/x"])
def test_malformed_webhook_url_is_a_400_naming_the_field(roomy, url):
    """Low: malformed webhook URLs were a 500 at submission."""
    response = _post(roomy, {"text": "Hi.", "webhook": {"url": url, "secret": "s" * 20}})
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("webhook.url"), response.text


def test_mp3_job_of_more_than_255_chapters_is_refused_at_submission(roomy):
    """Low: an MP3 job of 256 chapters failed after synthesizing everything (ID3 CTOC counts in one byte)."""
    markdown = "\n\n".join(f"# Part {i}\n\nWord {i}." for i in range(256))
    response = _post(roomy, {"markdown": markdown, "options": {"format": "mp3"}})
    assert response.status_code == 400 and response.json()["error"]["message"].startswith("options.format"), (
        response.text
    )
    assert "255" in response.json()["error"]["message"]


def test_huge_chapter_counts_are_refused_before_planning(roomy):
    """Attack: 301 chapters over a limit of 300 are a 400; 20,000 headings are refused fast (planning 100,000 took
    47 s of CPU per submission)."""
    too_many = "\n\n".join(f"# Part {i}\n\nWord {i}." for i in range(301))
    response = _post(roomy, {"markdown": too_many, "options": {"format": "wav"}})
    assert response.status_code == 400 and "TTS_JOB_MAX_CHAPTERS" in response.json()["error"]["message"], response.text
    started = time.monotonic()
    response = _post(roomy, {"markdown": "# a\n\nb.\n\n" * 20_000})
    assert response.status_code == 400 and "TTS_JOB_MAX_CHAPTERS" in response.json()["error"]["message"], response.text
    assert time.monotonic() - started < 5


def test_many_keys_submitting_at_once_all_finish(poisoned):
    """Attack: 12 keys x 3 jobs at once: every job completes, none is lost or doubled, each key sees only its own."""
    server = poisoned[0]

    def run(key: str) -> list[str]:
        headers = {"X-API-Key": key}
        return [_post(server, {"text": f"Number {i} of {key}."}, headers).json()["id"] for i in range(3)]

    with ThreadPoolExecutor(12) as pool:
        submitted = dict(zip(KEYS, pool.map(run, KEYS)))
    for key, ids in submitted.items():
        headers = {"X-API-Key": key}
        for job_id in ids:
            assert wait_job(server.url, job_id, headers=headers, timeout_s=240)["state"] == "completed"
        listed = httpx.get(f"{server.url}/v1/jobs", headers=headers).json()["jobs"]
        assert sorted(j["id"] for j in listed) == sorted(ids)


def test_unicode_titles_and_ssml_in_markdown(roomy):
    """Attack: right-to-left, emoji and NUL-free control titles survive into the chapters; SSML inside Markdown
    is read as text, not markup."""
    markdown = (
        "# Ünïcødé 🎧 עברית\n\nFirst <break time='10s'/> part.\n\n# 二\n\n<speak><mark name='x'/></speak> Second."
    )
    job = _post(roomy, {"markdown": markdown, "title": "Tïtle 🎧", "options": {"format": "mp3"}}).json()
    done = wait_job(roomy.url, job["id"], headers=A)
    assert done["state"] == "completed", done
    assert [c["title"] for c in done["chapters"]] == ["Ünïcødé 🎧 עברית", "二"]
    assert done["duration_s"] < 15  # the break inside Markdown is not a 10 s pause


def test_cancel_during_render_stops_the_job(roomy):
    """Attack: a cancel while chunks render wins; the worker writes nothing more and the job stays cancelled."""
    job = _post(roomy, {"text": long_text(6000)}).json()
    wait_job(roomy.url, job["id"], headers=A, until=lambda j: j["progress"]["chunks_done"] >= 1)
    assert httpx.delete(f"{roomy.url}/v1/jobs/{job['id']}", headers=A).json()["state"] == "cancelled"
    time.sleep(3)
    after = httpx.get(f"{roomy.url}/v1/jobs/{job['id']}", headers=A).json()
    assert after["state"] == "cancelled" and after["progress"]["chunks_done"] < after["progress"]["chunks_total"]


@pytest.mark.parametrize("store_kind", ["sqlite", "redis"])
def test_deferred_job_is_claimed_after_every_ready_job(store_kind, tmp_path, request):
    """Finding 1 (store side): a deferred job is neither claimable before its time nor ahead of a job ready earlier."""
    if store_kind == "redis":
        if shutil.which("redis-server") is None:
            pytest.skip("redis-server is not installed")
        from tts_predictor.jobs.store.redis import RedisJobStore

        store = RedisJobStore(request.getfixturevalue("redis_server").url)
    else:
        store = SqliteJobStore(str(tmp_path))
    params = SynthesisParameters().model_dump(mode="json")
    first = JobRecord(new_job_id(), "o", params, "text", 3, created_at=100.0)
    second = JobRecord(new_job_id(), "o", params, "text", 3, created_at=101.0)
    store.create(first, "[]")
    store.create(second, "[]")
    claimed = store.claim("w", 200.0, 30)
    assert claimed is not None and claimed.id == first.id
    claimed.state = QUEUED
    assert store.defer(claimed, "w", 300.0)
    assert store.claim("w", 250.0, 1000).id == second.id  # the deferred one waits behind
    assert store.claim("w", 260.0, 30) is None  # and is not claimable before its time
    again = store.claim("w", 301.0, 30)
    assert again is not None and again.id == first.id
    assert not store.defer(again, "someone-else", 400.0)  # only the lease holder defers


def test_cancel_then_delete_mid_chunk_leaves_no_orphan_chunks(roomy_dir_server):
    """Attack: cancel and delete a running job at once; a chunk the worker was still rendering must not land in
    the store after the delete (orphan audio counted against TTS_JOBS_MAX_BYTES forever: 507 for everyone)."""
    server, directory = roomy_dir_server
    ids = []
    for _ in range(3):
        job = _post(server, {"text": long_text(3000)}).json()
        wait_job(server.url, job["id"], headers=A, until=lambda j: j["state"] == "running", timeout_s=60)
        httpx.delete(f"{server.url}/v1/jobs/{job['id']}", headers=A)
        assert httpx.delete(f"{server.url}/v1/jobs/{job['id']}", headers=A).json()["deleted"] is True
        ids.append(job["id"])
    time.sleep(4)  # longer than a chunk takes
    store = SqliteJobStore(str(directory))
    assert all(store.done_chunks(i) == {} for i in ids), {i: store.done_chunks(i) for i in ids}


def test_concurrent_submissions_of_one_key_respect_the_queue_limit(roomy_dir_server):
    """Attack: 16 submissions of one key at the same moment; at most TTS_JOB_MAX_QUEUED_PER_KEY (2) are accepted."""
    server, _ = roomy_dir_server
    headers = {"X-API-Key": "key-b"}
    barrier = threading.Barrier(16)

    def one(_: int) -> int:
        barrier.wait()
        return _post(server, {"text": long_text(3000)}, headers).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(one, range(16)))
    try:
        assert codes.count(202) <= 2 and codes.count(429) >= 14, codes
    finally:
        for job in httpx.get(f"{server.url}/v1/jobs", headers=headers).json()["jobs"]:
            httpx.delete(f"{server.url}/v1/jobs/{job['id']}", headers=headers)


@pytest.fixture(scope="module")
def roomy_dir_server(tmp_path_factory):
    """A server with a small queue limit whose SQLite file the test reads."""
    directory = tmp_path_factory.mktemp("orphans")
    env = {
        "TTS_JOBS_DIR": str(directory),
        "TTS_API_KEYS": "key-a,key-b",
        "TTS_JOB_CHUNK_CHARS": "300",
        "TTS_JOB_MAX_QUEUED_PER_KEY": "2",
        "TTS_JOB_POLL_S": "0.2",
    }
    server = ServerProcess(env=env).start()
    yield server, directory
    server.stop()
