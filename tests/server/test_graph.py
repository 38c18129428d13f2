"""InferenceGraph data contract: the TTS step accepts the previous step's V2 response.

- the graph adapter middleware, in-process against an echo app;
- (the chart's graph through a copy of KServe's router is in test_graph_router.py);
- the real server taking a V2 *response* body directly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

from tts_predictor.api.graph import MAX_BODY_BYTES, install_graph_adapter

INFER = "/v2/models/tts/infer"


def _response(*outputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"model_name": "prev", "outputs": list(outputs), **extra}


def _bytes_out(name: str, data: list[str]) -> dict[str, Any]:
    return {"name": name, "datatype": "BYTES", "shape": [len(data)], "data": data}


# ---- the middleware, in-process -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def echo() -> TestClient:
    app = FastAPI()

    @app.post("/v2/models/{model}/infer")
    async def infer(model: str, request: Request) -> dict[str, Any]:
        raw = await request.body()
        return {"model": model, "length": request.headers.get("content-length"), "raw": raw.decode("latin-1")}

    install_graph_adapter(app, "tts")
    return TestClient(app)


def _echoed(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    echoed = answer.json()
    assert int(echoed["length"]) == len(echoed["raw"].encode("latin-1"))
    return json.loads(echoed["raw"])


def test_normal_request_passes_untouched(echo: TestClient) -> None:
    raw = json.dumps(infer_body(["Hi."], voice="x")).encode() + b"  "
    answer = echo.post(INFER, content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 200 and answer.json()["raw"].encode("latin-1") == raw


@pytest.mark.parametrize("name", ["text", "translation", "transcript", "transcription"])
def test_response_becomes_request(echo: TestClient, name: str) -> None:
    body = _response(
        {"name": "score", "datatype": "FP32", "shape": [1], "data": [0.9]},
        _bytes_out(name, ["Bonjour.", "Monde."]),
        _bytes_out("text_lang", ["fr"]),
        id="req-7",
        parameters={"voice": "v1", "language": "en", "beam_size": 5, "temperature": 0.0},
    )
    assert _echoed(echo.post(INFER, json=body)) == {
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": ["Bonjour.", "Monde."]}],
        "parameters": {"voice": "v1", "language": "en"},
        "id": "req-7",
    }


def test_first_text_output_wins_and_non_bytes_skipped(echo: TestClient) -> None:
    body = _response(
        {"name": "text", "datatype": "INT32", "shape": [1], "data": [3]},
        _bytes_out("transcript", ["first"]),
        _bytes_out("translation", ["second"]),
        parameters={"beam_size": 5},
    )
    assert _echoed(echo.post(INFER, json=body)) == {
        "inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["first"]}]
    }


def test_response_without_text_output_is_400(echo: TestClient) -> None:
    answer = echo.post(INFER, json=_response(_bytes_out("audio", ["UklG"]), {"name": "sr", "datatype": "INT32"}))
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "graph step: previous response has no text output; expected one of text, translation, "
        'transcript, transcription; got ["audio", "sr"]'
    }


def test_body_with_inputs_and_outputs_is_a_request(echo: TestClient) -> None:
    body = {**infer_body(["Hi."]), "outputs": [{"name": "audio"}]}
    assert _echoed(echo.post(INFER, json=body)) == body


@pytest.mark.parametrize(
    ("path", "raw", "headers"),
    [
        ("/v2/models/other/infer", json.dumps(_response(_bytes_out("audio", ["x"]))).encode(), {}),
        (INFER, b"not json", {}),
        (INFER, b"[1, 2]", {}),
        (INFER, json.dumps(_response(_bytes_out("audio", ["x"]))).encode(), {"inference-header-content-length": "9"}),
    ],
    ids=["other-model", "not-json", "json-array", "binary-extension"],
)
def test_other_requests_pass_untouched(echo: TestClient, path: str, raw: bytes, headers: dict[str, str]) -> None:
    answer = echo.post(path, content=raw, headers=headers)
    assert answer.status_code == 200 and answer.json()["raw"].encode("latin-1") == raw


def test_oversized_body_is_413(echo: TestClient) -> None:
    raw = b'{"outputs": [], "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    assert echo.post(INFER, content=raw).status_code == 413

    def chunks() -> Iterator[bytes]:  # no content-length: counted while reading
        for _ in range(11):
            yield b" " * (1024 * 1024)

    assert echo.post(INFER, content=chunks()).status_code == 413


# ---- the real server takes a V2 response body ------------------------------------------------------------


def test_server_accepts_previous_response(embedded_server: ServerProcess) -> None:
    body = _response(
        {"name": "score", "datatype": "FP32", "shape": [1], "data": [0.5]},
        _bytes_out("translation", ["Good morning."]),
        parameters={"beam_size": 5, "model": "opus-mt"},
    )
    answer = httpx.post(f"{embedded_server.url}{INFER}", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    outputs = {o["name"]: o for o in answer.json()["outputs"]}
    samples, rate = decode_wav(outputs["audio"]["data"][0])
    assert outputs["sample_rate"]["data"] == [rate] and len(samples) > 0


def test_server_rejects_response_without_text(embedded_server: ServerProcess) -> None:
    body = _response(_bytes_out("audio", ["UklGRg=="]))
    answer = httpx.post(f"{embedded_server.url}{INFER}", json=body, timeout=30)
    assert answer.status_code == 400
    assert "previous response has no text output" in answer.json()["error"]


def test_server_normal_request_unchanged(embedded_server: ServerProcess) -> None:
    answer = httpx.post(f"{embedded_server.url}{INFER}", json=infer_body(["Hi."]), timeout=60)
    assert answer.status_code == 200, answer.text
