"""WebSocket /v1/stream with the real `websockets` client: incremental text, ordering, errors, cancellation."""

from __future__ import annotations

import asyncio
import io
import json
import time

import httpx
import numpy as np
import pytest
import soundfile as sf

websockets = pytest.importorskip("websockets")

from server_process import ServerProcess  # noqa: E402

from tts_predictor.api.ws import complete_sentences  # noqa: E402

pytestmark = pytest.mark.slow


def ws_url(server: ServerProcess) -> str:
    return server.url.replace("http://", "ws://") + "/v1/stream"


async def drain(ws) -> list:
    """Every message until the server closes the socket."""
    out = []
    try:
        async for message in ws:
            out.append(message if isinstance(message, bytes) else json.loads(message))
    except websockets.ConnectionClosed:
        pass
    return out


def test_sentence_detection() -> None:
    assert complete_sentences("Hello there", "en") == ([], "Hello there")
    assert complete_sentences("Hello there. How", "en") == (["Hello there."], "How")
    assert complete_sentences("Dr. Smith is", "en")[0] == []  # an abbreviation is not a sentence end
    assert complete_sentences("One. Two! Three ", "en") == (["One.", "Two!"], "Three ")


def test_incremental_text_first_audio_before_text_is_done(embedded_server: ServerProcess) -> None:
    async def run():
        async with websockets.connect(ws_url(embedded_server)) as ws:
            await ws.send(json.dumps({"type": "config", "format": "pcm", "speed": 1.1}))
            start = json.loads(await ws.recv())
            for token in ["Hello", " there", ".", " How"]:  # LLM-style tokens; the second sentence is unfinished
                await ws.send(json.dumps({"type": "text", "text": token}))
            first = await asyncio.wait_for(ws.recv(), 30)  # audio for sentence one, before the rest is sent
            for token in [" are", " you", " today", "?"]:
                await ws.send(json.dumps({"type": "text", "text": token}))
            await ws.send(json.dumps({"type": "close"}))
            rest = await drain(ws)
            return start, first, rest, ws.close_code

    start, first, rest, code = asyncio.run(run())
    assert start["type"] == "start" and start["format"] == "pcm" and start["sample_rate"] == 22050
    assert isinstance(first, bytes) and len(first) > 1000
    events = [m for m in rest if isinstance(m, dict)]
    assert [e["type"] for e in events] == ["segment", "segment", "end"]
    assert [e["text"] for e in events[:2]] == ["Hello there.", "How are you today?"]
    # audio of each segment precedes its event
    kinds = ["audio" if isinstance(m, bytes) else m["type"] for m in rest]
    assert kinds[0] == "segment" and kinds.index("audio") < kinds.index("segment", 1)
    pcm = first + b"".join(m for m in rest if isinstance(m, bytes))
    duration = len(pcm) / 2 / start["sample_rate"]
    assert events[-1]["duration_s"] == pytest.approx(duration, abs=0.01) and events[-1]["segments"] == 2
    assert code == 1000


def test_flush_and_wav_stream_decodes(embedded_server: ServerProcess) -> None:
    async def run():
        async with websockets.connect(ws_url(embedded_server)) as ws:
            await ws.send(json.dumps({"type": "config", "format": "wav"}))
            await ws.send(json.dumps({"type": "text", "text": "no sentence end yet"}))
            await ws.send(json.dumps({"type": "flush"}))
            await ws.send(json.dumps({"type": "text", "text": "And more."}))
            await ws.send(json.dumps({"type": "close"}))
            return await drain(ws)

    messages = asyncio.run(run())
    data = b"".join(m for m in messages if isinstance(m, bytes))
    samples, rate = sf.read(io.BytesIO(data), dtype="float32")
    assert rate == 22050 and np.abs(samples).max() > 0.05
    segments = [m["text"] for m in messages if isinstance(m, dict) and m["type"] == "segment"]
    assert segments == ["no sentence end yet", "And more."]


@pytest.mark.parametrize(
    ("frame", "code", "needle"),
    [
        ("{not json", 1003, "not valid JSON"),
        (b"\x00\x01", 1003, "binary"),
        (json.dumps({"type": "shout"}), 1008, "config, text, flush, close"),
        (json.dumps({"type": "config", "format": "flac"}), 1008, "pcm, mp3, opus, wav"),
        (json.dumps({"type": "config", "speed": 10}), 1008, "config.speed"),
        (json.dumps({"type": "config", "voice": "nobody"}), 1008, "valid voices"),
        (json.dumps({"type": "config", "colour": "red"}), 1008, "allowed"),
        (json.dumps({"type": "text", "text": 5}), 1008, "must be a string"),
    ],
)
def test_malformed_message_gives_error_then_close(
    embedded_server: ServerProcess, frame, code: int, needle: str
) -> None:
    async def run():
        async with websockets.connect(ws_url(embedded_server)) as ws:
            await ws.send(frame)
            messages = await asyncio.wait_for(drain(ws), 20)
            return messages, ws.close_code

    messages, close_code = asyncio.run(run())
    errors = [m for m in messages if isinstance(m, dict) and m["type"] == "error"]
    assert len(errors) == 1 and needle in errors[0]["message"]
    assert close_code == code


def test_second_config_is_rejected(embedded_server: ServerProcess) -> None:
    async def run():
        async with websockets.connect(ws_url(embedded_server)) as ws:
            await ws.send(json.dumps({"type": "config"}))
            await ws.send(json.dumps({"type": "config"}))
            return await asyncio.wait_for(drain(ws), 20), ws.close_code

    messages, code = asyncio.run(run())
    assert messages[0]["type"] == "start" and messages[-1]["type"] == "error" and code == 1008


def test_disconnect_cancels_remaining_synthesis(embedded_server: ServerProcess) -> None:
    sentences = [f"This is sentence number {n}." for n in range(1, 13)]

    async def run():
        async with websockets.connect(ws_url(embedded_server)) as ws:
            await ws.send(json.dumps({"type": "text", "text": " ".join(sentences)}))
            await ws.send(json.dumps({"type": "flush"}))
            assert json.loads(await ws.recv())["type"] == "start"
            assert isinstance(await asyncio.wait_for(ws.recv(), 30), bytes)
        # leaving the block closes the socket mid-stream

    health = f"{embedded_server.url}/health"
    before = httpx.get(health).json()["websocket_streams"]
    asyncio.run(run())
    deadline = time.monotonic() + 20
    while True:
        after = httpx.get(health).json()["websocket_streams"]
        if after["cancelled"] > before["cancelled"] and after["active"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert after["cancelled"] == before["cancelled"] + 1 and after["active"] == 0
    time.sleep(1.0)  # a stream that kept going would keep counting segments
    final = httpx.get(health).json()["websocket_streams"]
    assert final["segments"] - before["segments"] < len(sentences) // 2

    # the server is still serving streams
    async def again():
        async with websockets.connect(ws_url(embedded_server)) as ws:
            await ws.send(json.dumps({"type": "text", "text": "Still here."}))
            await ws.send(json.dumps({"type": "close"}))
            return await drain(ws)

    assert asyncio.run(again())[-1]["type"] == "end"
