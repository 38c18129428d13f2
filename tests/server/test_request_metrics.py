"""tts_requests_total over a real server: every route (V2 REST and gRPC, OpenAI, /synthesize whole and streamed,
batch, WebSocket, jobs) counts each synthesis once, by format and status, with bounded labels; refused and invalid
requests count under their status. Scraped with prometheus_client's own text parser."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import httpx
import numpy as np
import pytest
from jobs_helpers import wait_job
from prometheus_client.parser import text_string_to_metric_families
from server_process import ServerProcess
from v2_helpers import grpc_audio, infer_body

pytestmark = pytest.mark.slow
TEXT = "The boats came home at noon."


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"TTS_JOBS_DIR": str(tmp_path_factory.mktemp("jobs")), "TTS_CACHE_MAX_BYTES": "0"}
    process = ServerProcess(env=env).start()
    yield process
    process.stop()


def requests_total(url: str) -> tuple[Counter, list[dict[str, str]]]:
    """tts_requests_total summed by (route, format, status), and every series' labels."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    counts: Counter = Counter()
    labels = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "tts_requests_total":
                counts[(sample.labels["route"], sample.labels["format"], sample.labels["status"])] += sample.value
                labels.append(sample.labels)
    return counts, labels


def post(url: str, path: str, body: dict, status: int = 200) -> httpx.Response:
    response = httpx.post(f"{url}{path}", json=body, timeout=120)
    assert response.status_code == status, response.text
    return response


def ws_session(url: str, fmt: str) -> None:
    websockets = pytest.importorskip("websockets")

    async def run() -> list[str]:
        async with websockets.connect(url.replace("http://", "ws://") + "/v1/stream") as ws:
            await ws.send(json.dumps({"type": "config", "format": fmt}))
            await ws.send(json.dumps({"type": "text", "text": TEXT}))
            await ws.send(json.dumps({"type": "close"}))
            return [json.loads(m)["type"] async for m in ws if isinstance(m, str)]

    assert asyncio.run(run())[-1] == "end"


def grpc_infer(server: ServerProcess) -> None:
    from kserve import InferInput, InferRequest

    text = InferInput("text", [1], "BYTES")
    text.set_data_from_numpy(np.array([TEXT.encode()], dtype=np.object_), binary_data=True)
    audio = grpc_audio(server.grpc_url, InferRequest(model_name="tts", infer_inputs=[text], parameters={}))
    assert audio[:4] == b"RIFF"


def test_every_route_and_format_is_counted(server):
    url = server.url
    post(url, "/v2/models/tts/infer", infer_body([TEXT, "A second item."], format="wav"))
    post(url, "/v2/models/tts/infer", infer_body([TEXT], format="mp3"))
    grpc_infer(server)
    for fmt in ("mp3", "mp3", "flac"):
        post(url, "/v1/audio/speech", {"model": "tts-1", "input": TEXT, "voice": "alloy", "response_format": fmt})
    post(url, "/synthesize", {"text": TEXT, "options": {"format": "wav"}})
    post(url, "/synthesize", {"text": TEXT, "options": {"format": "opus"}})
    post(url, "/synthesize", {"text": TEXT, "options": {"format": "mp3", "stream": True}})
    post(url, "/batch_synthesize", {"items": [{"text": TEXT}, {"text": "Two."}, {"text": "Three."}], "format": "flac"})
    ws_session(url, "pcm")
    job = post(url, "/v1/jobs", {"text": TEXT, "options": {"format": "wav"}}, status=202).json()
    assert wait_job(url, job["id"])["state"] == "completed"
    # failures: a bad voice and a bad format are 400s counted before their format is known; a bad V2 format too
    post(url, "/v1/audio/speech", {"model": "tts-1", "input": TEXT, "voice": "no such voice!"}, status=400)
    post(url, "/synthesize", {"text": TEXT, "options": {"format": "aiff"}}, status=400)
    post(url, "/v2/models/tts/infer", infer_body([TEXT], format="aiff"), status=400)

    counts, labels = requests_total(url)
    assert counts == {
        ("v2", "wav", "200"): 2,
        ("v2", "mp3", "200"): 1,
        ("v2_grpc", "wav", "200"): 1,
        ("openai", "mp3", "200"): 2,
        ("openai", "flac", "200"): 1,
        ("synthesize", "wav", "200"): 1,
        ("synthesize", "opus", "200"): 1,
        ("stream", "mp3", "200"): 1,
        ("batch", "flac", "200"): 3,
        ("ws", "pcm", "200"): 1,
        ("jobs", "wav", "200"): 1,
        ("openai", "-", "400"): 1,
        ("synthesize", "-", "400"): 1,
        ("v2", "-", "400"): 1,
    }
    default_voice = httpx.get(f"{url}/voices").json()["default_voice"]
    # no voice named: "default"; OpenAI's alloy and the WebSocket name the voice they resolved to; failures "-"
    assert {series["voice"] for series in labels} == {"default", default_voice, "-"}
    assert {series["model"] for series in labels} == {"tts", "-"}


def test_refused_requests_count_with_their_status(tmp_path):
    env = {"TTS_API_KEYS": "key-a", "TTS_MAX_BODY_BYTES": "2000"}
    refusing = ServerProcess(env=env).start()
    try:
        url = refusing.url
        assert httpx.post(f"{url}/synthesize", json={"text": TEXT}).status_code == 401
        big = {"text": "word " * 1000}
        assert httpx.post(f"{url}/synthesize", json=big, headers={"X-API-Key": "key-a"}).status_code == 413
        ok = httpx.post(
            f"{url}/v1/audio/speech",
            json={"model": "tts-1", "input": TEXT, "voice": "alloy"},
            headers={"X-API-Key": "key-a"},
        )
        assert ok.status_code == 200
        counts, _ = requests_total(url)
        assert counts == {("synthesize", "-", "401"): 1, ("synthesize", "-", "413"): 1, ("openai", "mp3", "200"): 1}
    finally:
        refusing.stop()


def test_one_log_line_per_request(server):
    """By default each request logs one access line (kserve's timings and uvicorn's access line are DEBUG-only), and
    no deprecation warning (kserve's ORJSONResponse) is printed on the first one."""
    offset = server.log_path.stat().st_size
    requests = [
        ("POST", "/v2/models/tts/infer", infer_body([TEXT], format="mp3"), 200),
        ("POST", "/synthesize", {"text": TEXT, "options": {"format": "wav"}}, 200),
        (
            "POST",
            "/v1/audio/speech",
            {"model": "tts-1", "input": TEXT, "voice": "alloy", "response_format": "opus"},
            200,
        ),
        ("POST", "/synthesize", {"text": TEXT, "options": {"voice": "nobody"}}, 400),
        ("GET", "/v2/models/tts", None, 200),
        ("GET", "/no/such/path", None, 404),
    ]
    ids = []
    for method, path, body, status in requests:
        response = httpx.request(method, f"{server.url}{path}", json=body, timeout=120)
        assert response.status_code == status, response.text
        ids.append(response.headers["x-request-id"])
    lines: list[str] = []
    for _ in range(100):  # the line is written as the request ends, maybe just after the client has its answer
        with server.log_path.open(errors="replace") as log:
            log.seek(offset)
            lines = log.read().splitlines()
        if len(lines) >= len(requests):
            break
        time.sleep(0.1)
    assert len(lines) == len(requests), "\n".join(lines)
    for line, rid, (method, path, _body, status) in zip(lines, ids, requests):
        assert "tts_predictor.access INFO" in line and f"{method} {path} {status} " in line and f"rid={rid}" in line
    assert "format=mp3 audio_s=" in lines[0] and "route=/v2/models/{model}/infer" in lines[0], lines[0]
    assert "format=opus" in lines[2] and "route=unmatched" in lines[5], lines
    assert "Deprecat" not in server.log_path.read_text(errors="replace")
