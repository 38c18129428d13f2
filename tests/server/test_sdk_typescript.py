"""The TypeScript client (clients/typescript) against real servers, driven by Node (clients/typescript/test/run.mjs):
synthesize, stream, a job with chapters, voices, normalize, the server's error messages and Retry-After; and the
shipped dist/ is what tsc makes of src/ (where the compiler is installed: `npm install` in clients/typescript)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf
from sdk_servers import SDK_KEY, limited_server, sdk_server  # noqa: F401  (fixtures)
from server_process import REPO, ServerProcess

pytestmark = pytest.mark.slow
TS = REPO / "clients" / "typescript"
VOICE = "en_US-joe-medium"
NODE = shutil.which("node")


def seconds(path: Path) -> float:
    info = sf.info(io.BytesIO(path.read_bytes()))
    return info.frames / info.samplerate


@pytest.fixture(scope="module")
def seen(sdk_server: ServerProcess, limited_server: ServerProcess, tmp_path_factory) -> tuple[dict, Path]:
    """What run.mjs saw (its JSON) and the directory of the audio it wrote."""
    if NODE is None:
        pytest.skip("node is not installed (the TypeScript client needs Node >= 18)")
    out = tmp_path_factory.mktemp("ts-client")
    done = subprocess.run(
        [NODE, str(TS / "test" / "run.mjs"), sdk_server.url, SDK_KEY, limited_server.url, str(out)],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), out


def test_synthesize_and_stream(seen):
    result, out = seen
    assert result["synthesize"]["contentType"] == "audio/wav" and result["synthesize"]["voice"] == VOICE
    assert (out / "speech.wav").read_bytes()[:4] == b"RIFF"
    assert seconds(out / "speech.wav") == pytest.approx(result["synthesize"]["durationS"], abs=0.01)
    assert result["blob"]["type"] == "audio/mpeg" and result["blob"]["size"] > 1000
    assert result["stream"]["chunks"] >= 2
    samples = np.frombuffer((out / "stream.pcm").read_bytes(), dtype="<i2")
    assert len(samples) / 22050 > 1.0 and np.abs(samples).max() > 1000


def test_job_runs_and_downloads(seen):
    result, out = seen
    job = result["job"]
    assert job["submitted"] == "queued" and job["state"] == "completed" and job["states"][-1] == "completed"
    assert job["fraction"] == 1.0 and job["listed"]
    assert [c["title"] for c in job["chapters"]] == ["Harbour", "Market"]
    assert seconds(out / "job.wav") == pytest.approx(job["durationS"], abs=0.01)
    assert seconds(out / "chapter2.wav") == pytest.approx(job["chapters"][1]["duration_s"], abs=0.01)


def test_voices_and_normalize(seen):
    result, _ = seen
    assert VOICE in result["voices"]["ids"] and result["voices"]["default"] == VOICE
    assert result["voices"]["german"] == 1  # the formant fallback voice espeak-de only
    assert "three" in " ".join(s["text"] for s in result["normalize"]["segments"]).lower()


def test_errors_carry_the_server_message(seen, sdk_server: ServerProcess):
    errors = seen[0]["errors"]
    raw = httpx.post(
        f"{sdk_server.url}/synthesize",
        json={"text": "Hi.", "options": {"voice": "nobody"}},
        headers={"Authorization": f"Bearer {SDK_KEY}"},
    ).json()["error"]
    assert errors["restVoice"]["isTTSError"] and errors["restVoice"]["status"] == 400
    assert errors["restVoice"]["message"] == raw and "voice" in raw
    assert errors["jobVoice"]["status"] == 400 and "voice" in errors["jobVoice"]["message"]  # OpenAI's shape
    assert "nobody" in errors["jobVoice"]["message"]
    assert errors["wrongKey"]["status"] == 401 and errors["wrongKey"]["message"]


def test_rate_limit_retry_after(seen):
    limited = seen[0]["rateLimit"]
    assert limited["eager"]["status"] == 429 and limited["eager"]["retryAfterS"] >= 1
    assert "TTS_RATE_LIMIT_RPS" in limited["eager"]["message"]
    assert not limited["patient"]["thrown"]  # served after waiting the Retry-After
    assert limited["retries"][0]["status"] == 429 and limited["retries"][0]["ms"] >= 1000


def test_dist_is_compiled_from_src(tmp_path):
    tsc = TS / "node_modules" / ".bin" / "tsc"
    if NODE is None or not tsc.exists():
        pytest.skip("no TypeScript compiler: `npm install` in clients/typescript")
    done = subprocess.run(
        [str(tsc), "-p", str(TS / "tsconfig.json"), "--outDir", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("index.js", "index.d.ts"):
        assert (tmp_path / name).read_text() == (TS / "dist" / name).read_text(), f"dist/{name} is stale: npm run build"
