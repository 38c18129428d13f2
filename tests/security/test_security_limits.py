"""Security regressions (issue 14), limits side, against a real server: rate limits that a made-up key or
X-Forwarded-For cannot escape, one-request 5xx turned into 400s, bounded audio output and voice samples."""

from __future__ import annotations

import base64
import io
import json

import httpx
import numpy as np
import pytest
import soundfile as sf
from security_servers import (  # noqa: F401  (fixtures)
    AUTH,
    OPEN_MAX_AUDIO_S,
    OPEN_RATE_BURST,
    as_client,
    open_server,
    secured_server,
)
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow


def _v2(server, texts, headers=None, **params) -> httpx.Response:
    return httpx.post(
        f"{server.url}/v2/models/tts/infer", json=infer_body(texts, **params), headers=as_client(headers), timeout=120
    )


def test_rate_limit_is_per_peer_when_no_keys_are_configured(open_server):
    """From an untrusted peer (127.0.0.2), a new X-API-Key or X-Forwarded-For per request buys no new bucket."""
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, timeout=60) as client:
        codes = [
            client.post(
                f"{open_server.url}/v2/models/tts/infer",
                json={"inputs": []},
                headers={"X-API-Key": f"random-{i}", "X-Forwarded-For": f"203.0.113.{i}"},
            ).status_code
            for i in range(OPEN_RATE_BURST + 3)
        ]
    assert codes[:OPEN_RATE_BURST] == [400] * OPEN_RATE_BURST and codes[-1] == 429, codes
    # Through the trusted proxy (127.0.0.1) X-Forwarded-For names the client: another client is not limited.
    assert _v2(open_server, ["Hi."]).status_code == 200


# -- one request, no 5xx ---------------------------------------------------------------------------------------
def test_lone_surrogates_are_400_on_every_route(open_server):
    for route, body in (
        ("/synthesize", '{"text": "a\\ud800b"}'),
        ("/v1/audio/speech", '{"model": "tts-1", "input": "a\\udfffb", "voice": "alloy"}'),
        (
            "/v2/models/tts/infer",
            '{"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["a\\ud83d"]}]}',
        ),
    ):
        res = httpx.post(
            f"{open_server.url}{route}",
            content=body,
            headers=as_client({"content-type": "application/json"}),
            timeout=60,
        )
        assert res.status_code == 400 and "surrogate" in res.text, (route, res.text)


def test_huge_numbers_and_amounts_are_handled(open_server):
    res = _v2(open_server, ["1" * 4301])
    assert res.status_code == 400 and "digits" in res.json()["error"]
    res = httpx.post(f"{open_server.url}/synthesize", json={"text": "9" * 5000}, headers=as_client(), timeout=60)
    assert res.status_code == 400
    for text in ("$" + "9" * 120 + ".50", "€" + " 999" * 30, "It costs $" + "9" * 30 + ".99 today."):
        assert _v2(open_server, [text]).status_code == 200, text
    assert _v2(open_server, ["$" + "9" * 300 + ".50"]).status_code == 400
    ssml = '<speak><say-as interpret-as="currency">$' + "9" * 60 + "</say-as></speak>"
    assert _v2(open_server, [ssml]).status_code == 400


def test_bitrates_are_ascii_digits_in_the_codec_range(open_server):
    for fmt, bitrate in (
        ("mp3", "٣٢k"),
        ("mp3", "６４k"),
        ("mp3", "999k"),
        ("opus", "300k"),
        ("aac", "2k"),
        ("ogg", "64k\n"),
    ):
        res = _v2(open_server, ["Hi."], format=fmt, bitrate=bitrate)
        assert res.status_code == 400 and "bitrate" in res.text, (fmt, bitrate, res.text)
    for fmt, bitrate, rate in (
        ("ogg", "240k", 8000),
        ("ogg", "8k", 48000),
        ("opus", "6k", None),
        ("mp3", "320k", None),
    ):
        params = {"format": fmt, "bitrate": bitrate, **({"sample_rate": rate} if rate else {})}
        assert _v2(open_server, ["Hi."], **params).status_code == 200, params


def test_deeply_nested_json_is_400(open_server):
    deep = "[" * 50_000 + "]" * 50_000
    for route, body in (
        ("/v2/models/tts/infer", '{"inputs": ' + deep + "}"),
        ("/v2/models/tts/infer", deep),
        ("/v1/voices", '{"name": ' + deep + "}"),
        ("/synthesize", '{"text": "hi", "options": ' + deep + "}"),
        (
            "/v1/audio/speech",
            '{"model": "tts-1", "input": "hi", "voice": ' + '{"id": ' * 20_000 + "1" + "}" * 20_000 + "}",
        ),
    ):
        res = httpx.post(
            f"{open_server.url}{route}",
            content=body,
            headers=as_client({"content-type": "application/json"}),
            timeout=60,
        )
        assert res.status_code == 400, (route, res.status_code, res.text[:200])


def test_voice_ids_must_match_in_full(open_server):
    for name in ("evil\n", "evil\r\nSet-Cookie: a=b", "ok\u0131", "Upper"):
        res = httpx.post(f"{open_server.url}/v1/voices", json={"name": name, "audio": ""}, headers=as_client())
        assert res.status_code == 400 and "not a valid voice id" in res.json()["error"]["message"], (name, res.text)


# -- bounded work and memory -----------------------------------------------------------------------------------
def test_total_audio_per_request_is_capped(open_server):
    breaks = '<break time="10s"/>' * (OPEN_MAX_AUDIO_S // 10 + 1)
    for route, body in (
        ("/synthesize", {"text": f"<speak>Hi.{breaks}</speak>"}),
        ("/synthesize", {"text": f"<speak>Hi.{breaks}</speak>", "options": {"stream": True}}),
        ("/v2/models/tts/infer", infer_body([f"<speak>Hi.{breaks}</speak>"])),
    ):
        res = httpx.post(f"{open_server.url}{route}", json=body, headers=as_client(), timeout=60)
        assert res.status_code == 400 and "TTS_MAX_AUDIO_SECONDS" in res.text, (route, res.text)
    fine = '<break time="10s"/>' * (OPEN_MAX_AUDIO_S // 10 - 1)
    res = _v2(open_server, [f"<speak>Hi.{fine}</speak>"])
    assert res.status_code == 200


def test_an_endless_word_is_split_not_one_engine_pass(open_server):
    res = _v2(open_server, ["a" * 1000], timings=True)
    assert res.status_code == 200, res.text
    outputs = {o["name"]: o for o in res.json()["outputs"]}
    segments = json.loads(outputs["timings"]["data"][0])
    assert len(segments) >= 3, "the 1,000-character token reaches the engine in chunks of at most 400 characters"
    samples, rate = decode_wav(outputs["audio"]["data"][0])
    assert len(samples) / rate < OPEN_MAX_AUDIO_S


def _silence_flac(seconds: int, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with sf.SoundFile(out, "w", samplerate=rate, channels=1, format="FLAC") as f:
        block = np.zeros(rate * 60, np.float32)
        for _ in range(seconds // 60):
            f.write(block)
    return out.getvalue()


def test_long_voice_samples_are_refused_from_the_header(cloning_server):
    """An hour of 48 kHz silence is a small FLAC: it must be refused without decoding it (690 MB as float32)."""
    sample = _silence_flac(3600, rate=48000)
    assert len(sample) < 1_000_000
    peak_before = httpx.get(f"{cloning_server.url}/health").json()["system"]["max_rss_bytes"]
    res = httpx.post(
        f"{cloning_server.url}/v1/voices",
        timeout=120,
        json={"name": "hour", "audio": base64.b64encode(sample).decode()},
    )
    assert res.status_code == 400 and "3600.0 s" in res.json()["error"]["message"], res.text
    body = infer_body(["Hi."])
    body["inputs"].append(
        {"name": "speaker_wav", "datatype": "BYTES", "shape": [1], "data": [base64.b64encode(sample).decode()]}
    )
    res = httpx.post(f"{cloning_server.url}/v2/models/tts/infer", json=body, timeout=120)
    assert res.status_code == 400 and "at most" in res.text, res.text
    peak_after = httpx.get(f"{cloning_server.url}/health").json()["system"]["max_rss_bytes"]
    assert peak_after - peak_before < 300e6, "the hour of audio was never decoded"


@pytest.fixture(scope="module")
def cloning_server(tmp_path_factory):
    pytest.importorskip("TTS", reason="coqui-tts is not installed (pip install '.[coqui]')")
    from server_process import ServerProcess

    from devtools.coqui_models import build_vits

    model = build_vits(tmp_path_factory.mktemp("sec-cloning") / "yourtts", speakers=["ann", "bob"], cloning=True)
    server = ServerProcess(
        env={
            "TTS_MODEL": f"embedded,{model}",
            "TTS_DEVICE": "cpu",
            "TTS_CLONED_VOICES_DIR": str(tmp_path_factory.mktemp("store")),
        }
    ).start()
    yield server
    server.stop()
