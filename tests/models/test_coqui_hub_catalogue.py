"""Coqui catalogue names served offline: XTTS v2 and OpenVoice by the names of coqui-tts's own `.models.json`.

Both real entries are Hugging Face repositories (`tts-hub/XTTS-v2`, `myshell-ai/OpenVoiceV2`), fetched by Coqui's
ModelManager through `snapshot_download`; here a pre-filled hub cache (HF_HOME, HF_HUB_OFFLINE=1) holds the tiny
random-weight models in those repositories' layouts, so nothing is downloaded. The local-catalogue mechanism
(`TTS_COQUI_CATALOGUE` + a pre-filled TTS_HOME) is tested with the XTTS name as well.
"""

from __future__ import annotations

import base64

import httpx
import numpy as np
import pytest
from asr import heard
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow

XTTS = "tts_models/multilingual/multi-dataset/xtts_v2"
OPENVOICE = "voice_conversion_models/multilingual/multi-dataset/openvoice_v2"
PIPER = "en_US-joe-medium"


@pytest.fixture(scope="module")
def hub(xtts_model, tmp_path_factory):
    """An HF_HOME whose hub cache holds the tiny XTTS v2 and OpenVoice as their catalogue repositories."""
    from devtools.coqui_catalogue import fill_hf_cache
    from devtools.coqui_vc_models import build_openvoice

    home = tmp_path_factory.mktemp("hf-home")
    fill_hf_cache(home, "tts-hub/XTTS-v2", xtts_model)
    fill_hf_cache(home, "myshell-ai/OpenVoiceV2", build_openvoice(tmp_path_factory.mktemp("ov")), subdir="converter")
    return home


@pytest.fixture(scope="module")
def server(hub, tmp_path_factory):
    proc = ServerProcess(
        env={
            "TTS_MODEL": f"embedded,{XTTS}",
            "TTS_VC_MODEL": OPENVOICE,
            "TTS_DEVICE": "cpu",
            "TTS_CACHE_MAX_BYTES": "0",
            "HF_HOME": str(hub),
            "HF_HUB_OFFLINE": "1",
            "COQUI_TOS_AGREED": "1",
            "TTS_HOME": str(tmp_path_factory.mktemp("tts-home")),
            "TTS_CLONED_VOICES_DIR": str(tmp_path_factory.mktemp("hub-voices")),
        }
    ).start()
    yield proc
    proc.stop()


def _infer(server, sample: bytes | None = None, **params) -> tuple[np.ndarray, int]:
    body = infer_body(["Hello from the catalogue."], **params)
    if sample is not None:
        body["inputs"].append(
            {"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(sample).decode()]}
        )
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=300)
    assert res.status_code == 200, res.text
    return decode_wav(res.json()["outputs"][0]["data"][0])


def test_xtts_and_openvoice_by_their_catalogue_names_offline(server, whisper):
    voices = {v["id"]: v for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]}
    ana = voices["Ana Florence"]
    assert len(ana["languages"]) == 17 and "cloning" in ana["capabilities"] and "cloning" not in ana
    assert voices[PIPER]["cloning"] == "vc", "the Piper voice clones through the catalogue's OpenVoice"
    index = httpx.post(f"{server.url}/v2/repository/index", timeout=10).json()
    assert "tts_models--multilingual--multi-dataset--xtts_v2" in {m["name"] for m in index}

    audio, rate = _infer(server, voice="Ana Florence", language="en", seed=2)
    assert rate == 24000 and len(audio) > 0.5 * rate
    sample = httpx.post(
        f"{server.url}/synthesize",
        json={"text": "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs."},
        timeout=60,
    )
    converted, rate = _infer(server, sample.content, voice=PIPER)
    plain, _ = _infer(server, voice=PIPER)
    assert rate == 22050
    # the Piper voice is not deterministic: the catalogue's (random-weight) OpenVoice must have replaced the
    # speech Whisper understands in the plain render
    keywords = {"hello", "from", "catalogue", "catalog"}
    assert len(heard(whisper, plain, rate, keywords)) >= 2
    assert heard(whisper, converted, rate, keywords) == set()


def test_xtts_through_a_local_catalogue(xtts_model, tmp_path, monkeypatch):
    from devtools.coqui_catalogue import build_catalogue
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.coqui.engine import CoquiEngine

    monkeypatch.setenv("TTS_HOME", str(tmp_path))
    catalogue = build_catalogue(tmp_path, {XTTS: xtts_model})
    engine = CoquiEngine(XTTS, device="cpu", catalogue=str(catalogue))
    try:
        assert engine.name == "tts_models--multilingual--multi-dataset--xtts_v2" and engine.xtts is not None
        voice = next(v for v in engine.voices() if v.id == "Ana Florence")
        audio = engine.synthesize(SynthesisRequest("Hello.", voice, language="en", seed=1))
        assert audio.sample_rate == 24000 and audio.duration_s > 0.5
    finally:
        engine.close()


def test_licence_to_accept_is_refused_clearly_not_asked_on_stdin(tmp_path, monkeypatch):
    from tts_predictor.engines.coqui.files import fetch_catalogue_model
    from tts_predictor.errors import ModelLoadError

    monkeypatch.setenv("TTS_HOME", str(tmp_path))
    monkeypatch.delenv("COQUI_TOS_AGREED", raising=False)
    with pytest.raises(ModelLoadError, match="COQUI_TOS_AGREED=1"):
        fetch_catalogue_model(XTTS)
