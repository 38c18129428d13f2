"""Streaming encoders that stay open for a whole response and hand out each chunk's bytes as soon as it is fed.

mp3, opus, aac and flac go through PyAV (FFmpeg's libraries in-process, no process per request); Ogg Vorbis
goes through libsndfile's libvorbis (soundfile), since the FFmpeg build in PyAV's wheels has no libvorbis and
FFmpeg's own Vorbis encoder is experimental. wav/pcm/G.711 are written directly. `feed` returns every byte
the encoder has produced for the audio so far: lossy codecs keep back only their look-ahead (tens of ms),
and Ogg pages are cut every `OGG_PAGE_US` so a sentence's audio leaves with it.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import numpy as np
import soundfile as sf

from .buffer import AudioBuffer
from .dsp import resample

OGG_PAGE_US = 100_000
"""Ogg page length (µs) for opus: short pages let each segment's audio out at once (about 6 % overhead)."""
DEFAULT_BITRATES = {"mp3": "64k", "ogg": "64k", "opus": "32k", "aac": "64k"}
_AV_FORMATS = {  # format -> (codec, container)
    "mp3": ("libmp3lame", "mp3"),
    "opus": ("libopus", "ogg"),
    "aac": ("aac", "adts"),
    "flac": ("flac", "flac"),
}
RAW_FORMATS = ("wav", "pcm", "mulaw", "alaw")
COMPRESSED_FORMATS = (*_AV_FORMATS, "ogg")


class EncoderUnavailable(RuntimeError):
    """The library needed for this format is missing or failed."""


def _kbps(bitrate: str | None, fmt: str) -> int:
    return int((bitrate or DEFAULT_BITRATES[fmt]).rstrip("k"))


def wav_stream_header(sample_rate: int) -> bytes:
    """44-byte PCM16 mono WAV header whose RIFF and data sizes are 0xFFFFFFFF ("length unknown")."""
    byte_rate = sample_rate * 2
    return (b"RIFF" + (0xFFFFFFFF).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
            + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + sample_rate.to_bytes(4, "little")
            + byte_rate.to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
            + b"data" + (0xFFFFFFFF).to_bytes(4, "little"))


class _Sink(io.RawIOBase):
    """A write-only, non-seekable byte sink (so muxers write streamable headers) drained by `take`."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


class _VorbisSink(_Sink):
    """libsndfile asks a virtual file for its length (seek to the end + tell); it never seeks back for Ogg."""

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self.position

    def tell(self) -> int:
        return self.position


class _FileSink(io.BytesIO):
    """A seekable in-memory file for whole-file encodes (mp3 gets its Xing header, flac its total length)."""

    def take(self) -> bytes:
        return b""


class StreamEncoder:
    """One encoded stream of `fmt` at `rate` Hz: `feed` chunks, then `finish`; `close` releases it early.

    With `whole_file`, the output is seekable and all bytes come from `finish` (a complete file with sizes).

    Thread-safe: `close` may run while another thread is inside `feed` (it waits for it).
    """

    def __init__(self, fmt: str, rate: int, *, bitrate: str | None = None, whole_file: bool = False) -> None:
        self.fmt, self.rate, self.bitrate = fmt, rate, bitrate
        self._lock = threading.Lock()
        self._closed = False
        self._started = False
        self._sink: _Sink | _FileSink = _FileSink() if whole_file else (_VorbisSink() if fmt == "ogg" else _Sink())
        self._container: Any = None
        self._stream: Any = None
        self._sndfile: sf.SoundFile | None = None

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
            self._end()
            self._closed = True
            if isinstance(self._sink, _FileSink):
                return head + self._sink.getvalue()
            return head + self._sink.take()

    def close(self) -> None:
        """Release the encoder without finishing the stream (the consumer is gone)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                try:
                    self._end()
                except Exception:  # noqa: BLE001 - the stream is being dropped anyway
                    pass

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        if self.fmt == "wav":
            return wav_stream_header(self.rate)
        if self.fmt in _AV_FORMATS:
            self._open_av()
        elif self.fmt == "ogg":
            # libvorbis VBR quality from the bitrate: 0.0 ~ 48 kbps, 0.4 ~ 90 kbps (mono 22-24 kHz speech).
            level = min(max(1.0 - (_kbps(self.bitrate, "ogg") - 40) / 110, 0.0), 1.0)
            self._sndfile = sf.SoundFile(self._sink, "w", samplerate=self.rate, channels=1, format="OGG",
                                         subtype="VORBIS", compression_level=level)
        return b""

    def _open_av(self) -> None:
        try:
            import av
        except ImportError as exc:  # pragma: no cover - av is a dependency
            raise EncoderUnavailable(f"format {self.fmt!r} needs PyAV (pip install av)") from exc
        codec, container = _AV_FORMATS[self.fmt]
        options = {"flush_packets": "1"} | ({"page_duration": str(OGG_PAGE_US)} if container == "ogg" else {})
        try:
            self._container = av.open(self._sink, "w", format=container, options=options)
            self._stream = self._container.add_stream(codec, rate=self.rate, layout="mono")
            if self.fmt in DEFAULT_BITRATES:
                self._stream.bit_rate = _kbps(self.bitrate, self.fmt) * 1000
        except Exception as exc:
            raise EncoderUnavailable(f"cannot open the {self.fmt} encoder: {str(exc)[:200]}") from exc

    def _write(self, samples: np.ndarray) -> None:
        if self._stream is not None:
            import av

            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = self.rate
            self._container.mux(self._stream.encode(frame))
        elif self._sndfile is not None:
            self._sndfile.write(samples)
            self._sndfile.flush()
        elif self.fmt in ("pcm", "wav"):
            self._sink.write(samples.astype("<i2").tobytes())
        else:
            g711 = io.BytesIO()
            sf.write(g711, samples, self.rate, format="RAW", subtype="ULAW" if self.fmt == "mulaw" else "ALAW")
            self._sink.write(g711.getvalue())

    def _end(self) -> None:
        if self._stream is not None:
            self._container.mux(self._stream.encode(None))
            self._container.close()
            self._stream = None
        elif self._sndfile is not None:
            self._sndfile.close()
            self._sndfile = None
