"""Two replicas share the job queue through a real redis-server; SIGKILL the one running a job mid-way and the
other takes it over from the last finished chunk (seeded model: the result equals the one-go audio exactly)."""

from __future__ import annotations

import shutil
import signal

import httpx
import pytest
from jobs_helpers import long_text, wait_job
from server_process import ServerProcess
from test_jobs import assert_same_audio, submit, v2_audio

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="Debian's redis-server is not installed"),
]


@pytest.fixture()
def redis_url(redis_server) -> str:
    return redis_server.url


def test_killed_replica_job_resumes_on_the_other(redis_url, coqui_models, tmp_path):
    base = {
        "TTS_MODEL": str(coqui_models["single"]),
        "TTS_DEVICE": "cpu",
        "TTS_REDIS_URL": redis_url,
        "TTS_JOB_CHUNK_CHARS": "150",
        "TTS_JOB_LEASE_S": "3",
        "TTS_JOB_POLL_S": "0.3",
        "TTS_JOB_SEGMENT_CHARS": "400",
    }
    replicas = [ServerProcess(env={**base, "TTS_JOBS_DIR": str(tmp_path / f"r{i}")}) for i in range(2)]
    for replica in replicas:
        replica.start(wait=False)
    try:
        for replica in replicas:
            replica.wait_ready(180)
        text, options = long_text(3000), {"seed": 11}  # 20 chunks: still running when the kill lands
        one_go = v2_audio(replicas[1], text, options)
        job = submit(replicas[0], {"text": text, "options": options}, headers={})
        running = wait_job(replicas[0].url, job["id"], until=lambda j: j["progress"]["chunks_done"] >= 2)
        pid = int(running["worker"].split("-")[-2])
        victim = next(r for r in replicas if r.proc.pid == pid)
        survivor = next(r for r in replicas if r is not victim)
        victim.proc.send_signal(signal.SIGKILL)
        victim.proc.wait(10)
        done = wait_job(survivor.url, job["id"])
        assert done["state"] == "completed" and done["takeovers"] >= 1, done
        assert done["worker"] != running["worker"]
        data = httpx.get(f"{survivor.url}/v1/jobs/{job['id']}/audio", timeout=60).content
        assert_same_audio(data, one_go, done)
    finally:
        for replica in replicas:
            replica.stop()
