"""Voices: several models in one process, routing by voice and language, SSML dialogues, blends, seeds."""

from __future__ import annotations

import base64
import json
import shutil

import httpx
import numpy as np
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def multi_server(coqui_models, tmp_path_factory):
    voices_dir = tmp_path_factory.mktemp("voices")
    shutil.copytree(coqui_models["multi"], voices_dir / "trio")
    server = ServerProcess(
        env={
            "TTS_MODEL": f"embedded,{coqui_models['multilingual']}",
            "TTS_VOICES_DIR": str(voices_dir),
            "TTS_DEVICE": "cpu",
            "TTS_CACHE_MAX_BYTES": "0",
            "TTS_FALLBACK_VOICES": "off",  # routing among the models only (fallbacks: test_formant_voices.py)
        }
    ).start()
    yield server
    server.stop()


def _infer(server, texts, **params) -> httpx.Response:
    return httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(texts, **params), timeout=120)


def _timings(res: httpx.Response) -> list[dict]:
    assert res.status_code == 200, res.text
    outputs = {o["name"]: o for o in res.json()["outputs"]}
    return json.loads(outputs["timings"]["data"][0])


def _samples(res: httpx.Response) -> np.ndarray:
    assert res.status_code == 200, res.text
    return decode_wav(res.json()["outputs"][0]["data"][0])[0]


def test_catalogue_lists_every_model_with_capabilities(multi_server):
    listing = httpx.get(f"{multi_server.url}/v2/models/tts/voices").json()
    ids = [v["id"] for v in listing["voices"]]
    assert ids == ["en_US-joe-medium", "alice", "bob", "trio/alice", "trio/bob", "carol"]
    assert listing["default_voice"] == "en_US-joe-medium"
    caps = {v["id"]: v["capabilities"] for v in listing["voices"]}
    assert caps["en_US-joe-medium"] == ["speed"] and "mixing" in caps["alice"] and "seed" in caps["carol"]
    assert set(listing["languages"]) == {"en-US", "en", "fr-fr", "de"}


def test_language_routes_to_a_voice_that_speaks_it(multi_server):
    assert _timings(_infer(multi_server, ["Bonjour."], language="fr-FR", timings=True))[0]["voice"] == "alice"
    assert _timings(_infer(multi_server, ["Hello."], language="en-US", timings=True))[0]["voice"] == "en_US-joe-medium"
    res = _infer(multi_server, ["Hola."], language="es")
    assert res.status_code == 400 and "supported: en-US, en, fr-fr, de" in res.json()["error"]


def test_mixed_language_ssml_routes_spans(multi_server):
    ssml = '<speak>Hello there. <lang xml:lang="fr-fr">Bonjour mes amis.</lang> <lang xml:lang="de">Guten Tag.</lang></speak>'
    timings = _timings(_infer(multi_server, [ssml], timings=True))
    assert [(t["voice"], t["language"]) for t in timings] == [
        ("en_US-joe-medium", None),
        ("alice", "fr-fr"),
        ("alice", "de"),
    ]


def test_dialogue_with_voice_spans(multi_server):
    ssml = '<speak><voice name="bob">Hi Carol.</voice><voice name="carol">Hi Bob, how are you?</voice></speak>'
    assert [t["voice"] for t in _timings(_infer(multi_server, [ssml], timings=True))] == ["bob", "carol"]


def test_same_speaker_and_seed_same_waveform_different_speaker_different(multi_server):
    text = ["The same words every time."]
    alice = _samples(_infer(multi_server, text, voice="alice", seed=7))
    again = _samples(_infer(multi_server, text, voice="alice", seed=7))
    bob = _samples(_infer(multi_server, text, voice="bob", seed=7))
    other_seed = _samples(_infer(multi_server, text, voice="alice", seed=8))
    assert np.array_equal(alice, again)
    assert not np.array_equal(alice, bob[: len(alice)]) and not np.array_equal(alice, other_seed[: len(alice)])


def test_voice_blends(multi_server):
    text = ["Blending two speakers."]
    alice = _samples(_infer(multi_server, text, voice="alice", seed=1))
    blend = _samples(_infer(multi_server, text, voice="alice*0.5+bob*0.5", seed=1))
    nearly_alice = _samples(_infer(multi_server, text, voice="alice*1+bob*0.0001", seed=1))
    n = min(len(alice), len(blend), len(nearly_alice))
    assert np.abs(alice[:n] - nearly_alice[:n]).max() < 1e-3 < np.abs(alice[:n] - blend[:n]).max()
    for bad, message in [
        ("alice*0.5+dave*0.5", "unknown voice 'dave'"),
        ("alice*x+bob", "bad weight"),
        ("alice*0.5+en_US-joe-medium*0.5", "one model"),
        ("alice*-1+bob", "must be > 0"),
    ]:
        res = _infer(multi_server, text, voice=bad)
        assert res.status_code == 400 and message in res.json()["error"], (bad, res.text)


def test_cloning_is_refused_clearly(multi_server):
    body = infer_body(["Clone me."])
    body["inputs"].append(
        {"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(b"RIFF....").decode()]}
    )
    res = httpx.post(f"{multi_server.url}/v2/models/tts/infer", json=body, timeout=60)
    assert res.status_code == 400 and "speaker_wav: no loaded model can clone voices" in res.json()["error"]
