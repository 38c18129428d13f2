"""OpenAI's error shape on every /v1 route, the gateway's refusals included, read by the real `openai` SDK: its
exception carries the server's message (openai-python puts body["error"]["message"] into it, and only that);
KServe's routes keep ``{"error": "..."}``."""

from __future__ import annotations

import httpx
import pytest
from server_process import ServerProcess

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.slow
KEY, FLOODED = "key-a", "key-b"


@pytest.fixture(scope="module")
def server():
    env = {
        "TTS_API_KEYS": f"{KEY},{FLOODED}",
        "TTS_MAX_BODY_BYTES": "4000",
        "TTS_RATE_LIMIT_RPS": "0.01",  # per key: each key gets its burst, then waits 100 s
        "TTS_RATE_LIMIT_BURST": "20",
    }
    process = ServerProcess(env=env).start()
    yield process
    process.stop()


def client(server: ServerProcess, key: str = KEY):
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0, timeout=60)


def speak(sdk, text: str = "Hello there.", voice: str = "alloy") -> bytes:
    return sdk.audio.speech.create(model="tts-1", voice=voice, input=text, response_format="wav").read()


def test_sdk_shows_the_servers_message(server):
    with pytest.raises(openai.AuthenticationError) as missing:
        speak(client(server, "wrong-key"))
    assert "missing or invalid API key" in str(missing.value)
    assert missing.value.code == "invalid_api_key" and missing.value.status_code == 401

    sdk = client(server)
    with pytest.raises(openai.APIStatusError) as large:
        speak(sdk, "word " * 1000)
    assert large.value.status_code == 413
    assert "request body over 4000 bytes (TTS_MAX_BODY_BYTES)" in str(large.value)

    with pytest.raises(openai.BadRequestError) as bad_voice:
        speak(sdk, voice="no such voice!")
    assert "is not a voice name" in str(bad_voice.value) and bad_voice.value.param == "voice"

    assert speak(sdk)[:4] == b"RIFF"  # the key works

    flooded = client(server, FLOODED)
    with pytest.raises(openai.RateLimitError) as limited:
        for _ in range(40):
            flooded.models.list()
    assert "rate limit exceeded (TTS_RATE_LIMIT_RPS)" in str(limited.value)
    assert limited.value.type == "rate_limit_error" and int(limited.value.response.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("method", "path", "status", "needle"),
    [
        ("post", "/v1/voices", 400, "audio: missing"),  # a /v1 route of ours
        ("get", "/v1/jobs/0123456789abcdef", 404, "job"),
        ("get", "/v1/no-such-route", 404, "Not Found"),
        ("post", "/v1/audio/speech", 401, "API key"),  # no key: the gateway
    ],
)
def test_every_v1_error_is_openai_shaped(server, method, path, status, needle):
    headers = {} if status == 401 else {"X-API-Key": KEY}
    response = httpx.request(method.upper(), f"{server.url}{path}", json={}, headers=headers, timeout=30)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and needle in error["message"], error


def test_kserve_routes_keep_their_shape(server):
    headers = {"X-API-Key": KEY}
    v2 = httpx.post(f"{server.url}/v2/models/tts/infer", json={"inputs": []}, headers=headers, timeout=30)
    assert v2.status_code == 400 and isinstance(v2.json()["error"], str)
    v1 = httpx.post(f"{server.url}/v1/models/nope:predict", json={"instances": []}, headers=headers, timeout=30)
    assert v1.status_code == 404 and isinstance(v1.json()["error"], str)
    unauthorized = httpx.post(f"{server.url}/synthesize", json={"text": "hi"}, timeout=30)
    assert unauthorized.status_code == 401 and isinstance(unauthorized.json()["error"], str)
