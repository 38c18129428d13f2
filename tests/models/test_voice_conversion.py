"""Cloning through voice conversion over the real server: TTS_VC_MODEL = a tiny OpenVoice (Coqui's class, random
weights, the catalogue's converter layout) for models that cannot clone by themselves.

Served: the embedded Piper voice and a tiny plain multi-speaker Coqui VITS (no speaker encoder). The sample is
real speech (the Piper voice). With random weights this proves the plumbing (the sample's embedding reaches the
converter, stored and per request, REST and gRPC, seeds), not that the result sounds like the sample.
"""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
import soundfile as sf
from asr import heard
from server_process import ServerProcess
from v2_helpers import decode_wav, grpc_audio, infer_body

pytestmark = pytest.mark.slow

SAMPLE_TEXT = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs."
TEXT = "Hello from a converted voice."
PIPER = "en_US-joe-medium"
KEYWORDS = {"hello", "converted", "voice"}
"""TEXT's words Whisper hears in the Piper voice's speech; the random-weight converter's output is noise to it."""


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_models import build_vits
    from devtools.coqui_vc_models import build_openvoice

    root = tmp_path_factory.mktemp("vc")
    return {
        "vits": build_vits(root / "plainvits", speakers=["ann", "bob"]),
        "openvoice": build_openvoice(root / "openvoice_v2" / "converter"),
    }


@pytest.fixture(scope="module")
def server(models, tmp_path_factory):
    proc = ServerProcess(
        env={
            "TTS_MODEL": f"embedded,{models['vits']}",
            "TTS_VC_MODEL": str(models["openvoice"].parent),
            "TTS_DEVICE": "cpu",
            "TTS_CACHE_MAX_BYTES": "0",
            "TTS_CLONED_VOICES_DIR": str(tmp_path_factory.mktemp("vc-voices")),
        }
    ).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def sample(server) -> bytes:
    """About 5 s of real speech (the embedded Piper voice) as a WAV file."""
    res = httpx.post(f"{server.url}/synthesize", json={"text": SAMPLE_TEXT}, timeout=60)
    assert res.status_code == 200, res.text
    return res.content


def _with_sample(body: dict, sample: bytes | str) -> dict:
    data = sample if isinstance(sample, str) else base64.b64encode(sample).decode()
    body["inputs"].append({"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [data]})
    return body


def _infer(server, sample: bytes | str | None = None, **params) -> httpx.Response:
    body = infer_body([TEXT], **params)
    return httpx.post(
        f"{server.url}/v2/models/tts/infer", json=body if sample is None else _with_sample(body, sample), timeout=120
    )


def _audio(res: httpx.Response) -> tuple[np.ndarray, int]:
    assert res.status_code == 200, res.text
    return decode_wav(res.json()["outputs"][0]["data"][0])


def _differs(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape != b.shape or not np.allclose(a, b)


def test_every_voice_clones_through_vc_in_both_listings(server):
    voices = {
        v["id"]: v
        for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]
        if v["quality"] != "formant"
    }  # the espeak-ng fallback voices are listed after the models

    assert {PIPER, "ann", "bob"} <= set(voices)
    for voice in voices.values():
        assert voice["cloning"] == "vc" and "cloning" in voice["capabilities"], voice
    listed = {v["id"]: v for v in httpx.get(f"{server.url}/v2/models/tts/voices", timeout=10).json()["voices"]}
    assert listed["ann"]["cloning"] == "vc" and listed[PIPER]["cloning"] == "vc"


def test_stored_voice_on_plain_vits(server, sample):
    res = httpx.post(
        f"{server.url}/v1/voices",
        timeout=120,
        json={"name": "narrator", "audio": base64.b64encode(sample).decode(), "model": "plainvits"},
    )
    assert res.status_code == 201, res.text
    meta = res.json()
    assert meta["model"] == "plainvits" and meta["cloning"] == "vc" and "cloned" in meta["capabilities"]
    try:
        converted, rate = _audio(_infer(server, voice="narrator", seed=5))
        again, _ = _audio(_infer(server, voice="narrator", seed=5))
        plain, plain_rate = _audio(_infer(server, voice="ann", seed=5))
        assert rate == plain_rate, "converted audio comes back at the source voice's rate"
        assert np.array_equal(converted, again), "same voice and seed: same waveform"
        assert _differs(converted, plain), "conversion changed the model's speech"
        assert np.abs(converted).max() > 0, "not silence"
        # the same sample per request, spoken by the model's default voice ('ann'), is the same voice
        per_request, _ = _audio(_infer(server, sample, voice="ann", seed=5))
        assert np.array_equal(per_request, converted)
    finally:
        assert httpx.delete(f"{server.url}/v1/voices/narrator", timeout=10).status_code == 204


def test_per_request_sample_on_the_piper_voice_rest_and_grpc(server, sample, whisper):
    converted, rate = _audio(_infer(server, sample, voice=PIPER))
    plain, plain_rate = _audio(_infer(server, voice=PIPER))
    assert rate == plain_rate == 22050
    # The Piper voice is not deterministic, so "differs from plain" would prove nothing: the converter (random
    # weights) must have replaced the speech Whisper understands in the plain render.
    assert len(heard(whisper, plain, rate, KEYWORDS)) >= 2
    assert heard(whisper, converted, rate, KEYWORDS) == set()
    seeded = _infer(server, sample, voice=PIPER, seed=1)
    assert seeded.status_code == 400 and "seed:" in seeded.json()["error"], "the Piper voice cannot be seeded"

    from kserve import InferInput, InferRequest

    text = InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array([TEXT.encode()], dtype=np.object_), binary_data=True)
    reference = InferInput("speaker_wav", [1], "BYTES")
    reference.set_data_from_numpy(np.array([sample], dtype=np.object_), binary_data=True)
    request = InferRequest(model_name="tts", infer_inputs=[text, reference], parameters={"voice": "bob", "seed": 9})

    over_grpc, grpc_rate = decode_wav(grpc_audio(server.grpc_url, request))
    over_rest, _ = _audio(_infer(server, sample, voice="bob", seed=9))
    assert np.array_equal(over_grpc, over_rest), "gRPC and REST convert alike"
    assert _differs(over_rest, _audio(_infer(server, voice="bob", seed=9))[0])


def test_bad_samples_are_400_naming_the_field(server, sample):
    speech, rate = sf.read(io.BytesIO(sample), dtype="float32")
    short = io.BytesIO()
    sf.write(short, speech[:rate], rate, format="WAV")
    cases = {
        "%%% not base64": "speaker_wav: not base64",
        base64.b64encode(b"this is not audio" * 50).decode(): "speaker_wav: not a decodable audio file",
        base64.b64encode(short.getvalue()).decode(): "speaker_wav: 1.0 s of audio; a voice sample must be 3-30 s",
    }
    for data, message in cases.items():
        res = _infer(server, data, voice=PIPER)
        assert res.status_code == 400 and message in res.json()["error"], res.text
    upload = httpx.post(
        f"{server.url}/v1/voices", json={"name": "x1", "audio": base64.b64encode(b"no" * 99).decode()}, timeout=30
    )
    assert upload.status_code == 400 and upload.json()["error"]["message"].startswith("audio:")


def test_without_a_vc_model_the_piper_voice_refuses_samples(embedded_server, sample):
    res = _infer(embedded_server, sample, voice=PIPER)
    assert res.status_code == 400
    assert (
        "speaker_wav: no loaded model can clone voices" in res.json()["error"] and "TTS_VC_MODEL" in res.json()["error"]
    )
    listed = httpx.get(f"{embedded_server.url}/v1/voices", timeout=10).json()["voices"]
    assert all("cloning" not in v for v in listed)


@pytest.fixture(scope="module")
def freevc(tmp_path_factory):
    """A tiny FreeVC (Coqui's format) and the TTS_HOME holding its tiny WavLM content encoder."""
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_vc_models import build_freevc

    root = tmp_path_factory.mktemp("freevc")
    return build_freevc(root / "freevc24", root / "home"), root / "home"


def test_freevc_converts_with_its_local_wavlm(freevc, sample, tmp_path, monkeypatch):
    """In process: FreeVC through the same engine wrapper (the served path is the OpenVoice one above)."""
    from tts_predictor.audio.decode import reference_from_bytes
    from tts_predictor.engines.base import SynthesisRequest
    from tts_predictor.engines.registry import load_engine
    from tts_predictor.settings import Settings

    model, home = freevc
    monkeypatch.setenv("TTS_HOME", str(home))
    engine = load_engine(Settings(model="embedded", vc_model=str(model), device="cpu", threads=1))
    assert engine.converter.family == "freevc" and engine.converter.output_rate == 24000
    voice = engine.clone(reference_from_bytes(sample, "audio", min_s=3, max_s=30), "fvc", tmp_path, source=PIPER)
    assert voice == engine.cloned_voice("fvc", tmp_path, PIPER), "a restored voice is the voice stored"
    spoken = engine.inner.synthesize(SynthesisRequest(TEXT, engine.inner.voices()[0]))
    first = engine.converter.convert(spoken, "fvc", tmp_path, seed=4)
    assert np.array_equal(first.samples, engine.converter.convert(spoken, "fvc", tmp_path, seed=4).samples)
    assert abs(first.duration_s - spoken.duration_s) < 0.1, "FreeVC keeps the duration (16 kHz in, 24 kHz out)"
    served = engine.synthesize(SynthesisRequest(TEXT, voice, seed=4))
    assert served.sample_rate == 22050 and served.duration_s > 0.5, "resampled to the Piper voice's rate"


def test_freevc_without_its_wavlm_is_refused_naming_the_file(freevc, tmp_path, monkeypatch):
    from tts_predictor.engines.coqui.vc import VoiceConverter
    from tts_predictor.errors import ModelLoadError

    monkeypatch.setenv("TTS_HOME", str(tmp_path))
    with pytest.raises(ModelLoadError, match=r"wavlm/WavLM-Large\.pt"):
        VoiceConverter(str(freevc[0]))
