"""Coqui Bark served for real: a tiny Bark of the real architecture through the real server, slow and admitted so.

The model (devtools/coqui_bark_model.py) is Coqui's own GPT/FineGPT checkpoints with random weights
and the released vocabulary sizes, plus a tiny BERT tokenizer and Encodec in a Hugging Face cache the server reads
offline. It is served twice: by coqui-tts's own catalogue name (its entry is the hub repository `erogol/bark`,
here in the same cache, with a speaker prompt in `voices/`) and from a plain directory without speaker prompts.
The tiny model never emits Bark's end token, so every sentence would run to Bark's own limit (768 semantic tokens,
about 15 s of audio, 2-8 s of compute here); TTS_BARK_MAX_SECONDS=1 (Bark's `max_gen_duration_s`) stops each at
1 s, which also shows the setting reaches the model. The server gets an unreachable proxy, so a download that
Coqui or the hub tried would fail the start instead of passing unnoticed.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil

import httpx
import numpy as np
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, grpc_audio, infer_body

pytestmark = pytest.mark.slow

BARK = "tts_models/multilingual/multi-dataset/bark"
SPEAKER = "en_speaker_0"
RATE = 24000
MAX_SECONDS = 1.0
BURST = "One sentence. Another sentence. A third one."


def _digest(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def bark(tmp_path_factory):
    """An HF_HOME holding the tiny Bark as `erogol/bark` (one speaker prompt) with its tokenizer and Encodec, and a
    copy of the model as a plain directory without prompts."""
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from devtools.coqui_bark_model import build_bark
    from devtools.coqui_catalogue import fill_hf_cache

    root = tmp_path_factory.mktemp("bark")
    model = build_bark(root / "bark", root / "hf-home", speakers=(SPEAKER,))
    snapshot = fill_hf_cache(root / "hf-home", "erogol/bark", model)  # the catalogue entry's repository
    bare = root / "bark-bare"  # a mounted directory without speaker prompts: the model itself is the voice
    shutil.copytree(model, bare, ignore=shutil.ignore_patterns("voices"))
    return {
        "snapshot": snapshot,
        "bare": bare,
        "hf_home": root / "hf-home",
        "digests": {p.name: _digest(p) for p in snapshot.glob("*.pt")},
    }


@pytest.fixture(scope="module")
def server(bark, tmp_path_factory):
    unreachable = "http://127.0.0.1:9"  # discard port: any download attempt fails at once
    proc = ServerProcess(
        env={
            "TTS_MODEL": f"{BARK},{bark['bare']}",
            "TTS_HOME": str(tmp_path_factory.mktemp("tts-home")),
            "TTS_DEVICE": "cpu",
            "TTS_CACHE_MAX_BYTES": "0",
            "TTS_MAX_SLOW_REQUESTS": "1",
            "TTS_BARK_MAX_SECONDS": str(MAX_SECONDS),
            "HF_HOME": str(bark["hf_home"]),
            "HF_HUB_OFFLINE": "1",
            "HTTP_PROXY": unreachable,
            "HTTPS_PROXY": unreachable,
            "NO_PROXY": "127.0.0.1,localhost",
        }
    ).start()
    yield proc
    proc.stop()


def test_bark_voices_are_listed_slow_and_its_files_stay_untouched(server, bark):
    voices = {
        v["id"]: v
        for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]
        if v["quality"] != "formant"
    }  # the espeak-ng fallback voices are listed after the models

    assert set(voices) == {SPEAKER, "bark-bare"}, "a speaker prompt in voices/ is a voice; without any, the model"
    for voice in voices.values():
        assert voice["realtime"] is False and voice["sample_rate"] == RATE
        assert len(voice["languages"]) == 13 and voice["languages"][0] == "en"
        assert "speed" not in voice["capabilities"] and "cloning" not in voice["capabilities"]
    index = httpx.post(f"{server.url}/v2/repository/index", timeout=10).json()
    assert {"tts_models--multilingual--multi-dataset--bark", "bark-bare"} <= {m["name"] for m in index}
    after = {p.name: _digest(p) for p in bark["snapshot"].glob("*.pt")}
    assert after == bark["digests"], "Coqui's MD5 check would have deleted these non-release checkpoints"


def test_bark_answers_v2_rest_and_grpc_alike_for_one_seed_and_speaker_prompt(server):
    from kserve import InferInput, InferRequest

    res = httpx.post(
        f"{server.url}/v2/models/tts/infer", timeout=120, json=infer_body(["Hello there."], voice=SPEAKER, seed=7)
    )
    assert res.status_code == 200, res.text
    rest, rate = decode_wav(res.json()["outputs"][0]["data"][0])
    seconds = len(rest) / RATE  # Bark's audio, then Coqui's 10000-sample pause after each sentence
    assert rate == RATE and MAX_SECONDS - 0.1 < seconds < MAX_SECONDS + 1, "TTS_BARK_MAX_SECONDS cut the sentence"

    text = InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array([b"Hello there."], dtype=np.object_), binary_data=True)
    request = InferRequest(model_name="tts", infer_inputs=[text], parameters={"voice": SPEAKER, "seed": 7})
    grpc, rate = decode_wav(grpc_audio(server.grpc_url, request))
    assert rate == RATE and np.array_equal(grpc, rest), "same seed, same Bark audio over either protocol"

    res = httpx.post(
        f"{server.url}/v2/models/tts/infer",
        timeout=120,
        json=infer_body(["Hello there."], voice="bark-bare", seed=7, language="de"),
    )
    assert res.status_code == 200, res.text  # Bark's languages may be named; Bark reads them from the text
    unprompted, _ = decode_wav(res.json()["outputs"][0]["data"][0])
    assert not np.array_equal(unprompted, rest), "the same weights without the speaker prompt: other audio"


def test_bark_has_no_speed_control(server):
    res = httpx.post(
        f"{server.url}/v2/models/tts/infer", timeout=60, json=infer_body(["Hi."], voice=SPEAKER, speed=1.5)
    )
    assert res.status_code == 400 and "speed" in res.json()["error"]


def test_bark_requests_are_admitted_one_at_a_time(server):
    async def burst():
        async with httpx.AsyncClient(timeout=120) as client:
            return await asyncio.gather(
                *(
                    client.post(f"{server.url}/v2/models/tts/infer", json=infer_body([BURST], voice="bark-bare"))
                    for _ in range(3)
                )
            )

    answers = asyncio.run(burst())
    statuses = sorted(r.status_code for r in answers)
    assert statuses[0] == 200 and 429 in statuses, statuses
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.headers["retry-after"] == "10" and "TTS_MAX_SLOW_REQUESTS=1" in refused.json()["error"]


def test_bark_checkpoints_out_of_place_are_refused_before_coqui_could_download(bark, tmp_path, monkeypatch):
    """Coqui reads the three checkpoints next to config.json and would fetch any it does not find there."""
    import huggingface_hub.constants

    from tts_predictor.engines.coqui.engine import CoquiEngine
    from tts_predictor.errors import ModelLoadError

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(bark["hf_home"] / "hub"))  # read per call
    nested = tmp_path / "bark"
    shutil.copytree(bark["bare"], nested / "checkpoints", ignore=shutil.ignore_patterns("config.json"))
    shutil.copy(bark["bare"] / "config.json", nested)
    with pytest.raises(ModelLoadError, match="put text_2.pt, coarse_2.pt, fine_2.pt next to its config.json"):
        CoquiEngine(nested, device="cpu")
