"""SSML, normalization, formats and timings through the one pipeline: in-process and as predictor + transformer."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from server_process import TransformerProcess, free_port
from v2_helpers import infer_body

pytestmark = pytest.mark.slow

SSML = '<speak>Hello <break time="700ms"/> it costs $3.50 on 2024-03-05. <mark name="end"/>Done.</speak>'


@pytest.fixture(scope="module")
def transformers(embedded_server):
    rest = TransformerProcess(args=["--predictor_host", f"127.0.0.1:{embedded_server.http_port}"]).start()
    grpc = TransformerProcess(args=["--predictor_host", f"127.0.0.1:{embedded_server.grpc_port}",
                                    "--predictor_protocol", "grpc-v2"]).start()
    yield {"rest": rest, "grpc": grpc}
    rest.stop()
    grpc.stop()


def _targets(embedded_server, transformers) -> dict:
    return {"in-process": embedded_server, "transformer-rest": transformers["rest"], "transformer-grpc": transformers["grpc"]}


def _infer(server, texts, **params) -> dict:
    res = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(texts, **params), timeout=120)
    assert res.status_code == 200, res.text
    return {o["name"]: o for o in res.json()["outputs"]}


@pytest.mark.parametrize("target", ["in-process", "transformer-rest", "transformer-grpc"])
def test_ssml_plan_timings_and_marks(embedded_server, transformers, target):
    server = _targets(embedded_server, transformers)[target]
    out = _infer(server, [SSML], format="mp3", timings=True)
    assert out["audio"]["parameters"]["content_type"] == "audio/mpeg"
    assert base64.b64decode(out["audio"]["data"][0])[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    timings = json.loads(out["timings"]["data"][0])
    marks = json.loads(out["marks"]["data"][0])
    assert [t["text"] for t in timings][1] == "it costs three dollars and fifty cents on March fifth, twenty twenty-four."
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
    out = _infer(transformers["rest"], ["Testing every format."], format=fmt)
    data = base64.b64decode(out["audio"]["data"][0])
    assert len(data) > 500
    if fmt in ("mulaw", "alaw"):
        assert out["sample_rate"]["data"][0] == 8000


def test_normalization_can_be_turned_off(embedded_server):
    on = _infer(embedded_server, ["It costs $1,234,567.89 today."], timings=True)
    off = _infer(embedded_server, ["It costs $1,234,567.89 today."], timings=True, normalize=False)
    assert "million" in json.loads(on["timings"]["data"][0])[0]["text"]
    assert "$1,234,567.89" in json.loads(off["timings"]["data"][0])[0]["text"]


def test_transformer_passes_predictor_400s(transformers):
    res = httpx.post(f"{transformers['rest'].url}/v2/models/tts/infer",
                     json=infer_body(['<speak><voice name="nobody">Hi</voice></speak>']), timeout=60)
    assert res.status_code == 400 and "valid voices" in res.json()["error"]
    res = httpx.post(f"{transformers['rest'].url}/v2/models/tts/infer", json=infer_body(["<speak>broken"]), timeout=60)
    assert res.status_code == 400 and "SSML" in res.json()["error"]


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
