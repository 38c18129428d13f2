"""OpenAI voice names on a real server with two neural voices (the embedded male `joe` and a female copy of it
named like Piper's `amy`) plus the espeak-ng fallbacks: names spread by gender, the configured table wins, and no
name ever lands on a formant voice."""

from __future__ import annotations

import json
import os

import httpx
import pytest
from server_process import ServerProcess

from tts_predictor.engines.onnx.vits import embedded_voice_paths
from tts_predictor.voices.openai_names import OPENAI_GENDERS, OPENAI_VOICES

pytestmark = pytest.mark.slow

JOE, AMY = "en_US-joe-medium", "en_US-amy-medium"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """TTS_VOICES_DIR holds the embedded voice's graph under amy's name with a config saying dataset 'amy'."""
    voices = tmp_path_factory.mktemp("voices")
    model, config = embedded_voice_paths()
    os.symlink(model, voices / f"{AMY}.onnx")
    data = json.loads(config.read_text())
    (voices / f"{AMY}.onnx.json").write_text(json.dumps({**data, "dataset": "amy"}))
    env = {"TTS_VOICES_DIR": str(voices), "TTS_OPENAI_VOICES": "echo=en_US-amy-medium", "TTS_CACHE_MAX_BYTES": "0"}
    process = ServerProcess(env=env).start()
    yield process
    process.stop()


def _voice(server, name: str) -> str:
    body = {"model": "tts-1", "input": "Hi there.", "voice": name, "response_format": "pcm"}
    res = httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=120)
    assert res.status_code == 200, res.text
    return res.headers["X-TTS-Voice"]


def test_openai_names_spread_by_gender_and_table(server) -> None:
    """alloy: the default voice; female names: amy; male names: joe, except echo, which the table sends to amy;
    a future name maps to one of the two neural voices."""
    used = {name: _voice(server, name) for name in OPENAI_VOICES}
    assert used["alloy"] == JOE and used["echo"] == AMY
    for name, gender in OPENAI_GENDERS.items():
        if name != "echo":
            assert used[name] == (AMY if gender == "female" else JOE), name
    assert _voice(server, "juniper") in {JOE, AMY}


def test_listing_says_the_genders(server) -> None:
    """The voices listing carries each neural voice's gender (from Piper's known speakers)."""
    listing = httpx.get(f"{server.url}/voices", timeout=30).json()["voices"]
    genders = {v["id"]: v["gender"] for v in listing if v["id"] in (JOE, AMY)}
    assert genders == {JOE: "male", AMY: "female"}
