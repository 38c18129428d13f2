"""XTTS v2 over the real server: a tiny model of the real architecture (Coqui's XttsConfig, random weights).

The model directory is laid out like the catalogue's (config.json, model.pth, vocab.json, speakers_xtts.pth).
Random weights never emit the stop token, so every sentence is the GPT's maximum length (30 tokens, ~1.3 s);
what the tests prove is the plumbing: built-in speakers, languages, cloning, sampling knobs, seeds, REST and
gRPC, and audio streamed from inside one sentence. Served next to the embedded Piper voice, which has none of
XTTS's knobs (so the refusals are tested on the same server).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time

import httpx
import numpy as np
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, grpc_audio, infer_body

pytestmark = pytest.mark.slow
websockets = pytest.importorskip("websockets")

SPEAKER = "Ana Florence"
SAMPLE_TEXT = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs."


@pytest.fixture(scope="module")
def server(xtts_model, tmp_path_factory):
    proc = ServerProcess(
        env={
            "TTS_MODEL": f"embedded,{xtts_model}",
            "TTS_DEVICE": "cpu",
            "TTS_CACHE_MAX_BYTES": "0",
            "TTS_CLONED_VOICES_DIR": str(tmp_path_factory.mktemp("xtts-voices")),
        }
    ).start()
    yield proc
    proc.stop()


def _infer(server, texts, sample: bytes | None = None, **params) -> httpx.Response:
    body = infer_body(texts, **params)
    if sample is not None:
        body["inputs"].append(
            {"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(sample).decode()]}
        )
    return httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=300)


def _audio(res: httpx.Response) -> tuple[np.ndarray, int]:
    assert res.status_code == 200, res.text
    return decode_wav(res.json()["outputs"][0]["data"][0])


def test_built_in_speakers_languages_and_capabilities(server):
    voices = {v["id"]: v for v in httpx.get(f"{server.url}/v1/voices", timeout=10).json()["voices"]}
    assert {"Ana Florence", "Claribel Dervla"} <= set(voices)
    ana = voices[SPEAKER]
    assert len(ana["languages"]) == 17 and {"en", "fr", "zh-cn", "ja"} <= set(ana["languages"])
    assert ana["sample_rate"] == 24000
    assert {"speed", "seed", "sampling", "streaming", "cloning"} <= set(ana["capabilities"])
    assert "sampling" not in voices["en_US-joe-medium"]["capabilities"]


def test_v2_rest_speaker_language_seed_and_sampling(server):
    params = {
        "voice": SPEAKER,
        "language": "fr-FR",
        "seed": 3,
        "temperature": 0.6,
        "top_p": 0.9,
        "top_k": 20,
        "repetition_penalty": 5.0,
    }
    first, rate = _audio(_infer(server, ["Bonjour tout le monde."], **params))
    again, _ = _audio(_infer(server, ["Bonjour tout le monde."], **params))
    assert rate == 24000 and len(first) > 0.5 * rate
    assert np.array_equal(first, again), "same seed and knobs: same waveform"
    hotter, _ = _audio(_infer(server, ["Bonjour tout le monde."], **{**params, "temperature": 1.5}))
    assert hotter.shape != first.shape or not np.allclose(hotter, first), "temperature reaches the decoder"
    slow, _ = _audio(_infer(server, ["Bonjour tout le monde."], **{**params, "speed": 0.5}))
    assert len(slow) > 1.5 * len(first), "speed stretches XTTS's latents"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"voice": SPEAKER, "temperature": 0}, "parameters.temperature"),
        ({"voice": SPEAKER, "top_p": 1.5}, "parameters.top_p"),
        ({"voice": SPEAKER, "top_k": 0}, "parameters.top_k"),
        ({"voice": SPEAKER, "language": "sv"}, "supported: en"),
        ({"temperature": 0.5}, "temperature: voice 'en_US-joe-medium' (onnx) has no sampling decoder"),
        ({"repetition_penalty": 3.0}, "repetition_penalty: voice 'en_US-joe-medium'"),
    ],
)
def test_bad_knobs_and_knobs_on_other_engines_are_400(server, params, message):
    res = _infer(server, ["Hello."], **params)
    assert res.status_code == 400 and message in res.json()["error"], res.text


def test_v2_grpc_with_an_xtts_speaker(server):
    from kserve import InferInput, InferRequest

    text = InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array([b"Hello over gRPC."], dtype=np.object_), binary_data=True)
    request = InferRequest(
        model_name="tts", infer_inputs=[text], parameters={"voice": SPEAKER, "language": "en", "seed": 1, "top_k": 10}
    )

    samples, rate = decode_wav(grpc_audio(server.grpc_url, request, timeout=300))
    rest, _ = _audio(_infer(server, ["Hello over gRPC."], voice=SPEAKER, language="en", seed=1, top_k=10))
    assert rate == 24000 and np.array_equal(samples, rest), "gRPC and REST give the same audio"


@pytest.fixture(scope="module")
def sample(server) -> bytes:
    """About 5 s of real speech (the embedded Piper voice) as a WAV file."""
    res = httpx.post(f"{server.url}/synthesize", json={"text": SAMPLE_TEXT}, timeout=60)
    assert res.status_code == 200, res.text
    return res.content


def test_cloning_stored_and_per_request(server, sample):
    res = httpx.post(
        f"{server.url}/v1/voices", json={"name": "narrator", "audio": base64.b64encode(sample).decode()}, timeout=120
    )
    assert res.status_code == 201, res.text
    meta = res.json()
    assert "cloned" in meta["capabilities"] and "streaming" in meta["capabilities"] and len(meta["languages"]) == 17
    stored, _ = _audio(_infer(server, ["A cloned voice."], voice="narrator", language="de", seed=5))
    built_in, _ = _audio(_infer(server, ["A cloned voice."], voice=SPEAKER, language="de", seed=5))
    assert stored.shape != built_in.shape or not np.allclose(stored, built_in), "the clone conditions the model"
    per_request, _ = _audio(_infer(server, ["A cloned voice."], sample=sample, voice=SPEAKER, language="de", seed=5))
    assert np.array_equal(per_request, stored), "the same sample per request: the same latents, the same audio"
    assert httpx.delete(f"{server.url}/v1/voices/narrator", timeout=10).status_code == 204


def test_websocket_streams_pieces_of_one_sentence(server):
    """The first audio of a sentence arrives before that sentence's synthesis ends (its segment event)."""
    sentence = "This single sentence is long enough for the model to stream it in pieces."

    async def run():
        url = server.url.replace("http://", "ws://") + "/v1/stream"
        async with websockets.connect(url, max_size=None) as ws:
            await ws.send(json.dumps({"type": "config", "format": "pcm", "voice": SPEAKER, "language": "en"}))
            start = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "text", "text": sentence}))
            await ws.send(json.dumps({"type": "close"}))
            messages = []
            async for message in ws:
                messages.append(message if isinstance(message, bytes) else json.loads(message))
            return start, messages

    start, messages = asyncio.run(run())
    kinds = ["audio" if isinstance(m, bytes) else m["type"] for m in messages]
    assert start["sample_rate"] == 24000 and kinds[-2:] == ["segment", "end"]
    assert kinds.count("audio") >= 2 and kinds.index("segment") > 1, f"audio came whole, not in pieces: {kinds}"
    pcm = b"".join(m for m in messages if isinstance(m, bytes))
    assert messages[-1]["duration_s"] == pytest.approx(len(pcm) / 2 / 24000, abs=0.01)


def test_synthesize_and_openai_streams_carry_the_pieces(server):
    """Over HTTP too, one sentence's audio starts arriving well before the sentence is done (NDJSON on
    /synthesize, SSE on the OpenAI route: the framed forms of the same streams, so the sentence's end is seen).

    Audio sent whole is split into several messages too, so counting them proves nothing: what tells streaming
    from sending whole is when the first audio arrives. Whole, it comes with the segment event (milliseconds
    apart); streamed, most of the synthesis lies between them. The bound, a quarter of the request's time, is a
    ratio, so a slow machine slows both sides alike.
    """
    sentence = "This single sentence is long enough for the model to stream it in pieces."

    def arrivals(url: str, body: dict, headers: dict[str, str], audio: str, segment: str) -> tuple[float, float]:
        started, first_audio, segment_at = time.monotonic(), None, None
        with httpx.stream("POST", url, json=body, headers=headers, timeout=300) as res:
            assert res.status_code == 200, res.read()
            for line in res.iter_lines():
                message = line.removeprefix("data: ")  # NDJSON lines, or SSE data lines
                if not message.startswith("{"):
                    continue
                kind = json.loads(message)["type"]
                if kind == audio and first_audio is None:
                    first_audio = time.monotonic()
                elif kind == segment:
                    segment_at = time.monotonic()
        assert first_audio is not None and segment_at is not None
        return first_audio - started, segment_at - started

    options = {"voice": SPEAKER, "language": "en", "format": "pcm", "stream": True}
    first, done = arrivals(
        f"{server.url}/synthesize",
        {"text": sentence, "options": options},
        {"Accept": "application/x-ndjson"},
        "audio",
        "segment",
    )
    assert done - first > 0.25 * done, (first, done)
    body = {"model": "tts", "input": sentence, "voice": SPEAKER, "response_format": "pcm", "stream_format": "sse"}
    first, done = arrivals(f"{server.url}/v1/audio/speech", body, {}, "speech.audio.delta", "speech.audio.segment")
    assert done - first > 0.25 * done, (first, done)
