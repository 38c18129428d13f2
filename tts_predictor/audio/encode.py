"""Audio encoders: wav/flac/pcm/G.711 in-process, mp3/ogg/opus/aac through the ffmpeg binary; whole-file and streaming."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable, Iterator

import numpy as np
import soundfile as sf
from kserve.errors import InvalidInput

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.dsp import resample


class UnsupportedFormat(InvalidInput):
    """The requested audio format is not one this server encodes."""


class EncoderUnavailable(RuntimeError):
    """The ffmpeg binary needed for this format is missing or failed."""


MEDIA_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "opus": "audio/ogg; codecs=opus",
    "aac": "audio/aac",
    "pcm": "audio/pcm",
    "mulaw": "audio/basic",
    "alaw": "audio/x-alaw-basic",
}
"""Format name → Content-Type. ``pcm`` is raw signed 16-bit little-endian mono (not ``audio/L16``, which is
big-endian by RFC 2586); ``mulaw``/``alaw`` are raw headerless G.711 at 8 kHz mono, as those media types define;
``opus`` is Opus in an Ogg container; ``aac`` is ADTS."""
FORMATS: tuple[str, ...] = tuple(MEDIA_TYPES)
STREAMABLE_FORMATS: tuple[str, ...] = FORMATS
"""Every format streams; wav streams with a header whose sizes say "unknown" (0xFFFFFFFF)."""
G711_RATE = 8000
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
DEFAULT_BITRATES = {"mp3": "64k", "ogg": "64k", "opus": "32k", "aac": "64k"}
BITRATE_KBPS = {"mp3": (8, 320), "ogg": (8, 240), "opus": (6, 256), "aac": (8, 320)}
"""Accepted ``bitrate`` per lossy format, in kbit/s (mono; libopus takes at most 256k per channel)."""
VORBIS_KBPS_BY_RATE = ((8000, 8, 42), (11025, 12, 50), (16000, 16, 90), (32000, 30, 190), (44100, 32, 240))
"""libvorbis's mono ABR range grows with the sample rate (measured with ffmpeg 5-7); bitrates are clamped into it."""
FFMPEG_TIMEOUT_S = 60.0

_FFMPEG_OUTPUT = {
    "mp3": ["-c:a", "libmp3lame", "-f", "mp3"],
    "ogg": ["-c:a", "libvorbis", "-f", "ogg"],
    "opus": ["-c:a", "libopus", "-f", "ogg"],
    "aac": ["-c:a", "aac", "-f", "adts"],
    "flac": ["-c:a", "flac", "-f", "flac"],
}


def media_type(fmt: str, sample_rate: int | None = None) -> str:
    """Content-Type for `fmt`; raw ``pcm`` gets ``;rate=...;channels=1`` when the rate is known."""
    check_format(fmt)
    if fmt == "pcm" and sample_rate:
        return f"{MEDIA_TYPES[fmt]};rate={int(sample_rate)};channels=1"
    return MEDIA_TYPES[fmt]


def check_format(fmt: str) -> str:
    """Return `fmt` if supported, else raise UnsupportedFormat listing the supported formats."""
    if fmt not in MEDIA_TYPES:
        raise UnsupportedFormat(f"format {str(fmt)[:40]!r} is not supported; use one of: {', '.join(FORMATS)}")
    return fmt


def output_rate(fmt: str, rate: int) -> int:
    """Sample rate the encoded stream will have: 8 kHz for G.711, the next Opus rate up for opus, else `rate`."""
    if fmt in ("mulaw", "alaw"):
        return G711_RATE
    if fmt == "opus":
        return next((r for r in OPUS_RATES if r >= rate), OPUS_RATES[-1])
    return rate


def check_bitrate(fmt: str, bitrate: str | None) -> str | None:
    """`bitrate` ("<kbit/s>k") if `fmt` takes it in that range; InvalidInput naming the range otherwise."""
    if bitrate is None or fmt not in BITRATE_KBPS:
        return bitrate  # lossless formats ignore it
    low, high = BITRATE_KBPS[fmt]
    if not low <= int(bitrate[:-1]) <= high:
        raise InvalidInput(f"bitrate: {bitrate} is out of range for {fmt}; use {low}k-{high}k")
    return bitrate


def _ffmpeg_bitrate(fmt: str, rate: int, bitrate: str | None) -> str:
    chosen = bitrate or DEFAULT_BITRATES[fmt]
    if fmt != "ogg":
        return chosen
    _, low, high = next((band for band in reversed(VORBIS_KBPS_BY_RATE) if band[0] <= rate), VORBIS_KBPS_BY_RATE[0])
    return f"{min(max(int(chosen[:-1]), low), high)}k"


def _soundfile_bytes(buf: AudioBuffer, container: str, subtype: str) -> bytes:
    out = io.BytesIO()
    data = buf.to_int16() if subtype == "PCM_16" else np.clip(buf.samples, -1.0, 1.0).astype(np.float32)
    sf.write(out, data, buf.sample_rate, format=container, subtype=subtype)
    return out.getvalue()


def _pcm16(buf: AudioBuffer) -> bytes:
    return buf.to_int16().astype("<i2").tobytes()


def _ffmpeg_command(fmt: str, rate: int, bitrate: str | None, output: str) -> list[str]:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise EncoderUnavailable(f"format {fmt!r} needs the ffmpeg binary, which is not installed")
    command = [exe, "-hide_banner", "-loglevel", "error", "-y",
               "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", "pipe:0", *_FFMPEG_OUTPUT[fmt]]
    if fmt in DEFAULT_BITRATES:
        command += ["-b:a", _ffmpeg_bitrate(fmt, rate, bitrate)]
    if fmt == "mp3":
        command += ["-write_xing", "1"]
    return command + [output if output != "-" else "pipe:1"]


def _ffmpeg_encode(buf: AudioBuffer, fmt: str, bitrate: str | None) -> bytes:
    """Encode via ffmpeg into a temporary file (seekable, so mp3 gets its LAME/Xing gapless header)."""
    with tempfile.TemporaryDirectory(prefix="tts-encode-") as tmp:
        path = os.path.join(tmp, "out." + ("ogg" if fmt == "opus" else fmt))
        command = _ffmpeg_command(fmt, buf.sample_rate, bitrate, path)
        try:
            proc = subprocess.run(command, input=_pcm16(buf), capture_output=True, timeout=FFMPEG_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise EncoderUnavailable(f"ffmpeg took longer than {FFMPEG_TIMEOUT_S:.0f} s to encode {fmt}") from None
        if proc.returncode != 0:
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise EncoderUnavailable(f"ffmpeg failed to encode {fmt} (exit {proc.returncode}): {detail[0][:200]}")
        with open(path, "rb") as handle:
            return handle.read()


def _prepare(buf: AudioBuffer, fmt: str) -> AudioBuffer:
    return resample(buf, output_rate(fmt, buf.sample_rate))


def encode(buf: AudioBuffer, fmt: str, *, bitrate: str | None = None) -> bytes:
    """Encode `buf` as one complete file/stream of `fmt` (see MEDIA_TYPES); `bitrate` applies to lossy formats."""
    check_format(fmt)
    buf = _prepare(buf, fmt)
    if fmt == "wav":
        return _soundfile_bytes(buf, "WAV", "PCM_16")
    if fmt == "flac":
        return _soundfile_bytes(buf, "FLAC", "PCM_16")
    if fmt == "pcm":
        return _pcm16(buf)
    if fmt in ("mulaw", "alaw"):
        return _soundfile_bytes(buf, "RAW", "ULAW" if fmt == "mulaw" else "ALAW")
    return _ffmpeg_encode(buf, fmt, bitrate)


def wav_stream_header(sample_rate: int) -> bytes:
    """44-byte PCM16 mono WAV header whose RIFF and data sizes are 0xFFFFFFFF ("length unknown")."""
    byte_rate = sample_rate * 2
    return (b"RIFF" + (0xFFFFFFFF).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
            + (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + sample_rate.to_bytes(4, "little")
            + byte_rate.to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
            + b"data" + (0xFFFFFFFF).to_bytes(4, "little"))


def encode_stream(chunks: Iterable[AudioBuffer], fmt: str, *, bitrate: str | None = None) -> Iterator[bytes]:
    """Encode audio chunks as they arrive, yielding bytes that concatenate into one valid stream of `fmt`.

    The first chunk fixes the sample rate; later chunks are resampled to it. Lossy formats and flac use one
    long-running ffmpeg process (a reader thread drains its stdout, so synthesis stays in the caller's thread).
    """
    check_format(fmt)
    iterator = iter(chunks)
    first = next(iterator, None)
    if first is None:
        first = AudioBuffer(np.zeros(0, dtype=np.float32), 24000)
    rate = output_rate(fmt, first.sample_rate)

    def buffers() -> Iterator[AudioBuffer]:
        yield resample(first, rate)
        for chunk in iterator:
            yield resample(chunk, rate)

    if fmt in _FFMPEG_OUTPUT:
        yield from _ffmpeg_stream(buffers(), fmt, rate, bitrate)
        return
    if fmt == "wav":
        yield wav_stream_header(rate)
    for buf in buffers():
        if len(buf.samples):
            yield encode(buf, "pcm" if fmt == "wav" else fmt)


class _Drain:
    """Reads a pipe on a thread into memory so the writer never deadlocks on a full pipe."""

    def __init__(self, pipe: io.BufferedReader, name: str) -> None:
        self._pipe, self._parts, self._lock = pipe, [], threading.Lock()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while data := self._pipe.read1(65536):
            with self._lock:
                self._parts.append(data)

    def take(self) -> bytes:
        with self._lock:
            data, self._parts = b"".join(self._parts), []
        return data


def _ffmpeg_stream(buffers: Iterator[AudioBuffer], fmt: str, rate: int, bitrate: str | None) -> Iterator[bytes]:
    errors = tempfile.TemporaryFile()
    proc = subprocess.Popen(_ffmpeg_command(fmt, rate, bitrate, "-"), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=errors)
    assert proc.stdin is not None and proc.stdout is not None
    drain = _Drain(proc.stdout, f"ffmpeg-{fmt}-reader")  # type: ignore[arg-type]
    try:
        for buf in buffers:
            try:
                proc.stdin.write(_pcm16(buf))
                proc.stdin.flush()
            except BrokenPipeError:
                break
            if data := drain.take():
                yield data
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass  # ffmpeg already exited; its status is reported below
        drain.thread.join(FFMPEG_TIMEOUT_S)
        if proc.wait(FFMPEG_TIMEOUT_S) != 0:
            errors.seek(0)
            detail = errors.read().decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            raise EncoderUnavailable(f"ffmpeg failed to stream {fmt} (exit {proc.returncode}): {detail[0][:200]}")
        if data := drain.take():
            yield data
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        errors.close()
