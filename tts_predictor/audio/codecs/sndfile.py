"""mp3, flac, Ogg Vorbis and Ogg Opus encoders through libsndfile (the LGPL library inside soundfile's wheel).

libsndfile cuts an Ogg page when it is full (Vorbis, about 4 KB: ~0.5 s at 64 kbps) or, for Opus, every
`OPUS_PAGE_MS` (set with SFC_SET_OGG_PAGE_LATENCY_MS; libsndfile's default of 1 s would hold back two slices).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import soundfile as sf

from tts_predictor.audio.codecs.base import StreamSink, kbps
from tts_predictor.errors import EncoderUnavailable

OPUS_PAGE_MS = 100.0
"""Ogg Opus page latency: each segment's audio leaves within this much of being encoded (about 6 % overhead)."""
_SFC_SET_OGG_PAGE_LATENCY_MS = 0x1302  # sndfile.h, libsndfile >= 1.1
_SFC_SET_COMPRESSION_LEVEL = 0x1301  # sndfile.h
_TYPES = {
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
}


MP3_MAX_LEVEL = 0.999
"""libsndfile refuses compression level 1.0 for mp3 ("Error set compression level 1.0"); just below it LAME gets the
version's lowest bitrate."""


def _mp3_level(rate: int, target: int) -> float:
    """libsndfile maps a CBR compression level linearly onto the MPEG version's bitrate range (kbit/s).

    A bitrate below the range (16k-24k at 32 kHz or more: MPEG-1 starts at 32k) gets the range's lowest, the
    nearest valid pair (docs/api.md)."""
    low, high = (32, 320) if rate >= 32000 else ((8, 160) if rate >= 16000 else (8, 64))
    return min(MP3_MAX_LEVEL, (high - min(max(target, low), high)) / (high - low))


def _options(fmt: str, rate: int, bitrate: str | None) -> dict[str, Any]:
    if fmt == "mp3":
        return {"compression_level": _mp3_level(rate, kbps(bitrate, fmt)), "bitrate_mode": "CONSTANT"}
    if fmt == "opus":  # libsndfile: bitrate = 6 kbps + (1 - level) * 250 kbps (mono)
        return {"compression_level": min(max(1.0 - (kbps(bitrate, fmt) - 6) / 250, 0.0), 1.0)}
    if fmt == "ogg":  # libvorbis VBR quality from the bitrate: 0.0 ~ 48 kbps, 0.4 ~ 90 kbps (mono 22-24 kHz speech)
        return {"compression_level": min(max(1.0 - (kbps(bitrate, fmt) - 40) / 110, 0.0), 1.0)}
    return {}


def _drop_tag_placeholder(sink: StreamSink) -> None:
    """Drop the empty first mp3 frame LAME reserves for its Info/Xing tag: libsndfile fills it by seeking back at
    the end, which a stream cannot, and decoders that read the empty frame as a tag (mpg123) then guess the length
    wrong and cut the audio short."""
    head = sink.peek()
    if len(head) < 8 or head[0] != 0xFF:
        return
    end = next((i for i in range(4, len(head)) if head[i]), len(head))
    if end < len(head) - 1 and head[end] == 0xFF and head[end + 1] & 0xE0 == 0xE0:
        sink.discard(end)


class SndfileCodec:
    """One libsndfile writer on `sink`; each write is synced, so finished pages/frames reach the sink at once."""

    def __init__(self, sink: Any, fmt: str, rate: int, bitrate: str | None) -> None:
        container, subtype = _TYPES[fmt]
        self._sink = sink
        self._strip_tag = fmt == "mp3" and isinstance(sink, StreamSink)
        try:
            self._file = sf.SoundFile(
                sink,
                "w",
                samplerate=rate,
                channels=1,
                format=container,
                subtype=subtype,
                **_options(fmt, rate, bitrate),
            )
        except Exception as exc:
            raise EncoderUnavailable(f"cannot open the {fmt} encoder: {str(exc)[:200]}") from exc
        if fmt == "opus":
            from soundfile import _ffi, _snd  # type: ignore[attr-defined]  # no Python face for this command

            latency = _ffi.new("double*", OPUS_PAGE_MS)
            _snd.sf_command(self._file._file, _SFC_SET_OGG_PAGE_LATENCY_MS, latency, _ffi.sizeof("double"))

        self._fmt, self._rate = fmt, rate

    def retune(self, bitrate: str) -> bool:
        """Change the bitrate of the audio written from now on, if the codec can (Opus: libsndfile passes the new
        level to libopus mid-stream; LAME fixes its bitrate at the first frame, so mp3 says False)."""
        if self._fmt != "opus":
            return False
        from soundfile import _ffi, _snd  # type: ignore[attr-defined]

        level = _ffi.new("double*", _options(self._fmt, self._rate, bitrate)["compression_level"])
        return bool(_snd.sf_command(self._file._file, _SFC_SET_COMPRESSION_LEVEL, level, _ffi.sizeof("double")))

    def write(self, samples: np.ndarray) -> None:
        self._file.write(samples)
        self._file.flush()
        if self._strip_tag:
            self._strip_tag = False
            _drop_tag_placeholder(self._sink)

    def end(self) -> None:
        self._file.close()

    def abort(self) -> None:
        self._file.close()
