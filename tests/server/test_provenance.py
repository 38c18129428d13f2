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
from tts_predictor.audio.output import OutputConfig

TAGS = OutputConfig()
"""The default output: declaration tags on, no signer."""

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
    data = TAGS.tag(encode(tone, fmt), fmt, title="Demo", chapters=CHAPTERS)
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
        with sf.SoundFile(io.BytesIO(TAGS.tag(encode(tone, fmt), fmt))) as handle:
            assert handle.comment == provenance.DECLARATION
            assert handle.frames == 22050


def test_headerless_formats_unchanged_and_switch_off(tone):
    for fmt in ("pcm", "mulaw", "aac", "ogg"):  # ogg: see provenance.TAGGED_FORMATS
        raw = encode(tone, fmt)
        assert TAGS.tag(raw, fmt) == raw
    plain = encode(tone, "wav")
    assert OutputConfig(provenance_tags=False).tag(plain, "wav") == plain
    assert TAGS.tag(plain, "wav") != plain


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


DECLARED = ("comment", "ai_generated", "encoder")
"""The declaration's tags as ffprobe names them (COMMENT/ICMT, AI_GENERATED/IKEY, ENCODER/TSSE/ISFT)."""


def declared(data: bytes) -> dict[str, str]:
    """The declaration's tags of a file; the container's (format) tags win over a stream's own (an mp3 stream's
    LAME header names its encoder at stream level, the ID3 tag at format level)."""
    info = probe(data)
    tags: dict[str, str] = {}
    for stream in info["streams"]:
        tags.update({k.lower(): v for k, v in stream.get("tags", {}).items()})
    tags.update({k.lower(): v for k, v in info["format"].get("tags", {}).items()})
    return {k: v for k, v in tags.items() if k in DECLARED}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["mp3", "wav", "flac", "opus"])
def test_streamed_outputs_carry_the_whole_files_tags(embedded_server, fmt):
    """One output chain: a stream's first bytes carry the declaration the whole file carries (issue 22)."""
    text = "Hello there. This is a second sentence."
    whole = httpx.post(f"{embedded_server.url}/synthesize", json={"text": text, "options": {"format": fmt}})
    streamed = httpx.post(
        f"{embedded_server.url}/synthesize", json={"text": text, "options": {"format": fmt, "stream": True}}
    )
    assert whole.status_code == streamed.status_code == 200
    expected = declared(whole.content)
    assert expected.get("comment") == provenance.DECLARATION or expected.get("ai_generated") == "true"
    assert declared(streamed.content) == expected


@pytest.mark.slow
def test_openai_streamed_mp3_carries_the_same_tags_as_the_whole_file(embedded_server):
    """The OpenAI route always streams; its mp3 starts with the same ID3 declaration as /synthesize's whole file."""
    text = "Hello there. This is a second sentence."
    whole = httpx.post(f"{embedded_server.url}/synthesize", json={"text": text, "options": {"format": "mp3"}})
    speech = httpx.post(
        f"{embedded_server.url}/v1/audio/speech",
        json={"model": "tts-1", "input": text, "voice": "alloy", "response_format": "mp3"},
    )
    assert speech.status_code == 200 and speech.content[:3] == b"ID3"
    expected = declared(whole.content)
    assert expected["ai_generated"] == "true" and declared(speech.content) == expected
