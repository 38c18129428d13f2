"""SSML, normalization, formats and timings through the one pipeline: in-process and as predictor + transformer."""

from __future__ import annotations

import base64
import io
import json

import httpx
import numpy as np
import pytest
import soundfile as sf
from decode_helpers import decode_audio
from fastapi import FastAPI, Request
from server_process import TransformerProcess, free_port
from standins import ThreadedServer
from v2_helpers import infer_body

pytestmark = pytest.mark.slow

SSML = '<speak>Hello <break time="700ms"/> it costs $3.50 on 2024-03-05. <mark name="end"/>Done.</speak>'


@pytest.fixture(scope="module")
def transformers(embedded_server):
    rest = TransformerProcess(args=["--predictor_host", f"127.0.0.1:{embedded_server.http_port}"]).start()
    grpc = TransformerProcess(
        args=["--predictor_host", f"127.0.0.1:{embedded_server.grpc_port}", "--predictor_protocol", "grpc-v2"]
    ).start()
    yield {"rest": rest, "grpc": grpc}
    rest.stop()
    grpc.stop()


def _targets(embedded_server, transformers) -> dict:
    return {
        "in-process": embedded_server,
        "transformer-rest": transformers["rest"],
        "transformer-grpc": transformers["grpc"],
    }


def _infer(server, texts, **params) -> dict:
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(texts, **params), timeout=120)
    assert res.status_code == 200, res.text
    return {o["name"]: o for o in res.json()["outputs"]}


@pytest.mark.parametrize("target", ["in-process", "transformer-rest", "transformer-grpc"])
def test_ssml_plan_timings_and_marks(embedded_server, transformers, target):
    server = _targets(embedded_server, transformers)[target]
    out = _infer(server, [SSML], format="mp3", timings=True)
    assert out["audio"]["parameters"] == {"media_type": "audio/mpeg", "content_type": "base64"}
    assert base64.b64decode(out["audio"]["data"][0])[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    timings = json.loads(out["timings"]["data"][0])
    marks = json.loads(out["marks"]["data"][0])
    assert [t["text"] for t in timings][
        1
    ] == "it costs three dollars and fifty cents on March fifth, twenty twenty-four."
    assert timings[1]["start_s"] - timings[0]["end_s"] == pytest.approx(0.7, abs=0.03)  # <break time="700ms"/>
    assert marks == [{"name": "end", "time_s": timings[2]["start_s"]}]


@pytest.mark.parametrize("target", ["in-process", "transformer-rest"])
def test_prosody_rate_half_doubles_duration(embedded_server, transformers, target):
    server = _targets(embedded_server, transformers)[target]
    text = "The quick brown fox jumps over the lazy dog near the river bank."
    normal = _infer(server, [f"<speak>{text}</speak>"])["duration_s"]["data"][0]
    slow = _infer(server, [f'<speak><prosody rate="50%">{text}</prosody></speak>'])["duration_s"]["data"][0]
    assert 1.6 < slow / normal < 2.4


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "ogg", "opus", "aac", "pcm", "mulaw", "alaw"])
def test_every_format_through_the_transformer(transformers, fmt):
    """Each format decodes (ffmpeg; libsndfile for the headerless ones) to speech of the reported rate and length."""
    out = _infer(transformers["rest"], ["Testing every format."], format=fmt)
    data = base64.b64decode(out["audio"]["data"][0])
    rate, duration = out["sample_rate"]["data"][0], out["duration_s"]["data"][0]
    raw = {"pcm": "PCM_16", "mulaw": "ULAW", "alaw": "ALAW"}
    if fmt in raw:
        samples, decoded_rate = sf.read(io.BytesIO(data), samplerate=rate, channels=1, format="RAW", subtype=raw[fmt])
    else:
        samples, decoded_rate = decode_audio(data)
    # Opus always decodes at 48 kHz (RFC 7845 section 5.1: the header's rate is informational)
    assert decoded_rate == (48000 if fmt == "opus" else rate) and (rate == 8000 or fmt not in ("mulaw", "alaw"))
    # codec priming and frame padding add at most ~0.1 s (AAC: 2048 samples); "Testing every format." is > 1 s
    assert len(samples) / decoded_rate == pytest.approx(duration, abs=0.15) and duration > 1.0
    assert np.sqrt(np.mean(np.square(samples))) > 0.01  # speech, not silence


def test_normalization_can_be_turned_off(embedded_server):
    on = _infer(embedded_server, ["It costs $1,234,567.89 today."], timings=True)
    off = _infer(embedded_server, ["It costs $1,234,567.89 today."], timings=True, normalize=False)
    assert "million" in json.loads(on["timings"]["data"][0])[0]["text"]
    assert "$1,234,567.89" in json.loads(off["timings"]["data"][0])[0]["text"]


def test_transformer_passes_predictor_400s(transformers):
    res = httpx.post(
        f"{transformers['rest'].url}/v2/models/tts/infer",
        json=infer_body(['<speak><voice name="nobody">Hi</voice></speak>']),
        timeout=60,
    )
    assert res.status_code == 400 and "valid voices" in res.json()["error"]
    res = httpx.post(f"{transformers['rest'].url}/v2/models/tts/infer", json=infer_body(["<speak>broken"]), timeout=60)
    assert res.status_code == 400 and "SSML" in res.json()["error"]


@pytest.mark.parametrize("path", ["rest", "grpc"])
def test_sampling_knobs_reach_the_predictor(transformers, path):
    """Forwarded as parameters (floats as strings: kserve's gRPC has no double); the Piper predictor refuses them."""
    res = httpx.post(
        f"{transformers[path].url}/v2/models/tts/infer",
        json=infer_body(["Hello."], temperature=0.5, top_k=5),
        timeout=60,
    )
    assert res.status_code == 400 and "temperature: voice 'en_US-joe-medium' (onnx)" in res.json()["error"], res.text


def test_per_request_voice_samples_are_refused_with_the_way_around(transformers):
    body = infer_body(["Clone me."])
    body["inputs"].append({"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": ["UklGRg=="]})
    res = httpx.post(f"{transformers['rest'].url}/v2/models/tts/infer", json=body, timeout=60)
    assert res.status_code == 400 and "store the voice once with POST /v1/voices" in res.json()["error"]


def test_predictor_down_gives_503_with_retry_after():
    orphan = TransformerProcess(args=["--predictor_host", f"127.0.0.1:{free_port()}"]).start()
    try:
        res = httpx.post(f"{orphan.url}/v2/models/tts/infer", json=infer_body(["Anyone there?"]), timeout=60)
        assert res.status_code == 503 and res.headers["retry-after"]
        assert "predictor" in res.json()["error"]
    finally:
        orphan.stop()


# ---- the transformer as KServe expects it -----------------------------------------------------------------


def test_metadata_matches_the_predictor(embedded_server, transformers):
    ours = httpx.get(f"{transformers['rest'].url}/v2/models/tts", timeout=30).json()
    theirs = httpx.get(f"{embedded_server.url}/v2/models/tts", timeout=30).json()
    assert ours["inputs"] == theirs["inputs"] and ours["outputs"] == theirs["outputs"]
    assert {i["name"] for i in ours["inputs"]} >= {"text", "voice", "language", "speed"}


@pytest.mark.parametrize("path", ["/v2/models/tts/voices", "/v1/voices", "/v1/voices?language=en"])
def test_voice_listings_through_the_transformer(embedded_server, transformers, path):
    ours = httpx.get(f"{transformers['rest'].url}{path}", timeout=30)
    assert ours.status_code == 200, ours.text
    assert ours.json() == httpx.get(f"{embedded_server.url}{path}", timeout=30).json()


def test_voice_listings_need_a_rest_predictor(transformers):
    answer = httpx.get(f"{transformers['grpc'].url}/v2/models/tts/voices", timeout=30)
    assert answer.status_code == 501 and "--predictor_protocol v2" in answer.json()["error"]


def test_transformer_takes_a_previous_steps_response(transformers):
    """In an InferenceGraph with a transformer, the TTS step POSTs the previous step's V2 *response* here."""
    body = {
        "model_name": "translator",
        "id": "r-1",
        "parameters": {"beam_size": 4},
        "outputs": [{"name": "translation", "datatype": "BYTES", "shape": [1], "data": ["Good morning."]}],
    }
    answer = httpx.post(f"{transformers['rest'].url}/v2/models/tts/infer", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == "r-1"


@pytest.fixture(scope="module")
def recording_predictor():
    """A stand-in predictor that records the headers of each segment call (the real one does not expose
    them) and answers 0.1 s of silence per segment."""
    seen: list[dict[str, str]] = []
    app = FastAPI()

    @app.post("/v2/models/tts/infer")
    async def infer(request: Request):
        seen.append(dict(request.headers))
        n = len((await request.json())["inputs"][0]["data"])
        pcm = base64.b64encode(b"\0\0" * 2205).decode()
        return {
            "model_name": "tts",
            "outputs": [
                {"name": "audio", "datatype": "BYTES", "shape": [n], "data": [pcm] * n},
                {"name": "sample_rate", "datatype": "INT32", "shape": [n], "data": [22050] * n},
            ],
        }

    server = ThreadedServer(app).start()
    yield server, seen
    server.stop()


@pytest.mark.parametrize("service_key", [None, "svc-key"], ids=["caller-credentials", "explicit-service-key"])
def test_caller_auth_and_trace_headers_reach_the_predictor(recording_predictor, service_key):
    server, seen = recording_predictor
    env = {"TTS_API_KEYS": "user-key", **({"TTS_PREDICTOR_API_KEY": service_key} if service_key else {})}
    transformer = TransformerProcess(env=env, args=["--predictor_host", f"127.0.0.1:{server.port}"]).start()
    try:
        seen.clear()
        trace = {
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "x-b3-traceid": "463ac35c9f6413ad",
            "x-b3-spanid": "a2fb4a1d1a96d312",
            "x-b3-sampled": "1",
        }
        headers = {"Authorization": "Bearer user-key", "X-Request-Id": "req-42", "X-Other": "no", **trace}
        answer = httpx.post(
            f"{transformer.url}/v2/models/tts/infer", json=infer_body(["Hello there."]), headers=headers, timeout=60
        )
        assert answer.status_code == 200, answer.text
        assert seen and all(h["authorization"] == f"Bearer {service_key or 'user-key'}" for h in seen)
        assert all(h["x-request-id"] == "req-42" and "x-other" not in h for h in seen)
        assert all({k: h.get(k) for k in trace} == trace for h in seen)
    finally:
        transformer.stop()


@pytest.mark.parametrize("role", ["transformer", "serve"])
def test_workers_refused_with_a_message(role):
    import subprocess
    import sys

    from server_process import REPO

    done = subprocess.run(
        [sys.executable, "-m", "tts_predictor", role, "--workers", "4", "--predictor_host", "x:1"]
        if role == "transformer"
        else [sys.executable, "-m", "tts_predictor", role, "--workers", "4"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0 and "--workers 4 is not supported" in done.stderr
    assert "pickle" not in done.stderr
