"""The V2 contract over REST against the real server with the embedded voice."""

from __future__ import annotations

import json
import struct

import httpx
import numpy as np
import pytest
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow


def infer(server, body, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}/v2/models/tts/infer", json=body, timeout=120, **kwargs)


def test_single_text_returns_base64_wav(embedded_server):
    res = infer(embedded_server, infer_body(["Hello world, this is a test."]))
    assert res.status_code == 200, res.text
    outputs = {o["name"]: o for o in res.json()["outputs"]}
    assert outputs["audio"]["parameters"] == {"media_type": "audio/wav", "content_type": "base64"}
    samples, rate = decode_wav(outputs["audio"]["data"][0])
    assert rate == 22050 == outputs["sample_rate"]["data"][0]
    assert outputs["duration_s"]["data"][0] == pytest.approx(len(samples) / rate, rel=1e-3)
    assert 1.0 < len(samples) / rate < 5.0
    assert np.abs(samples).max() > 0.05  # speech, not silence


def test_batch_of_texts_keeps_order(embedded_server):
    texts = ["One.", "This second sentence is quite a lot longer than the first one."]
    res = infer(embedded_server, infer_body(texts))
    assert res.status_code == 200, res.text
    outputs = {o["name"]: o for o in res.json()["outputs"]}
    assert outputs["audio"]["shape"] == [2]
    durations = outputs["duration_s"]["data"]
    assert durations[0] < durations[1]


def test_speed_changes_duration(embedded_server):
    text = ["The quick brown fox jumps over the lazy dog."]
    normal = infer(embedded_server, infer_body(text)).json()["outputs"][2]["data"][0]
    fast = infer(embedded_server, infer_body(text, speed=2.0)).json()["outputs"][2]["data"][0]
    assert fast < normal * 0.7


def test_sample_rate_parameter_resamples(embedded_server):
    res = infer(embedded_server, infer_body(["Resample me."], sample_rate=16000))
    outputs = {o["name"]: o for o in res.json()["outputs"]}
    samples, rate = decode_wav(outputs["audio"]["data"][0])
    assert rate == 16000 == outputs["sample_rate"]["data"][0]


def test_language_alias_and_voice_by_id(embedded_server):
    voices = httpx.get(f"{embedded_server.url}/v2/models/tts/voices").json()
    voice = voices["default_voice"]
    for params in ({"language": "en"}, {"language": "en-us"}, {"voice": voice, "language": "en_US"}):
        assert infer(embedded_server, infer_body(["Hi there."], **params)).status_code == 200, params


def _binary_outputs(res: httpx.Response) -> tuple[dict, bytes]:
    json_len = int(res.headers["inference-header-content-length"])
    return json.loads(res.content[:json_len]), res.content[json_len:]


def test_binary_data_output_returns_raw_wav(embedded_server):
    res = infer(embedded_server, {**infer_body(["Binary please."]), "parameters": {"binary_data_output": True}})
    assert res.status_code == 200, res.text
    header, payload = _binary_outputs(res)
    audio = header["outputs"][0]
    assert audio["name"] == "audio" and audio["parameters"]["media_type"] == "audio/wav"
    assert "content_type" not in audio["parameters"]  # raw bytes: no base64 codec hint
    size = audio["parameters"]["binary_data_size"]
    (length,) = struct.unpack("<I", payload[:4])  # BYTES elements are length-prefixed
    samples, rate = decode_wav(payload[4 : 4 + length])
    assert length == size - 4 and rate == 22050 and len(samples) > 0


def test_requested_binary_audio_only(embedded_server):
    body = {**infer_body(["Just audio."]), "outputs": [{"name": "audio", "parameters": {"binary_data": True}}]}
    header, payload = _binary_outputs(infer(embedded_server, body))
    assert [o["name"] for o in header["outputs"]] == ["audio"]
    assert payload[4:8] == b"RIFF"


def test_metadata_and_voices(embedded_server):
    meta = httpx.get(f"{embedded_server.url}/v2/models/tts").json()
    assert meta["inputs"][0] == {"name": "text", "datatype": "BYTES", "shape": [-1]}
    assert [i["name"] for i in meta["inputs"]] == ["text", "voice", "language", "speed", "speaker_wav"]
    assert [o["name"] for o in meta["outputs"]] == ["audio", "sample_rate", "duration_s", "timings", "marks"]
    voices = httpx.get(f"{embedded_server.url}/v2/models/tts/voices").json()
    assert voices["default_voice"] == "en_US-joe-medium"
    neural = [v for v in voices["voices"] if v["quality"] == "neural"]
    assert [v["languages"] for v in neural] == [["en-US"]] and voices["languages"][0] == "en-US"
    assert {"de", "es", "pt-BR"} <= set(voices["languages"]), "the formant fallback voices add espeak-ng's languages"
    assert voices["voices"][0]["sample_rate"] == 22050
    assert httpx.get(f"{embedded_server.url}/v2/models/other/voices").status_code == 400


BAD_REQUESTS = [
    (infer_body([""]), "text[0]: is empty"),
    (infer_body(["   \n\t"]), "text[0]: is empty"),
    (infer_body(["x" * 5001]), "limit is 5000"),
    (infer_body(["hi"], voice="nobody"), "valid voices: en_US-joe-medium"),
    (infer_body(["hi"], language="xx-YY"), "supported: en-US"),
    (infer_body(["hi"], voice="en_US-joe-medium", language="fr"), "supported: en-US"),
    (infer_body(["hi"], speed=0.1), "parameters.speed"),
    (infer_body(["hi"], speed=4.5), "0.25-4.0"),
    (infer_body(["hi"], speed="fast"), "parameters.speed"),
    (infer_body(["hi"], format="mp4"), "parameters.format"),
    (infer_body(["hi"], sample_rate=4000), "8000-48000"),
    (infer_body(["hi"], mood="happy"), "unknown parameter(s) mood; allowed parameters: voice, language, speed"),
    (
        infer_body(["hi"], emotion="joyful"),
        "parameters.emotion: emotion 'joyful' is not supported; supported emotions: neutral, happy",
    ),
    (infer_body(["hi"], style="opera"), "supported styles: conversational, narration, newscast"),
    (infer_body(["hi"], seed=3), "cannot be seeded"),
    (infer_body(["hi"], voice="en_US-joe-medium*0.5+en_US-joe-medium*0.5"), "mixable voices here: none"),
    (infer_body(["hi"], pitch=20), "parameters.pitch"),
    (infer_body(["hi"], bitrate="lots"), "parameters.bitrate"),
    (infer_body(["<speak>unclosed"]), "SSML"),
    (infer_body(["<speak><audio src='x'/></speak>"]), "audio"),
    ({"inputs": [{"name": "text", "datatype": "INT32", "shape": [1], "data": [1]}]}, "datatype must be BYTES"),
    ({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": [42]}]}, "text[0]: must be a string"),
    ({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [3], "data": ["a"]}]}, "does not match"),
    ({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1, 1], "data": ["a"]}]}, "shape must be [N]"),
    ({"inputs": [{"name": "words", "datatype": "BYTES", "shape": [1], "data": ["a"]}]}, "expected 'text'"),
    ({"inputs": []}, "expected 'text'"),
    ({**infer_body(["hi"]), "outputs": [{"name": "video"}]}, "unknown output 'video'"),
    ({"inputs": [{"name": "text", "datatype": "BYTES", "shape": [40], "data": ["a"] * 40}]}, "limit is 32"),
]


@pytest.mark.parametrize(("body", "message"), BAD_REQUESTS)
def test_bad_requests_get_400_naming_the_field(embedded_server, body, message):
    res = infer(embedded_server, body)
    assert res.status_code == 400, res.text
    assert message in res.json()["error"]


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{not json", {"content-type": "application/json"}),
        (b"[1, 2]", {"content-type": "application/json"}),
        (b'{"inputs": "text"}', {"content-type": "application/json"}),
        (b"\x00\x01garbage", {"content-type": "application/octet-stream", "inference-header-content-length": "999"}),
    ],
)
def test_malformed_bodies_get_400(embedded_server, content, headers):
    res = httpx.post(f"{embedded_server.url}/v2/models/tts/infer", content=content, headers=headers, timeout=30)
    assert res.status_code == 400, res.text
    assert res.json()["error"]


def test_bad_binary_tensor_gets_400(embedded_server):
    header = json.dumps(
        {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "parameters": {"binary_data_size": 6}}]}
    ).encode()
    payload = struct.pack("<I", 1000) + b"hi"  # length prefix says 1000 bytes, only 2 follow
    res = httpx.post(
        f"{embedded_server.url}/v2/models/tts/infer",
        content=header + payload,
        timeout=30,
        headers={"inference-header-content-length": str(len(header))},
    )
    assert res.status_code == 400, res.text


def test_server_survives_bad_input_and_v1_route(embedded_server):
    res = httpx.post(f"{embedded_server.url}/v1/models/tts:predict", json={"instances": ["hi"]}, timeout=30)
    assert res.status_code == 400 and "V2" in res.json()["error"]
    assert httpx.get(f"{embedded_server.url}/v2/health/live").status_code == 200
    assert infer(embedded_server, infer_body(["Still alive."])).status_code == 200


def test_emotion_and_style_are_prosody_presets(embedded_server):
    """sad = slower and quieter than happy; the same as asking for that prosody directly.

    Lengths vary by a few percent between runs (the voice's duration noise) and a rate change stretches
    phoneme durations only (pauses and rounding do not scale), so the checks compare medians with margins.
    """
    from tts_predictor.schemas import EMOTIONS

    def render(**params) -> np.ndarray:
        res = httpx.post(
            f"{embedded_server.url}/v2/models/tts/infer",
            json=infer_body(["The weather is nice today, so we will walk to the park."], **params),
            timeout=60,
        )
        assert res.status_code == 200, res.text
        return decode_wav(res.json()["outputs"][0]["data"][0])[0]

    def median_length(**params) -> float:
        # One render's length varies with the voice's duration noise: measured std 1.8 %, range 7 % over 40
        # renders of this sentence. The median of three narrows that (std ~1.2 %), so the 6 % bound below is
        # over three standard deviations of the difference, on any CPU.
        return float(np.median([len(render(**params)) for _ in range(3)]))

    happy, sad = render(emotion="happy"), render(emotion="sad")
    assert len(sad) > 1.05 * len(happy), "sad speaks at 0.88x the rate, happy at 1.08x (expected ratio 1.23)"
    rms = lambda x: float(np.sqrt(np.mean(np.square(x))))  # noqa: E731
    assert rms(sad) < rms(happy), "sad is 4 dB quieter than happy"
    preset = EMOTIONS["sad"]
    direct = median_length(speed=preset.rate, pitch=preset.pitch, volume_db=preset.volume_db)
    assert abs(direct - median_length(emotion="sad")) < 0.06 * direct
    voices = httpx.get(f"{embedded_server.url}/v2/models/tts/voices", timeout=10).json()
    assert "sad" in voices["emotions"] and "newscast" in voices["styles"]
