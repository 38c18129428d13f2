"""Opus comments rewritten in place: libsndfile's file keeps its audio pages, gains the tags, and every page's CRC holds."""

from __future__ import annotations

import io
import json
import struct
import subprocess

import numpy as np
import pytest
import soundfile as sf

from tts_predictor.audio.ogg_comments import ogg_crc, with_opus_comments


def _opus(seconds: float = 2.0) -> bytes:
    out = io.BytesIO()
    with sf.SoundFile(out, "w", samplerate=48000, channels=1, format="OGG", subtype="OPUS") as handle:
        handle.write((0.3 * np.sin(np.arange(int(48000 * seconds)) * 0.05)).astype(np.float32))
    return out.getvalue()


def _pages(data: bytes) -> list[bytes]:
    pages, pos = [], 0
    while pos < len(data):
        assert data[pos : pos + 4] == b"OggS"
        count = data[pos + 26]
        end = pos + 27 + count + sum(data[pos + 27 : pos + 27 + count])
        pages.append(data[pos:end])
        pos = end
    return pages


def test_tags_added_audio_pages_kept_and_crcs_valid(tmp_path) -> None:
    data = _opus()
    tagged = with_opus_comments(data, {"COMMENT": "AI-generated speech", "TITLE": "Chapter = one"})
    assert tagged is not None
    old, new = _pages(data), _pages(tagged)
    assert len(old) == len(new) and old[0] == new[0] and old[2:] == new[2:]  # only the OpusTags page changed
    for page in new:
        zeroed = page[:22] + b"\0\0\0\0" + page[26:]
        assert struct.unpack_from("<I", page, 22)[0] == ogg_crc(zeroed)
    path = tmp_path / "t.opus"
    path.write_bytes(tagged)
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    assert probe["streams"][0]["tags"]["TITLE"] == "Chapter = one"
    assert float(probe["format"]["duration"]) == pytest.approx(2.0, abs=0.05)
    samples, rate = sf.read(path)
    assert rate == 48000 and len(samples) == 96000


def test_same_key_replaced_and_unusual_input_refused() -> None:
    once = with_opus_comments(_opus(0.5), {"TITLE": "a"})
    twice = with_opus_comments(once, {"TITLE": "b"})
    assert twice is not None and b"TITLE=b" in twice and b"TITLE=a" not in twice
    assert with_opus_comments(b"RIFF....", {"TITLE": "x"}) is None
    assert with_opus_comments(_opus(0.5), {"COMMENT": "x" * 70000}) is None  # would need a second page
