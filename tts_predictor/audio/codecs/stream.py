"""Streaming encoders that stay open for a whole response and hand out each chunk's bytes as soon as it is fed.

Default backend ``sndfile``: mp3, flac, ogg (Vorbis) and opus through libsndfile (soundfile's wheel: LGPL
libsndfile with LAME/mpg123, libopus, libvorbis, libFLAC), aac through one ``ffmpeg`` process per stream (a
separate program). Opt-in backend ``pyav`` (``TTS_ENCODER_BACKEND=pyav``, extra ``tts-predictor[pyav]``):
mp3/opus/aac/flac through PyAV, whose wheel bundles GPL x264/x265 — hence never part of the default install.
wav/pcm/G.711 are written directly. `feed` returns every byte the encoder has produced for the audio so far.
"""

from __future__ import annotations

import importlib
import io
import threading
from typing import Any

import numpy as np
import soundfile as sf

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.codecs.base import PYAV_MODULE, Codec, FileSink, Sink, StreamSink
from tts_predictor.audio.dsp import resample
from tts_predictor.errors import EncoderUnavailable

BACKENDS = ("sndfile", "pyav")
RAW_FORMATS = ("wav", "pcm", "mulaw", "alaw")
COMPRESSED_FORMATS = ("mp3", "opus", "aac", "flac", "ogg")
PYAV_FORMATS = ("mp3", "opus", "aac", "flac")
_backend = "sndfile"


def use_backend(name: str) -> None:
    """Select the encoder backend for this process; raise EncoderUnavailable if it cannot be used."""
    global _backend
    if name not in BACKENDS:
        raise EncoderUnavailable(f"encoder backend {name!r} is unknown; use one of: {', '.join(BACKENDS)}")
    if name == "pyav":
        try:
            importlib.import_module(PYAV_MODULE)
        except ImportError:
            raise EncoderUnavailable(
                "TTS_ENCODER_BACKEND=pyav needs PyAV, which is not installed: pip install 'tts-predictor[pyav]' "
                "(its wheel bundles GPL-licensed x264/x265), or use the default TTS_ENCODER_BACKEND=sndfile"
            ) from None
    _backend = name


def current_backend() -> str:
    """The backend `StreamEncoder` uses when none is given."""
    return _backend


def bitrate_adaptable(fmt: str, backend: str | None = None) -> bool:
    """Whether a stream of `fmt` can change its bitrate mid-stream: mp3 and opus with the sndfile backend (PyAV's
    muxers would put headers mid-stream: an ID3 tag, or a chained Ogg that browsers do not play)."""
    return fmt in ("mp3", "opus") and (backend or _backend) == "sndfile"


def wav_stream_header(sample_rate: int) -> bytes:
    """44-byte PCM16 mono WAV header whose RIFF and data sizes are 0xFFFFFFFF ("length unknown")."""
    byte_rate = sample_rate * 2
    return (
        b"RIFF"
        + (0xFFFFFFFF).to_bytes(4, "little")
        + b"WAVEfmt "
        + (16).to_bytes(4, "little")
        + (1).to_bytes(2, "little")
        + (1).to_bytes(2, "little")
        + sample_rate.to_bytes(4, "little")
        + byte_rate.to_bytes(4, "little")
        + (2).to_bytes(2, "little")
        + (16).to_bytes(2, "little")
        + b"data"
        + (0xFFFFFFFF).to_bytes(4, "little")
    )


def _open_codec(fmt: str, rate: int, bitrate: str | None, sink: Any, backend: str) -> Codec:
    if backend == "pyav" and fmt in PYAV_FORMATS:
        from tts_predictor.audio.codecs.pyav import PyAVCodec

        return PyAVCodec(sink, fmt, rate, bitrate)
    if fmt == "aac":
        from tts_predictor.audio.codecs.ffmpeg import FfmpegCodec

        return FfmpegCodec(sink, fmt, rate, bitrate)
    from tts_predictor.audio.codecs.sndfile import SndfileCodec

    return SndfileCodec(sink, fmt, rate, bitrate)


class StreamEncoder:
    """One encoded stream of `fmt` at `rate` Hz: `feed` chunks, then `finish`; `close` releases it early.

    With `whole_file`, the output is seekable and all bytes come from `finish` (a complete file with sizes).
    `backend` defaults to the one chosen by `use_backend`. Thread-safe: `close` may run while another thread
    is inside `feed` (it waits for it).
    """

    def __init__(
        self, fmt: str, rate: int, *, bitrate: str | None = None, whole_file: bool = False, backend: str | None = None
    ) -> None:
        self.fmt, self.rate, self.bitrate = fmt, rate, bitrate
        self.backend = backend or _backend
        self._lock = threading.Lock()
        self._closed = False
        self._started = False
        pyav = self.backend == "pyav" and fmt in PYAV_FORMATS
        self._sink: Sink | FileSink = FileSink() if whole_file else (Sink() if pyav else StreamSink())
        self._codec: Codec | None = None

    def feed(self, buf: AudioBuffer) -> bytes:
        """Encode one chunk (resampled to the stream's rate); the bytes ready now."""
        samples = resample(buf, self.rate).to_int16()
        with self._lock:
            if self._closed:
                return b""
            head = self._start()
            if len(samples):
                self._write(samples)
            return head + self._sink.take()

    def finish(self) -> bytes:
        """Flush the encoder and write the trailer; the remaining bytes (an empty stream is still valid)."""
        with self._lock:
            if self._closed:
                return b""
            head = self._start()
            self._closed = True
            if self._codec is not None:
                self._codec.end()
            if isinstance(self._sink, FileSink):
                return head + self._sink.getvalue()
            return head + self._sink.take()

    @property
    def adaptable(self) -> bool:
        """Whether `set_bitrate` can change this stream's bitrate (`bitrate_adaptable`)."""
        return bitrate_adaptable(self.fmt, self.backend)

    def set_bitrate(self, bitrate: str) -> bytes:
        """Encode the audio fed from now on at `bitrate` (if `adaptable`); the bytes to send before it.

        Opus through libsndfile changes in place (the Ogg stream goes on). MP3 (LAME fixes its bitrate at the
        first frame) finishes the current stream and starts a new one with the next feed: MP3 frames carry
        their own bitrate, so the joined streams decode as one, with the encoder's delay (about 50 ms of
        silence) at the joint.
        """
        with self._lock:
            if self._closed or bitrate == self.bitrate or not self.adaptable:
                return b""
            self.bitrate = bitrate
            retune = getattr(self._codec, "retune", None)
            if self._codec is None or (retune is not None and retune(bitrate)) or self.fmt != "mp3":
                return b""
            self._codec.end()
            tail = self._sink.take()
            self._sink = type(self._sink)()
            self._codec = _open_codec(self.fmt, self.rate, bitrate, self._sink, self.backend)
            return tail

    def close(self) -> None:
        """Release the encoder without finishing the stream (the consumer is gone)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                if self._codec is not None:
                    try:
                        self._codec.abort()
                    except Exception:  # noqa: BLE001 - the stream is being dropped anyway
                        pass

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        if self.fmt == "wav":
            return wav_stream_header(self.rate)
        if self.fmt in COMPRESSED_FORMATS:
            self._codec = _open_codec(self.fmt, self.rate, self.bitrate, self._sink, self.backend)
        return b""

    def _write(self, samples: np.ndarray) -> None:
        if self._codec is not None:
            self._codec.write(samples)
        elif self.fmt in ("pcm", "wav"):
            self._sink.write(samples.astype("<i2").tobytes())
        else:
            g711 = io.BytesIO()
            sf.write(g711, samples, self.rate, format="RAW", subtype="ULAW" if self.fmt == "mulaw" else "ALAW")
            self._sink.write(g711.getvalue())
