"""Tortoise served for real: a tiny random-weight Tortoise of the real architecture through the real server.

The model (`devtools/coqui_tortoise.py`) is built from Coqui's `TortoiseConfig`/`TortoiseArgs`:
UnifiedVoice GPT, DiffusionTts, CLVP and the real UnivNet vocoder, saved in the layout Coqui's catalogue
downloads (`.models/*.pth`, `data/mel_norms.pth`), with one voice as a Coqui voice file and one as a Tortoise
voice folder of clips. One server serves it from its directory and, by Coqui's catalogue name, from a pre-filled
Hugging Face cache; it runs with Hugging Face offline: nothing is downloaded. Its voices are slow
(`"realtime": false`) and TTS_MAX_SLOW_REQUESTS admits one request for them at a time.
"""

from __future__ import annotations

import asyncio
import base64
import io
import shutil

import httpx
import numpy as np
import pytest
import soundfile as sf
from server_process import ServerProcess
from v2_helpers import decode_wav, grpc_audio, infer_body

pytestmark = pytest.mark.slow

RATE = 24000
"""Tortoise's output rate (its UnivNet vocoder's)."""
OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
CATALOGUE_NAME = "tts_models/en/multi-dataset/tortoise-v2"
CATALOGUE_VOICE = CATALOGUE_NAME.replace("/", "--")


@pytest.fixture(scope="module")
def tortoise(tmp_path_factory):
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_tortoise import build_tortoise

    return build_tortoise(tmp_path_factory.mktemp("tortoise") / "tortoise")


@pytest.fixture(scope="module")
def catalogue_homes(tortoise, tmp_path_factory):
    """HF_HOME and TTS_HOME as Coqui's `tortoise-v2` entry leaves them: the weights as the `jbetker/tortoise-tts-v2`
    snapshot (only its `.models/` and `data/`, no voices), the config in TTS_HOME (Coqui writes a full-size default
    there unless one is present, so the tiny one is pre-filled)."""
    from devtools.coqui_catalogue import fill_hf_cache

    root = tmp_path_factory.mktemp("tortoise-catalogue")
    weights = root / "weights"
    for part in (".models", "data"):
        shutil.copytree(tortoise / part, weights / part)
    fill_hf_cache(root / "hf-home", "jbetker/tortoise-tts-v2", weights)
    config_dir = root / "tts-home" / "tts" / CATALOGUE_NAME.replace("/", "--")  # Coqui's TTS_HOME/tts/<name>
    config_dir.mkdir(parents=True)
    shutil.copy(tortoise / "config.json", config_dir / "config.json")
    return {"HF_HOME": str(root / "hf-home"), "TTS_HOME": str(root / "tts-home")}


@pytest.fixture(scope="module")
def server(tortoise, catalogue_homes, tmp_path_factory):
    proc = ServerProcess(
        env={
            "TTS_MODEL": f"{tortoise},{CATALOGUE_NAME}",
            "TTS_DEVICE": "cpu",
            "TTS_MAX_SLOW_REQUESTS": "1",
            "TTS_CACHE_MAX_BYTES": "0",
            "TTS_CLONED_VOICES_DIR": str(tmp_path_factory.mktemp("cloned")),
            **catalogue_homes,
            **OFFLINE,
        }
    ).start()
    yield proc
    proc.stop()


def _sample() -> str:
    """Four seconds of noise as a base64 WAV (a voice sample must be 3-30 s)."""
    out = io.BytesIO()
    noise = 0.1 * np.random.default_rng(5).standard_normal(4 * 16000)
    sf.write(out, noise.astype(np.float32), 16000, format="WAV", subtype="PCM_16")
    return base64.b64encode(out.getvalue()).decode()


def _infer(server, body: dict) -> np.ndarray:
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=120)
    assert res.status_code == 200, res.text
    samples, rate = decode_wav(res.json()["outputs"][0]["data"][0])
    assert rate == RATE and len(samples) > 0.5 * RATE
    return samples


def test_voices_are_listed_slow_with_what_they_can_do(server):
    listed = {
        v["id"]: v
        for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]
        if v["quality"] != "formant"
    }  # the espeak-ng fallback voices are listed after the models

    assert set(listed) == {"tiny-file", "tiny-folder", CATALOGUE_VOICE}, "voices/<id>.pth, voices/<name>/*.wav"
    for voice in listed.values():
        assert voice["realtime"] is False and voice["sample_rate"] == RATE and voice["languages"] == ["en"]
        assert voice["capabilities"] == ["seed", "cloning"], "no speed: Tortoise has no length control"


def test_v2_rest_speaks_and_a_seed_repeats(server):
    first = _infer(server, infer_body(["Hello there."], voice="tiny-file", seed=11))
    again = _infer(server, infer_body(["Hello there."], voice="tiny-file", seed=11))
    assert np.array_equal(first, again), "the request's seed reaches Tortoise (which re-seeds torch itself)"
    unseeded = _infer(server, infer_body(["Hello there."], voice="tiny-file"))
    assert not np.array_equal(first, unseeded)


def test_v2_grpc_with_a_voice_folder(server):
    from kserve import InferInput, InferRequest

    text = InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array([b"Hello over gRPC."], dtype=np.object_), binary_data=True)
    request = InferRequest(model_name="tts", infer_inputs=[text], parameters={"voice": "tiny-folder"})
    samples, rate = decode_wav(grpc_audio(server.grpc_url, request))
    assert rate == RATE and len(samples) > 0.5 * RATE


def test_cloning_from_a_request_sample_and_a_stored_voice(server):
    body = infer_body(["Hello from a sample."], voice="tiny-file", seed=3)
    body["inputs"].append({"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [_sample()]})
    cloned = _infer(server, body)
    assert not np.array_equal(cloned, _infer(server, infer_body(["Hello from a sample."], voice="tiny-file", seed=3)))

    res = httpx.post(f"{server.url}/v1/voices", json={"name": "narrator", "audio": _sample()}, timeout=60)
    assert res.status_code == 201, res.text
    assert res.json()["realtime"] is False and "cloned" in res.json()["capabilities"]
    _infer(server, infer_body(["Hello from a stored voice."], voice="narrator"))


def test_speed_is_refused_naming_the_field(server):
    res = httpx.post(
        f"{server.url}/v2/models/tts/infer", json=infer_body(["Hi."], voice="tiny-file", speed=1.5), timeout=30
    )
    assert res.status_code == 400 and "speed" in res.json()["error"]


def test_a_sentence_too_long_for_tortoise_is_a_400_naming_the_field(tmp_path):
    """Coqui asserts fewer than 400 text tokens per sentence (an AssertionError would be a 500). The server's
    chunks (<= 400 characters) seldom get there, so the check runs on the real tokenizer in process."""
    from types import SimpleNamespace

    from TTS.tts.layers.tortoise.tokenizer import VoiceBpeTokenizer

    from tts_predictor.engines.base import SynthesisRequest, Voice
    from tts_predictor.engines.coqui.tortoise import TortoiseVoices
    from tts_predictor.errors import TextTooLong

    voices = TortoiseVoices(
        SimpleNamespace(tokenizer=VoiceBpeTokenizer()), tmp_path, tmp_path / "voices", "cpu", lambda text: [text]
    )
    voice = Voice("v", ("en",), "coqui", RATE, speaker="v")
    with pytest.raises(TextTooLong, match="^text: a sentence of 399 characters makes 399 Tortoise text tokens"):
        voices.settings(SynthesisRequest("x" * 399, voice))


@pytest.mark.parametrize(
    "content, reason",
    [(b"not a pickle", "not a voice file torch can read"), ({"auto_conditioning": 1}, "not a Tortoise voice")],
)
def test_a_voice_file_that_is_not_a_tortoise_voice_is_refused_at_start(tmp_path, content, reason):
    import torch

    from tts_predictor.engines.coqui.tortoise import TortoiseVoices
    from tts_predictor.errors import ModelLoadError

    voices = tmp_path / "model" / "voices"
    voices.mkdir(parents=True)
    if isinstance(content, bytes):
        (voices / "broken.pth").write_bytes(content)
    else:
        torch.save(content, voices / "broken.pth")
    with pytest.raises(ModelLoadError, match=f"^voices/broken.pth: {reason}"):
        TortoiseVoices(None, tmp_path / "model", tmp_path / "cache", "cpu", lambda text: [text])


def test_slow_admission_runs_one_tortoise_request_at_a_time(server):
    text = "One sentence here. Another sentence there. A third one follows. And a fourth."

    async def burst():
        async with httpx.AsyncClient(timeout=120) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{server.url}/v2/models/tts/infer", json=infer_body([text], voice="tiny-folder"))
                    for _ in range(3)
                )
            )

    answers = asyncio.run(burst())
    statuses = sorted(r.status_code for r in answers)
    assert statuses[0] == 200 and 429 in statuses, statuses
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.headers["retry-after"] == "10" and "TTS_MAX_SLOW_REQUESTS=1" in refused.json()["error"]


def test_by_catalogue_name_without_voices_it_clones_or_asks_for_a_sample(server):
    """Coqui's own `tortoise-v2` entry from a pre-filled hub cache; its snapshot has no voices/ and the random-voice
    files (rlg_*.pth) are not built tiny, so the model's voice needs a sample: a clear 400 without one."""
    res = httpx.post(
        f"{server.url}/v2/models/tts/infer", json=infer_body(["Hello."], voice=CATALOGUE_VOICE), timeout=30
    )
    assert res.status_code == 400 and "no built-in voices" in res.json()["error"]
    assert "clone a voice with POST /v1/voices or send speaker_wav" in res.json()["error"]
    body = infer_body(["Hello from the catalogue."], voice=CATALOGUE_VOICE)
    body["inputs"].append({"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [_sample()]})
    _infer(server, body)


def test_redaction_is_refused_unless_its_models_are_cached(monkeypatch):
    """`enable_redaction` makes Coqui download three wav2vec repositories at load: refused, named."""
    from tts_predictor.engines.coqui.tortoise import check_redaction
    from tts_predictor.errors import ModelLoadError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    check_redaction({"model": "tortoise", "model_args": {"enable_redaction": False}})
    with pytest.raises(ModelLoadError, match="enable_redaction.*jbetker/wav2vec2-large-robust-ft-libritts-voxpopuli"):
        check_redaction({"model": "tortoise", "model_args": {"enable_redaction": True}})
