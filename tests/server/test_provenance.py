"""The 'AI-generated speech' declaration and chapter marks, read back by ffprobe and soundfile from every format
that can carry them; headerless formats stay untouched."""

from __future__ import annotations

import io
import json
import subprocess
import tempfile

import httpx
import numpy as np
import pytest
import soundfile as sf

from tts_predictor.audio import provenance
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.encode import encode

CHAPTERS = [provenance.ChapterMark("Intro", 0.0, 0.5), provenance.ChapterMark("Main", 0.5, 1.0)]


def probe(data: bytes) -> dict:
    with tempfile.NamedTemporaryFile() as handle:  # a file, as players see it (WAV cue chunks follow the data)
        handle.write(data)
        handle.flush()
        result = subprocess.run(
            ["ffprobe", "-v", "error", "-show_chapters", "-show_format", "-show_streams", "-of", "json", handle.name],
            capture_output=True,
            check=True,
        )
    return json.loads(result.stdout)


def all_tags(info: dict) -> dict[str, str]:
    tags = {k.lower(): v for k, v in info["format"].get("tags", {}).items()}
    for stream in info["streams"]:
        tags.update({k.lower(): v for k, v in stream.get("tags", {}).items()})
    return tags


@pytest.fixture(scope="module")
def tone() -> AudioBuffer:
    t = np.arange(22050) / 22050
    return AudioBuffer((0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050)


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "opus"])
def test_declaration_and_chapters_read_back(tone, fmt):
    data = provenance.tag(encode(tone, fmt), fmt, title="Demo", chapters=CHAPTERS)
    info = probe(data)
    tags = all_tags(info)
    assert tags["comment"] == provenance.DECLARATION
    assert tags["title"] == "Demo"
    if fmt != "wav":
        assert tags["ai_generated"] == "true"
    if fmt in ("wav", "flac", "mp3"):  # Ogg: no chapter comments (ffmpeg 5.1 writes none or wrong ones)
        assert [c["tags"]["title"] for c in info["chapters"]] == ["Intro", "Main"]
        assert float(info["chapters"][1]["start_time"]) == pytest.approx(0.5, abs=0.01)
    assert float(info["format"]["duration"]) == pytest.approx(1.0, abs=0.1)


def test_wav_and_flac_comment_seen_by_libsndfile(tone):
    for fmt in ("wav", "flac"):
        with sf.SoundFile(io.BytesIO(provenance.tag(encode(tone, fmt), fmt))) as handle:
            assert handle.comment == provenance.DECLARATION
            assert handle.frames == 22050


def test_headerless_formats_unchanged_and_switch_off(tone):
    for fmt in ("pcm", "mulaw", "aac", "ogg"):  # ogg: see provenance.TAGGED_FORMATS
        raw = encode(tone, fmt)
        assert provenance.tag(raw, fmt) == raw
    plain = encode(tone, "wav")
    provenance.configure(False)
    try:
        assert provenance.tag(plain, "wav") == plain
    finally:
        provenance.configure(True)


@pytest.mark.slow
def test_every_route_declares_ai_speech(embedded_server):
    rest = httpx.post(f"{embedded_server.url}/synthesize", json={"text": "Hello.", "options": {"format": "mp3"}})
    assert all_tags(probe(rest.content))["ai_generated"] == "true"
    v2 = httpx.post(
        f"{embedded_server.url}/v2/models/tts/infer",
        json={"inputs": [{"name": "text", "datatype": "BYTES", "shape": [1], "data": ["Hello."]}]},
    )
    import base64

    wav = base64.b64decode(v2.json()["outputs"][0]["data"][0])
    assert all_tags(probe(wav))["comment"] == provenance.DECLARATION
