"""Opt-in PyAV encoders (``TTS_ENCODER_BACKEND=pyav``) for mp3/opus/aac/flac: FFmpeg's libraries in-process.

PyAV's binary wheel bundles GPL-licensed libx264/libx265, so it is an optional extra, never a default dependency.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tts_predictor.audio.codecs.base import DEFAULT_BITRATES, PYAV_MODULE, kbps
from tts_predictor.errors import EncoderUnavailable

OGG_PAGE_US = 100_000
"""Ogg page length (µs) for opus: short pages let each segment's audio out at once (about 6 % overhead)."""
_FORMATS = {  # format -> (codec, container)
    "mp3": ("libmp3lame", "mp3"),
    "opus": ("libopus", "ogg"),
    "aac": ("aac", "adts"),
    "flac": ("flac", "flac"),
}


class PyAVCodec:
    """One PyAV output container with one mono audio stream, writing into `sink`."""

    def __init__(self, sink: Any, fmt: str, rate: int, bitrate: str | None) -> None:
        try:
            self._av = __import__(PYAV_MODULE)
        except ImportError as exc:
            raise EncoderUnavailable(f"format {fmt!r} with the pyav backend needs PyAV (tts-predictor[pyav])") from exc
        codec, container = _FORMATS[fmt]
        options = {"flush_packets": "1"} | ({"page_duration": str(OGG_PAGE_US)} if container == "ogg" else {})
        self.rate = rate
        try:
            self._container = self._av.open(sink, "w", format=container, options=options)
            self._stream = self._container.add_stream(codec, rate=rate, layout="mono")
            if fmt in DEFAULT_BITRATES:
                self._stream.bit_rate = kbps(bitrate, fmt) * 1000
        except Exception as exc:
            raise EncoderUnavailable(f"cannot open the {fmt} encoder: {str(exc)[:200]}") from exc

    def write(self, samples: np.ndarray) -> None:
        frame = self._av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = self.rate
        self._container.mux(self._stream.encode(frame))

    def end(self) -> None:
        self._container.mux(self._stream.encode(None))
        self._container.close()

    def abort(self) -> None:
        self.end()
