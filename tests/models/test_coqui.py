"""Coqui engine with tiny random-weight VITS models, loaded from directories as KServe mounts them."""

from __future__ import annotations

import shutil

import httpx
import numpy as np
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow


def _infer(server, texts, **params) -> httpx.Response:
    return httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(texts, **params), timeout=120)


def test_engine_voices_per_model_kind(coqui_models):
    from tts_predictor.engines.coqui.engine import CoquiEngine

    single = CoquiEngine(coqui_models["single"], device="cpu")
    assert [(v.id, v.languages) for v in single.voices()] == [("single", ("en",))]
    multi = CoquiEngine(coqui_models["multi"], device="cpu")
    assert [v.id for v in multi.voices()] == ["alice", "bob", "carol"]
    multilingual = CoquiEngine(coqui_models["multilingual"], device="cpu")
    assert {v.languages for v in multilingual.voices()} == {("en", "fr-fr", "de")}


def test_moved_model_directory_still_loads(coqui_models, tmp_path):
    """config.json keeps training-time absolute paths; a mounted copy must not depend on them."""
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.coqui.engine import CoquiEngine

    moved = tmp_path / "mnt-models"
    shutil.copytree(coqui_models["multi"], moved)
    (moved / "model.pth").rename(moved / "best_model.pth")
    source_speakers = coqui_models["multi"] / "speakers.pth"
    backup = source_speakers.read_bytes()
    source_speakers.unlink()  # the path written in config.json no longer exists
    try:
        engine = CoquiEngine(moved, device="cpu")
        voice = engine.voices()[1]
        audio = engine.synthesize(SynthesisRequest("Hello there.", voice, "en"))
    finally:
        source_speakers.write_bytes(backup)
    assert voice.id == "bob" and audio.sample_rate == 22050 and audio.duration_s > 0.1


def test_server_lists_speakers_and_languages(coqui_server):
    listing = httpx.get(f"{coqui_server.url}/v2/models/tts/voices").json()
    assert listing["engine"] == "coqui"
    assert [v["id"] for v in listing["voices"] if v["quality"] == "neural"] == ["alice", "bob"]
    assert listing["languages"][:3] == ["en", "fr-fr", "de"], "the model's languages first, then the fallbacks'"


def test_every_voice_selection_path(coqui_server):
    """Seeded, the model is deterministic, so equal and different waveforms say which speaker, language and
    speed reached it (alice and en are the defaults; speed 0.5 doubles VITS's length scale, which stretches the
    phonemes but not Coqui's fixed padding between sentences: measured 1.54x on this text)."""

    def render(**params) -> np.ndarray:
        res = _infer(coqui_server, ["Bonjour. Hello."], seed=11, **params)
        assert res.status_code == 200, res.text
        samples, rate = decode_wav(res.json()["outputs"][0]["data"][0])
        assert rate == 22050 and len(samples) > 1000
        return samples

    def same(a: np.ndarray, b: np.ndarray) -> bool:
        return a.shape == b.shape and np.array_equal(a, b)

    default = render()
    assert same(render(), default), "seeded: deterministic"
    assert same(render(voice="alice", language="en"), default)
    bob, french, german = render(voice="bob"), render(language="fr-fr"), render(voice="alice", language="de")
    assert not same(bob, default) and not same(french, default) and not same(german, default)
    assert not same(german, french)
    assert same(render(language="FR"), french), "FR is fr-fr"
    assert 1.3 < len(render(speed=0.5)) / len(default) < 2.3


def test_batch_with_speaker(coqui_server):
    res = _infer(coqui_server, ["One.", "Two, three."], voice="bob", language="en")
    assert res.status_code == 200 and res.json()["outputs"][0]["shape"] == [2]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"voice": "dave"}, "valid voices: alice, bob"),
        ({"language": "tlh"}, "supported: en, fr-fr, de"),  # a language espeak-ng does not know either
        ({"voice": "alice", "language": "es"}, "supported: en, fr-fr, de"),
        ({"speed": 0}, "parameters.speed"),
    ],
)
def test_coqui_bad_selection_is_400(coqui_server, params, message):
    res = _infer(coqui_server, ["Hello."], **params)
    assert res.status_code == 400 and message in res.json()["error"]


def test_single_speaker_model_server(coqui_models):
    server = ServerProcess(env={"TTS_MODEL": f"{coqui_models['single']}", "TTS_DEVICE": "cpu"}).start()
    try:
        res = _infer(server, ["A single speaker model."], speed=1.5)
        assert res.status_code == 200, res.text
        assert _infer(server, ["hi"], voice="alice").status_code == 400
    finally:
        server.stop()
