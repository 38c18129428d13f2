"""REST API: /synthesize (whole and streamed), /batch_synthesize, /voices, /config, /health, /ready, /live."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
import soundfile as sf
from server_process import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def http(embedded_server: ServerProcess):
    with httpx.Client(base_url=embedded_server.url, timeout=60) as client:
        yield client


def test_synthesize_wav_with_headers(http: httpx.Client) -> None:
    r = http.post(
        "/synthesize", json={"text": "Hello world. Second sentence.", "options": {"format": "wav", "energy": -6}}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    assert float(r.headers["x-processing-time"]) > 0
    assert r.headers["x-language"] == "en-US" and r.headers["x-voice"]
    samples, rate = sf.read(io.BytesIO(r.content))
    assert rate == 22050 and len(samples) / rate == pytest.approx(float(r.headers["x-duration"]), abs=0.01)


def test_synthesize_streamed_chunks(http: httpx.Client) -> None:
    body = {"text": "One sentence. Another sentence. A third one.", "options": {"format": "wav", "stream": True}}
    with http.stream("POST", "/synthesize", json=body) as r:
        assert r.status_code == 200 and r.headers["x-streamed"] == "true"
        assert "content-length" not in r.headers
        chunks = list(r.iter_raw())
    data = b"".join(chunks)
    samples, rate = sf.read(io.BytesIO(data))
    assert rate == 22050 and len(samples) / rate > 1.5


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ({"text": "x", "options": {"emotion": "joyful"}}, ["options.emotion", "supported emotions: neutral, happy"]),
        ({"text": "x", "options": {"style": "opera"}}, ["options.style", "newscast"]),
        ({"text": "x", "options": {"speed": 9}}, ["options.speed", "0.25-4.0"]),
        ({"text": "x", "options": {"format": "wma"}}, ["options.format", "mp3"]),
        ({"text": "x", "options": {"energy": 99}}, ["options.energy", "-40 to 20"]),
        ({"text": "x", "options": {"colour": "red"}}, ["options.colour", "allowed", "energy"]),
        ({"text": "x", "options": {"voice": "nobody"}}, ["voice", "valid voices"]),
        ({"text": ""}, ["text", "empty"]),
        ({"options": {}}, ["text", "Field required"]),
    ],
)
def test_synthesize_bad_input_is_400_naming_the_field(http: httpx.Client, body: dict, needles: list[str]) -> None:
    r = http.post("/synthesize", json=body)
    assert r.status_code == 400, r.text
    for needle in needles:
        assert needle in r.json()["error"]


def test_batch(http: httpx.Client) -> None:
    r = http.post(
        "/batch_synthesize",
        json={
            "items": [{"text": "First."}, {"text": "Second, faster.", "options": {"speed": 1.4, "format": "flac"}}],
            "format": "wav",
        },
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["format"] for i in items] == ["wav", "flac"]
    for item in items:
        samples, rate = sf.read(io.BytesIO(base64.b64decode(item["audio"])))
        assert len(samples) / rate == pytest.approx(item["duration_s"], abs=0.02)


def test_batch_limits(http: httpx.Client) -> None:
    limit = http.get("/config").json()["max_batch_size"]
    r = http.post("/batch_synthesize", json={"items": [{"text": "a"}] * (limit + 1)})
    assert r.status_code == 400 and str(limit) in r.json()["error"]
    r = http.post("/batch_synthesize", json={"items": [{"text": "a", "options": {"speed": 0}}]})
    assert r.status_code == 400 and "items[0].options.speed" in r.json()["error"]
    assert http.post("/batch_synthesize", json={"items": []}).status_code == 400


def test_voices(http: httpx.Client) -> None:
    body = http.get("/voices").json()
    voice = body["voices"][0]
    assert {"id", "languages", "sample_rate", "gender", "engine"} <= set(voice)
    assert http.get("/voices", params={"language": "en"}).json()["voices"]
    assert http.get("/voices", params={"language": "xx-YY"}).json()["voices"] == []


def test_config_health_ready_live(http: httpx.Client) -> None:
    config = http.get("/config").json()
    assert config["model"] == "embedded" and "max_text_chars" in config
    from pydantic import SecretStr

    from tts_predictor.settings import Settings

    for name, field in Settings.model_fields.items():  # secrets by type (SecretStr or marked secret), not by name
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if (field.annotation is SecretStr or "SecretStr" in str(field.annotation) or extra.get("secret")) and config[
            name
        ]:
            assert config[name] == "***", name
    assert config["job_max_queued_per_key"] == 10  # a limit whose name holds "key" is no secret
    health = http.get("/health")
    assert health.status_code == 200
    assert health.json()["model_loaded"] is True and health.json()["engine"] and health.json()["voices"] >= 1
    assert health.json()["load_seconds"] > 0
    assert http.get("/ready").status_code == 200
    assert http.get("/live").json() == {"live": True}


def test_openapi_has_examples(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    assert "/synthesize" in spec["paths"] and "/v1/audio/speech" in spec["paths"]
    schemas = spec["components"]["schemas"]
    assert schemas["SynthesizeRequest"].get("examples") and schemas["SpeechRequest"].get("examples")


def test_redaction_of_secrets() -> None:
    from tts_predictor.settings import Settings

    out = Settings(api_keys="a,b", redis_url="redis://:pw@host:6379", webhook_secret="w").redacted()
    assert (out["api_keys"], out["redis_url"], out["webhook_secret"]) == ("***", "redis://***@host:6379", "***")
    assert out["job_max_queued_per_key"] == 10, "redaction goes by field type, not by 'key' in the name"


def test_health_details_and_v1_voices(http):
    body = http.get("/health").json()
    assert body["status"] == "ok" and body["load_error"] is None and body["engine"] == "onnx"
    system = body["system"]
    assert system["temp_dir_writable"] is True and system["max_rss_bytes"] > 0
    # the GPU is reported only when a loaded engine uses torch; the embedded voice runs on ONNX Runtime and never
    # imports it, so this holds on a GPU host too (the reporting itself: test_gpu_is_read_from_a_loaded_torch)
    assert system["gpu"] == {"available": False}
    assert http.get("/v1/voices?language=en").json()["voices"][0]["id"] == "en_US-joe-medium"


@pytest.mark.parametrize("cuda", [False, True])
def test_gpu_is_read_from_a_loaded_torch(monkeypatch: pytest.MonkeyPatch, cuda: bool) -> None:
    import sys
    import types

    from tts_predictor.api.health import system_health

    device = types.SimpleNamespace(total_memory=80 * 2**30)
    fake_cuda = types.SimpleNamespace(
        is_available=lambda: cuda,
        memory_allocated=lambda: 3 * 2**20,
        get_device_name=lambda index: f"Fake GPU {index}",
        get_device_properties=lambda index: device,
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=fake_cuda))
    expected = {
        "available": True,
        "name": "Fake GPU 0",
        "memory_allocated_bytes": 3 * 2**20,
        "memory_total_bytes": 80 * 2**30,
    }
    assert system_health("/tmp")["gpu"] == (expected if cuda else {"available": False})
