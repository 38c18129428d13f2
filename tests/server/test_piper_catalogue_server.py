"""Piper catalogue voices through a real server and the CLI, from a real local mirror (nothing touches the internet).

The mirror serves the embedded voice's files under catalogue names (their real sizes and MD5s), so a voice fetched
with `TTS_MODEL=embedded,piper:<name>` really speaks: Whisper hears it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest
from asr import heard
from piper_mirror import PiperMirror
from server_process import REPO, ServerProcess
from v2_helpers import decode_wav

from tts_predictor.engines.onnx.vits import embedded_voice_paths

pytestmark = pytest.mark.slow

ALAN = "en_GB-alan-medium"
THORSTEN = "de_DE-thorsten-medium"


@pytest.fixture(scope="module")
def mirror():
    server = PiperMirror()
    model, config = embedded_voice_paths()
    for key in (ALAN, THORSTEN):
        server.add_voice(key, model, config)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def catalogue_server(mirror, tmp_path_factory):
    cache = tmp_path_factory.mktemp("model-cache")
    server = ServerProcess(
        env={
            "TTS_MODEL": f"embedded,piper:{ALAN}",
            "TTS_PIPER_VOICES_URL": mirror.url,
            "TTS_CACHE_DIR": str(cache),
            "TTS_CACHE_MAX_BYTES": "0",
        }
    ).start()
    yield server
    server.stop()


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tts_predictor", "voices", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_catalogue_voice_is_fetched_verified_and_speaks(catalogue_server, mirror, whisper):
    """TTS_MODEL=embedded,piper:<name>: the voice is downloaded once from the mirror, listed, and speaks."""
    listing = httpx.get(f"{catalogue_server.url}/v1/voices", timeout=30).json()
    assert ALAN in [v["id"] for v in listing["voices"]]
    body = {"model": "tts-1", "input": "The weather is lovely today.", "voice": ALAN, "response_format": "wav"}
    res = httpx.post(f"{catalogue_server.url}/v1/audio/speech", json=body, timeout=120)
    assert res.status_code == 200, res.text
    samples, rate = decode_wav(res.content)
    assert heard(whisper, samples, rate, {"weather", "lovely", "today"}) >= {"weather", "lovely"}
    assert mirror.count(f"{ALAN}.onnx") == 1


def test_available_lists_the_catalogue_with_installed_marks(catalogue_server):
    """GET /v1/voices?available=true adds the catalogue: both mirror voices, the fetched one installed."""
    res = httpx.get(f"{catalogue_server.url}/v1/voices", params={"available": "true"}, timeout=30)
    assert res.status_code == 200, res.text
    listed = {v["id"]: v for v in res.json()["available"]}
    assert set(listed) == {ALAN, THORSTEN}
    assert listed[ALAN]["installed"] is True and listed[THORSTEN]["installed"] is False
    assert listed[THORSTEN]["language"] == "de-DE" and listed[THORSTEN]["size_bytes"] > 60_000_000
    german = httpx.get(f"{catalogue_server.url}/v1/voices?available=true&language=de", timeout=30).json()
    assert [v["id"] for v in german["available"]] == [THORSTEN]
    assert "available" not in httpx.get(f"{catalogue_server.url}/v1/voices", timeout=30).json()


@pytest.mark.parametrize("value", ["yes", "x" * 5000, "tru\u00e9", "../etc", "true\x00", "1;DROP"])
def test_hostile_available_values_are_a_400_naming_the_field(catalogue_server, value):
    """An `available` value other than true/false/1/0 is a 400 whose param is `available`."""
    res = httpx.get(f"{catalogue_server.url}/v1/voices", params={"available": value}, timeout=30)
    assert res.status_code == 400 and res.json()["error"]["param"] == "available", res.text


def test_offline_server_says_which_voice_and_how_to_pull_it(mirror, tmp_path):
    """HF_HUB_OFFLINE=1 with an empty cache: the server stays unready (no 500, no hang) and /health names the
    voice and `tts-predictor voices pull`; the mirror is never asked."""
    before = sum(mirror.requests.values())
    server = ServerProcess(
        env={
            "TTS_MODEL": f"piper:{THORSTEN}",
            "TTS_PIPER_VOICES_URL": mirror.url,
            "TTS_CACHE_DIR": str(tmp_path),
            "HF_HUB_OFFLINE": "1",
            "TTS_LOAD_RETRY_SECONDS": "0",
        }
    ).start(wait=False)
    try:
        health: dict = {}
        for _ in range(300):
            try:
                health = httpx.get(f"{server.url}/health", timeout=2).json()
            except httpx.HTTPError:
                health = {}
            if health.get("load_error"):
                break
            import time

            time.sleep(0.2)
        assert THORSTEN in health["load_error"] and f"voices pull {THORSTEN}" in health["load_error"]
        assert "HF_HUB_OFFLINE" in health["load_error"]
    finally:
        server.stop()
    assert sum(mirror.requests.values()) == before


def test_voices_pull_then_offline_serving(mirror, tmp_path, whisper):
    """`voices pull` fills the cache; an offline server then loads the voice from it without any request."""
    pulled = _cli("pull", THORSTEN, TTS_PIPER_VOICES_URL=mirror.url, TTS_CACHE_DIR=str(tmp_path))
    assert pulled.returncode == 0, pulled.stderr
    assert pulled.stdout.strip().endswith(f"{THORSTEN}.onnx") and "downloading" in pulled.stderr
    before = sum(mirror.requests.values())
    env = {"TTS_MODEL": f"piper:{THORSTEN}", "TTS_CACHE_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    server = ServerProcess(env={**env, "TTS_PIPER_VOICES_URL": "http://127.0.0.1:9/unused"}).start()
    try:
        body = {"model": "tts-1", "input": "Good morning to everyone.", "voice": THORSTEN, "response_format": "wav"}
        res = httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=120)
        assert res.status_code == 200, res.text
        assert "morning" in heard(whisper, *decode_wav(res.content), {"good", "morning", "everyone"})
    finally:
        server.stop()
    assert sum(mirror.requests.values()) == before


def test_voices_pull_refuses_unknown_hostile_and_offline_names(mirror, tmp_path):
    """`voices pull` exits 1 with a message naming the voice: unknown name, hostile name, offline; `voices list
    --available` prints the catalogue as JSON."""
    env = {"TTS_PIPER_VOICES_URL": mirror.url, "TTS_CACHE_DIR": str(tmp_path)}
    unknown = _cli("pull", "xx_XX-nobody-low", **env)
    assert unknown.returncode == 1 and "'xx_XX-nobody-low' is not a voice of Piper's catalogue" in unknown.stderr
    hostile = _cli("pull", "../../etc/passwd", **env)
    assert hostile.returncode == 1 and "not a Piper catalogue voice name" in hostile.stderr
    offline = _cli("pull", ALAN, HF_HUB_OFFLINE="1", **env)
    assert offline.returncode == 1 and f"voices pull {ALAN}" in offline.stderr and "HF_HUB_OFFLINE" in offline.stderr
    listed = _cli("list", "--available", **env)
    assert listed.returncode == 0, listed.stderr
    assert {v["id"] for v in json.loads(listed.stdout)["voices"]} == {ALAN, THORSTEN}
    assert not list(tmp_path.glob("piper-voices/*.onnx"))
