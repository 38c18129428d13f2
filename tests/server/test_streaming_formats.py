"""Every format streams from the first sentence, over the real server: in the NDJSON stream (the same encoder
path as the OpenAI route and /synthesize), audio that decodes arrives before the last sentence's event; a
non-streamed WAV has its real sizes in the header."""

from __future__ import annotations

import base64
import json
import struct

import httpx
import pytest
from decode_helpers import decode_audio
from server_process import ServerProcess

pytestmark = pytest.mark.slow

TEXT = " ".join(
    f"Sentence {word} is here to keep the encoder busy for a while."
    for word in ("one", "two", "three", "four", "five", "six")
)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac", "ogg", "wav", "pcm"])
def test_audio_before_the_last_sentence_is_done(embedded_server: ServerProcess, fmt: str) -> None:
    body = {"text": TEXT, "options": {"format": fmt, "stream": True}}
    with httpx.stream(
        "POST", f"{embedded_server.url}/synthesize", json=body, timeout=120, headers={"Accept": "application/x-ndjson"}
    ) as r:
        assert r.status_code == 200
        messages = [json.loads(line) for line in r.iter_lines() if line]
    segments = [i for i, m in enumerate(messages) if m["type"] == "segment"]
    assert len(segments) == 6 and messages[-1]["type"] == "end"
    early = b"".join(base64.b64decode(m["audio"]) for m in messages[: segments[-1]] if m["type"] == "audio")
    whole = b"".join(base64.b64decode(m["audio"]) for m in messages if m["type"] == "audio")
    if fmt == "pcm":
        assert len(early) > 22050 * 2  # over a second of samples before the last sentence's event
        return
    early_audio, rate = decode_audio(early)
    all_audio, _ = decode_audio(whole)
    assert rate > 0 and len(early_audio) / rate > 1.0, f"{fmt}: {len(early_audio)} samples before the last event"
    assert len(all_audio) / rate >= messages[-1]["duration_s"] - 0.2


def test_whole_wav_has_real_sizes(embedded_server: ServerProcess) -> None:
    r = httpx.post(
        f"{embedded_server.url}/synthesize", json={"text": "Sizes, please.", "options": {"format": "wav"}}, timeout=60
    )
    data = r.content
    (riff_size,) = struct.unpack("<I", data[4:8])
    data_at = data.index(b"data")
    (data_size,) = struct.unpack("<I", data[data_at + 4 : data_at + 8])
    assert riff_size == len(data) - 8 and data_size == len(data) - data_at - 8


@pytest.mark.parametrize("fmt", ["wav", "pcm", "mp3", "opus"])
def test_ndjson_segment_event_follows_the_sentences_first_chunk(embedded_server: ServerProcess, fmt: str) -> None:
    """docs/api.md (NDJSON): wav and pcm send a sentence as one chunk, so its event follows all its audio; the
    compressed formats send several chunks per sentence and the event follows the first, the rest comes after."""
    text = "First sentence here. Second one follows. Third and last."
    body = {"text": text, "options": {"format": fmt, "stream": True}}
    with httpx.stream(
        "POST", f"{embedded_server.url}/synthesize", json=body, timeout=120, headers={"Accept": "application/x-ndjson"}
    ) as r:
        kinds = [json.loads(line)["type"] for line in r.iter_lines() if line]
    segments = [i for i, kind in enumerate(kinds) if kind == "segment"]
    assert len(segments) == 3 and all(kinds[i - 1] == "audio" for i in segments)
    after_last = kinds[segments[-1] + 1 : -1]
    if fmt in ("wav", "pcm"):
        assert kinds == ["start", *["audio", "segment"] * 3, "end"]
    else:
        assert after_last and set(after_last) == {"audio"}, kinds  # the last sentence's audio goes on after its event
