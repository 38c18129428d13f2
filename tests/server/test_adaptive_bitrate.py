"""Network-adaptive bitrate: the decision rule, the encoders switching mid-stream, and real throttled clients
(a small receive buffer, reading slower than real time, then fast) against the real server's chunked NDJSON route
and WebSocket."""

from __future__ import annotations

import base64
import json
import subprocess
import time

import numpy as np
import pytest
from jobs_helpers import long_text
from throttled_client import Pacer, mp3_frame_bitrates, small_socket, stream_post

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.codecs.stream import StreamEncoder
from tts_predictor.pipeline.bitrate import BitrateAdapter, BitrateChange, adapter_for, combine

SLOW_PHASE_MAX_S = 60.0
"""The throttled clients read at `SLOW_BPS` until they receive the ``slow_client`` event (at most this long), then as
fast as they can. Ending the slow phase on the event, not after a fixed time, keeps the test independent of how
much the kernel's socket buffers hold on a given machine (they decide when the server's sends start to wait)."""
SLOW_BPS = 9000
"""Bytes per second while slow: below the 128 kbit/s (16 kB/s) the streams start at."""


def test_adapter_steps_down_to_the_clients_rate_and_back_up_one_rung_at_a_time():
    adapter = BitrateAdapter("mp3", "128k")
    assert adapter.bitrate == "128k" and adapter.observe(1.0, 16000, 0.0, now=0.0) is None  # window not full yet
    down = adapter.observe(1.5, 24000, 3.5, now=4.0)  # the pipe was full; 40000 B in 4 s = 80 kbit/s, slower than 2.5 s
    assert down is not None and down.reason == "slow_client" and down.bitrate == "64k" and adapter.bitrate == "64k"
    assert adapter.observe(2.0, 16000, 1.5, now=6.0) is None  # 2 s of audio in 2 s: keeping up at 64k, stays
    ups = [adapter.observe(2.0, 16000, 0.0, now=6.0 + 0.2 * i) for i in range(1, 6)]  # takes everything at once
    assert [u.bitrate for u in ups if u] == ["96k", "128k"] and adapter.bitrate == "128k"  # never above
    assert down.event(12.5) == {
        "type": "quality",
        "bitrate": "64k",
        "previous": "128k",
        "reason": "slow_client",
        "client_kbps": 80.0,
        "at_s": 12.5,
    }
    assert adapter_for("wav", None, True) is None and adapter_for("mp3", None, False) is None
    assert adapter_for("opus", None, True).bitrate == "32k"  # the format's default is the ceiling


def test_adapter_tries_a_rung_up_again_after_a_while_without_waiting():
    adapter = BitrateAdapter("opus", "64k")
    adapter.observe(0.0, 0, 0.0, now=0.0)
    assert adapter.observe(2.0, 16000, 3.0, now=4.0).bitrate == "24k"  # a 32 kbit/s client: at most 25.6
    idle = [adapter.observe(2.0, 6000, 0.0, now=4.0 + 2 * i) for i in range(1, 5)]  # real time, no waiting
    assert idle[:3] == [None] * 3 and idle[3].bitrate == "32k"  # the 32 kbit/s reading is forgotten, 32k tried


def test_a_decision_waiting_for_the_next_sentence_is_replaced_by_one_change_from_the_bitrate_sent():
    down = BitrateChange("48k", "128k", "slow_client", 60.0)
    up = BitrateChange("96k", "48k", "client_caught_up", 200.0)
    assert combine(None, down) is down and combine(down, None) is down and combine(None, None) is None
    # previous: what was sent; the reason follows the net move (128k -> 96k is still down: the client is slow)
    assert combine(down, up) == BitrateChange("96k", "128k", "slow_client", 200.0)
    low = BitrateChange("32k", "64k", "slow_client", 30.0)
    assert (
        combine(
            BitrateChange("64k", "32k", "client_caught_up", 90.0),
            BitrateChange("128k", "64k", "client_caught_up", 900.0),
        ).reason
        == "client_caught_up"
    )
    assert combine(BitrateChange("64k", "128k", "slow_client", 60.0), low).reason == "slow_client"
    assert combine(down, BitrateChange("128k", "96k", "client_caught_up", 900.0)) is None  # back where it is: no event
    adapter = BitrateAdapter("mp3", "128k")  # the same through the adapter's own pending change
    adapter.sent(1.0, 16000, 0.0, now=0.0)
    adapter.sent(1.5, 24000, 3.5, now=4.0)  # slow: 64k decided, waits for the sentence joint
    assert adapter.bitrate == "64k"
    adapter.take()
    assert adapter.take() is None  # taken once
    adapter.sent(2.0, 16000, 1.5, now=6.0)
    for i in range(1, 6):  # caught up within one sentence: 96k, then 128k
        adapter.sent(2.0, 16000, 0.0, now=6.0 + 0.2 * i)
    assert adapter.take() == BitrateChange("128k", "64k", "client_caught_up", adapter.changes[-1].client_kbps)


@pytest.mark.parametrize("fmt, rate, decoded_rate", [("mp3", 22050, 22050), ("opus", 24000, 48000)])
def test_encoder_switches_bitrate_mid_stream_and_stays_decodable(fmt, rate, decoded_rate, tmp_path):
    rng = np.random.default_rng(0)
    tone = np.sin(np.arange(rate * 3) * 0.07) * 0.3 + rng.standard_normal(rate * 3) * 0.05
    audio = AudioBuffer(tone.astype(np.float32), rate)
    encoder = StreamEncoder(fmt, rate, bitrate="96k")
    high = encoder.feed(audio)
    joint = encoder.set_bitrate("16k")
    low = encoder.feed(audio) + encoder.finish()
    assert len(low) < len(high) / 2 + len(joint)
    path = tmp_path / f"switched.{fmt}"
    path.write_bytes(high + joint + low)
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-"], capture_output=True, check=True
    )
    assert decoded.stderr == b""
    assert len(decoded.stdout) / 2 / decoded_rate == pytest.approx(6.0, abs=0.15)  # mp3: encoder delay at the joint
    if fmt == "mp3":
        rates = mp3_frame_bitrates(high + joint + low)
        assert rates[0] == 96 and rates[-1] == 16 and set(rates) == {96, 16}


def decoded_seconds(data: bytes, container: str, rate: int) -> float:
    """Seconds of audio ffmpeg decodes from `data` (no decoder error allowed)."""
    decoded = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", container, "-i", "pipe:0", "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"],
        input=data,
        capture_output=True,
        check=True,
    )
    assert decoded.stderr == b""
    return len(decoded.stdout) / 2 / rate


def still_slow(events: list[dict], started: float) -> bool:
    """The slow phase lasts until the server said ``slow_client`` (or `SLOW_PHASE_MAX_S` passed)."""
    told = any(e.get("type") == "quality" and e.get("reason") == "slow_client" for e in events)
    return not told and time.monotonic() - started < SLOW_PHASE_MAX_S


def _request(text: str) -> dict:
    return {"text": text, "options": {"format": "mp3", "bitrate": "128k", "stream": True}}


@pytest.mark.slow
def test_chunked_stream_lowers_bitrate_for_a_slow_reader_and_raises_it_back(embedded_server):
    """NDJSON chunked route: quality events are signalled in-band, and the mp3 frames themselves change bitrate."""
    lines, buffered, started = [], bytearray(), time.monotonic()

    def on_data(data: bytes, pacer: Pacer) -> None:
        buffered.extend(data)
        *complete, rest = bytes(buffered).split(b"\n")
        buffered[:] = rest
        lines.extend(json.loads(line) for line in complete)
        pacer.rate = SLOW_BPS if still_slow(lines, started) else None

    status, _ = stream_post(
        embedded_server.url, "/synthesize", _request(long_text(1500)), {"accept": "application/x-ndjson"}, on_data
    )
    assert status == 200 and lines[-1]["type"] == "end"
    quality = [e for e in lines if e["type"] == "quality"]
    reasons = [e["reason"] for e in quality]
    assert "slow_client" in reasons, quality
    assert "client_caught_up" in reasons[reasons.index("slow_client") :], quality
    audio = b"".join(base64.b64decode(e["audio"]) for e in lines if e["type"] == "audio")
    rates = mp3_frame_bitrates(audio)
    lowest = min(int(e["bitrate"][:-1]) for e in quality)
    assert rates[0] == 128 and lowest in rates and lowest < 128
    assert rates.index(lowest) < len(rates) - 1 - rates[::-1].index(max(rates[rates.index(lowest) :]))
    # ffmpeg reads every frame; libsndfile's mpg123 would trust the first frame's bitrate for the length
    assert decoded_seconds(audio, "mp3", 22050) == pytest.approx(lines[-1]["duration_s"], rel=0.02)


@pytest.mark.slow
def test_websocket_lowers_opus_bitrate_for_a_slow_reader_and_raises_it_back(embedded_server, tmp_path):
    websockets = pytest.importorskip("websockets.sync.client")
    host, port = embedded_server.url.removeprefix("http://").split(":")
    sock = small_socket(host, int(port))
    audio, events, pacer = bytearray(), [], Pacer()
    with websockets.connect(
        f"ws://{host}:{port}/v1/stream", sock=sock, max_queue=1, compression=None, max_size=None
    ) as ws:
        ws.send(json.dumps({"type": "config", "format": "opus", "bitrate": "128k"}))
        ws.send(json.dumps({"type": "text", "text": long_text(1500)}))
        ws.send(json.dumps({"type": "close"}))
        started = time.monotonic()
        for message in ws:
            pacer.rate = SLOW_BPS if still_slow(events, started) else None
            if isinstance(message, bytes):
                audio += message
                pacer.took(len(message))
            else:
                events.append(json.loads(message))
    assert events[0]["type"] == "start" and events[-1]["type"] == "end"
    quality = [e for e in events if e["type"] == "quality"]
    reasons = [e["reason"] for e in quality]
    assert "slow_client" in reasons, quality
    assert "client_caught_up" in reasons[reasons.index("slow_client") :], quality
    assert decoded_seconds(bytes(audio), "ogg", 48000) == pytest.approx(events[-1]["duration_s"], rel=0.02)
