"""Word timings from Coqui VITS's duration predictor (PyTorch and ONNX Runtime), tied to the caller's original text,
over the real server: V2 `timings`, OpenAI SSE and WebSocket events; plus the token-id unit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import numpy as np
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body
from ws_helpers import stream_messages

from tts_predictor.engines.coqui.timings import token_word_frames

TEXT = "Dr. Smith paid $42 on Monday.  Then he left, quickly!"
WORDS = ["Dr", "Smith", "paid", "$42", "on", "Monday", "Then", "he", "left", "quickly"]
"""The caller's words, as the timings must name them (normalization spoke "Doctor" and "forty two dollars")."""


def test_token_ids_to_word_frames() -> None:
    chars = {0: "<BLNK>", 1: "<BOS>", 2: "<EOS>", 3: " ", 4: "a", 5: "b", 6: ","}
    characters = SimpleNamespace(id_to_char=chars.__getitem__, blank="<BLNK>", bos="<BOS>", eos="<EOS>", pad="<PAD>")
    ids = [1, 0, 4, 0, 5, 0, 6, 0, 3, 0, 4, 0, 2]  # BOS _ a _ b _ , _ " " _ a _ EOS
    frames = np.array([1, 1, 2, 1, 3, 1, 4, 1, 2, 1, 5, 1, 1], dtype=np.float32)
    assert token_word_frames(ids, characters, frames) == [(2.0, 8.0), (17.0, 22.0)]


@pytest.fixture(scope="module")
def coqui_onnx_server(
    coqui_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    cache = tmp_path_factory.mktemp("onnx-cache")
    server = ServerProcess(
        env={
            "TTS_MODEL": str(coqui_models["single"]),
            "TTS_DEVICE": "cpu",
            "TTS_COQUI_BACKEND": "onnx",
            "TTS_CACHE_DIR": str(cache),
        }
    ).start()
    yield server
    server.stop()


def _server(request: pytest.FixtureRequest, backend: str) -> ServerProcess:
    return request.getfixturevalue("coqui_server" if backend == "torch" else "coqui_onnx_server")


def _check_words(words: list[dict], duration_s: float) -> None:
    assert [w["text"] for w in words] == WORDS
    for w in words:
        assert TEXT[w["char_start"] : w["char_end"]] == w["text"]
    assert next(w for w in words if w["text"] == "$42")["spoken"] == "forty two dollars"
    starts = [w["start_s"] for w in words]
    assert starts == sorted(starts) and all(w["start_s"] < w["end_s"] for w in words)
    assert all(a["end_s"] <= b["start_s"] + 1e-3 for a, b in zip(words, words[1:]))
    assert words[0]["start_s"] >= 0 and words[-1]["end_s"] <= duration_s + 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_v2_timings_have_words(request: pytest.FixtureRequest, backend: str) -> None:
    server = _server(request, backend)
    r = httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body([TEXT], timings=True), timeout=120)
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o for o in r.json()["outputs"]}
    samples, rate = decode_wav(outputs["audio"]["data"][0])
    _check_words(
        [w for entry in json.loads(outputs["timings"]["data"][0]) for w in entry["words"]], len(samples) / rate
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_openai_sse_sends_words(request: pytest.FixtureRequest, backend: str) -> None:
    server = _server(request, backend)
    body = {"model": "tts-1", "input": TEXT, "voice": "alloy", "response_format": "pcm", "stream_format": "sse"}
    r = httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=120)
    assert r.status_code == 200, r.text
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    segments = [e for e in events if e["type"] == "speech.audio.segment"]
    assert segments and events[-1]["type"] == "speech.audio.done"
    _check_words([w for s in segments for w in s["words"]], segments[-1]["end_s"])


@pytest.mark.slow
def test_websocket_words(coqui_onnx_server: ServerProcess) -> None:
    # split mid-word: offsets still count every character sent
    messages = stream_messages(coqui_onnx_server.url, (TEXT[:20], TEXT[20:]))
    end = next(m for m in messages if m["type"] == "end")
    _check_words([w for m in messages if m["type"] == "segment" for w in m["words"]], end["duration_s"])
