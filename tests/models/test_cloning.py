"""Voice cloning over the real server: a tiny YourTTS-style model (d-vector speakers + speaker encoder).

The voice sample is real speech: the embedded Piper voice reading two sentences. The tiny model's weights are
random, so "cloned" here means: the sample's embedding conditions the model (a different waveform than the
built-in speakers, the same waveform for the same sample and seed), stored, listed, restored and deleted.
"""

from __future__ import annotations

import base64
import io

import httpx
import numpy as np
import pytest
import soundfile as sf
from server_process import ServerProcess
from v2_helpers import decode_wav, grpc_audio, infer_body

pytestmark = pytest.mark.slow

SAMPLE_TEXT = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs."


@pytest.fixture(scope="module")
def cloning_model(tmp_path_factory):
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_models import build_vits

    return build_vits(tmp_path_factory.mktemp("cloning") / "yourtts", speakers=["ann", "bob"], cloning=True)


def _start(model, store) -> ServerProcess:
    return ServerProcess(
        env={
            "TTS_MODEL": f"embedded,{model}",
            "TTS_DEVICE": "cpu",
            "TTS_CACHE_MAX_BYTES": "0",
            "TTS_CLONED_VOICES_DIR": str(store),
            "TTS_MAX_CLONED_VOICES": "2",
            "TTS_VOICE_UPLOAD_MAX_BYTES": str(4 * 2**20),
        }
    ).start()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return tmp_path_factory.mktemp("voice-store")


@pytest.fixture(scope="module")
def server(cloning_model, store):
    proc = _start(cloning_model, store)
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def sample(server) -> bytes:
    """About 5 s of speech (WAV, 22.05 kHz) from the embedded voice."""
    res = httpx.post(f"{server.url}/synthesize", json={"text": SAMPLE_TEXT}, timeout=60)
    assert res.status_code == 200, res.text
    return res.content


def _wav(samples: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    sf.write(out, samples.astype(np.float32), rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def _upload(server, name: str, data: bytes, **extra) -> httpx.Response:
    body = {"name": name, "audio": base64.b64encode(data).decode(), **extra}
    return httpx.post(f"{server.url}/v1/voices", json=body, timeout=60)


def _speak(server, voice: str, seed: int = 7, sample: bytes | None = None) -> np.ndarray:
    body = infer_body(["Hello from a cloned voice."], voice=voice, seed=seed)
    if sample is not None:
        body["inputs"].append(
            {"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(sample).decode()]}
        )
        if voice is None:
            del body["parameters"]["voice"]
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=60)
    assert res.status_code == 200, res.text
    return decode_wav(res.json()["outputs"][0]["data"][0])[0]


def test_catalogue_says_which_voices_can_clone(server):
    voices = {v["id"]: v for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]}
    assert "cloning" in voices["ann"]["capabilities"] and "cloning" in voices["bob"]["capabilities"]
    assert "cloning" not in voices["en_US-joe-medium"]["capabilities"]


def test_upload_use_delete(server, sample):
    res = _upload(server, "narrator", sample)
    assert res.status_code == 201, res.text
    assert res.headers["location"] == "/v1/voices/narrator"
    meta = res.json()
    assert meta["model"] == "yourtts" and "cloned" in meta["capabilities"] and 3 < meta["sample_seconds"] < 30

    listed = {v["id"]: v for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]}
    assert "cloned" in listed["narrator"]["capabilities"]
    assert httpx.get(f"{server.url}/v1/voices/narrator", timeout=10).json()["sample_rate_in"] == 22050

    cloned = _speak(server, "narrator")
    assert np.array_equal(cloned, _speak(server, "narrator")), "same voice and seed: same waveform"
    built_in = _speak(server, "ann")
    assert cloned.shape != built_in.shape or not np.allclose(cloned, built_in), "a cloned voice is not a built-in one"
    # the same sample sent per request clones to the same embedding, hence the same waveform
    assert np.array_equal(cloned, _speak(server, None, sample=sample))

    assert httpx.delete(f"{server.url}/v1/voices/narrator", timeout=10).status_code == 204
    assert httpx.get(f"{server.url}/v1/voices/narrator", timeout=10).status_code == 404
    assert httpx.delete(f"{server.url}/v1/voices/narrator", timeout=10).status_code == 404
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(["Gone?"], voice="narrator"), timeout=30)
    assert res.status_code == 400 and "unknown voice 'narrator'" in res.json()["error"]


def test_multipart_upload(server, sample):
    res = httpx.post(
        f"{server.url}/v1/voices",
        data={"name": "form-voice"},
        files={"file": ("me.wav", sample, "audio/wav")},
        timeout=60,
    )
    assert res.status_code == 201, res.text
    assert httpx.delete(f"{server.url}/v1/voices/form-voice", timeout=10).status_code == 204


def test_bad_uploads_are_400_naming_the_problem(server, sample):
    speech, rate = sf.read(io.BytesIO(sample), dtype="float32")
    tone = 0.3 * np.sin(2 * np.pi * 200 * np.arange(8000 * 5) / 8000)
    cases = {
        "not audio": (_upload(server, "x1", b"this is not audio at all" * 100), "audio: not a decodable audio file"),
        "too short": (
            _upload(server, "x2", _wav(speech[:rate], rate)),
            "1.0 s of audio; a voice sample must be 3-30 s",
        ),
        "too long": (_upload(server, "x3", _wav(np.tile(speech, 8)[: rate * 31], rate)), "31.0 s of audio"),
        "rate": (_upload(server, "x4", _wav(tone, 8000)), "sample rate 8000 Hz is too low"),
        "silent": (_upload(server, "x5", _wav(np.zeros(rate * 4), rate)), "the audio is silent"),
        "name": (_upload(server, "Bad Name!", sample), "'Bad Name!' is not a valid voice id"),
        "base64": (
            httpx.post(f"{server.url}/v1/voices", json={"name": "x6", "audio": "%%%"}, timeout=10),
            "audio: not base64",
        ),
        "field": (
            httpx.post(f"{server.url}/v1/voices", json={"name": "x7", "audio": "", "speed": 2}, timeout=10),
            "unknown field(s) ['speed']",
        ),
        "model": (_upload(server, "x8", sample, model="en_US-joe-medium"), "model: 'en_US-joe-medium' cannot clone"),
    }
    for case, (res, message) in cases.items():
        assert res.status_code == 400 and message in res.json()["error"]["message"], (case, res.text)
    big = httpx.post(f"{server.url}/v1/voices", content=b"x" * (5 * 2**20), timeout=30)
    assert big.status_code == 413 and "TTS_VOICE_UPLOAD_MAX_BYTES" in big.json()["error"]["message"]
    listed = {v["id"] for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]}
    assert not {f"x{i}" for i in range(1, 9)} & listed, "nothing half-made is left behind"


def test_name_clash_and_full_store_are_409(server, sample):
    assert _upload(server, "ann", sample).status_code == 409, "a built-in voice id is taken"
    assert _upload(server, "one", sample).status_code == 201
    assert _upload(server, "one", sample).status_code == 409
    assert _upload(server, "two", sample).status_code == 201
    full = _upload(server, "three", sample)
    assert full.status_code == 409 and "TTS_MAX_CLONED_VOICES" in full.json()["error"]["message"]
    for name in ("one", "two"):
        assert httpx.delete(f"{server.url}/v1/voices/{name}", timeout=10).status_code == 204


def test_built_in_voices_cannot_be_deleted(server):
    assert httpx.delete(f"{server.url}/v1/voices/ann", timeout=10).status_code == 404
    assert httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"][0]["id"] == "en_US-joe-medium"


def test_per_request_sample_needs_a_cloning_model(server, sample):
    body = infer_body(["Clone me."], voice="en_US-joe-medium")
    body["inputs"].append(
        {"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(sample).decode()]}
    )
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=60)
    assert res.status_code == 400 and "belongs to a model that cannot clone" in res.json()["error"]
    body["inputs"][-1]["shape"] = [2]
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=60)
    assert res.status_code == 400 and "speaker_wav: shape must be [1]" in res.json()["error"]

    body = infer_body(["Clone me."])
    body["inputs"].append({"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": ["%%% not base64"]})
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=60)
    assert res.status_code == 400 and "speaker_wav: not base64" in res.json()["error"]
    speech, rate = sf.read(io.BytesIO(sample), dtype="float32")
    body["inputs"][-1]["data"] = [base64.b64encode(_wav(speech[:rate], rate)).decode()]
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=60)
    assert (
        res.status_code == 400 and "speaker_wav: 1.0 s of audio; a voice sample must be 3-30 s" in res.json()["error"]
    )


def test_stored_voices_survive_a_restart(cloning_model, store, server, sample):
    assert _upload(server, "keeper", sample).status_code == 201
    before = _speak(server, "keeper")
    second = _start(cloning_model, store)
    try:
        assert "keeper" in {v["id"] for v in httpx.get(f"{second.url}/v1/voices", timeout=10).json()["voices"]}
        assert np.array_equal(before, _speak(second, "keeper"))
    finally:
        second.stop()
        httpx.delete(f"{server.url}/v1/voices/keeper", timeout=10)


def test_per_request_sample_over_grpc_as_raw_bytes(server, sample):
    from kserve import InferInput, InferRequest

    text = InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array([b"Hello from a cloned voice."], dtype=np.object_), binary_data=True)
    reference = InferInput("speaker_wav", [1], "BYTES")
    reference.set_data_from_numpy(
        np.array([sample], dtype=np.object_), binary_data=True
    )  # raw file bytes (all inputs raw: kserve rule)
    request = InferRequest(model_name="tts", infer_inputs=[text, reference], parameters={"seed": 7})

    audio = grpc_audio(server.grpc_url, request)
    assert np.array_equal(decode_wav(audio)[0], _speak(server, None, sample=sample)), "gRPC and REST clone alike"


def test_consent_record_stored_and_returned(server, sample):
    res = _upload(server, "consented", sample, consent={"accepted": True, "statement": "I am the speaker and I agree."})
    assert res.status_code == 201, res.text
    try:
        record = httpx.get(f"{server.url}/v1/voices/consented", timeout=10).json()["consent"]
        assert record["statement"] == "I am the speaker and I agree." and record["uploaded_by"] == "anonymous"
        assert (
            record["accepted"] is True and record["accepted_at"].endswith("Z") and len(record["statement_sha256"]) == 64
        )
    finally:
        httpx.delete(f"{server.url}/v1/voices/consented", timeout=10)
    refused = _upload(server, "unconsented", sample, consent=False)
    assert refused.status_code == 400 and refused.json()["error"]["message"].startswith("consent:")
