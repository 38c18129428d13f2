"""Audio encoders, whole-file and streaming: wav/flac/pcm/G.711 via soundfile, the rest via `StreamEncoder`."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import soundfile as sf
from kserve.errors import InvalidInput

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.codecs.base import DEFAULT_BITRATES
from tts_predictor.audio.codecs.stream import StreamEncoder, wav_stream_header
from tts_predictor.audio.dsp import resample
from tts_predictor.errors import EncoderUnavailable, SynthesisFailed, UnsupportedFormat

__all__ = [
    "DEFAULT_BITRATES",
    "EncoderUnavailable",
    "FORMATS",
    "MEDIA_TYPES",
    "UnsupportedFormat",
    "encode",
    "encode_stream",
    "media_type",
    "output_rate",
    "wav_stream_header",
]


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
"""The built-in formats; plugins add theirs to MEDIA_TYPES and PLUGIN_FORMATS (`register_format`)."""
STREAMABLE_FORMATS: tuple[str, ...] = FORMATS
"""Every built-in format streams; wav streams with a header whose sizes say "unknown" (0xFFFFFFFF)."""
PluginEncoder = Callable[[np.ndarray, int], bytes]
"""A plugin's whole-file encoder: (float32 mono samples in [-1, 1], sample rate) -> the file's bytes."""
PLUGIN_FORMATS: dict[str, PluginEncoder] = {}
"""Formats added by plugins (entry point group ``tts_predictor.formats``), by name: whole files only."""
G711_RATE = 8000
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
"""The sample rates MPEG-1/2/2.5 layer III can carry; LAME refuses others."""
BITRATE_KBPS = {"mp3": (8, 320), "ogg": (8, 240), "opus": (6, 256), "aac": (8, 320)}
"""Accepted ``bitrate`` per lossy format, in kbit/s (mono; libopus takes at most 256k per channel)."""


def media_type(fmt: str, sample_rate: int | None = None) -> str:
    """Content-Type for `fmt`; raw ``pcm`` gets ``;rate=...;channels=1`` when the rate is known."""
    check_format(fmt)
    if fmt == "pcm" and sample_rate:
        return f"{MEDIA_TYPES[fmt]};rate={int(sample_rate)};channels=1"
    return MEDIA_TYPES[fmt]


def register_format(name: str, media: str, encoder: PluginEncoder) -> None:
    """Make `name` an output format (whole files) encoded by `encoder`; raises ValueError on a taken name."""
    if name in MEDIA_TYPES:
        raise ValueError(f"format name '{name}' is already taken")
    if not media.startswith("audio/") or len(media) > 100:
        raise ValueError(f"media_type '{media[:100]}' is not an audio/* type")
    MEDIA_TYPES[name] = media
    PLUGIN_FORMATS[name] = encoder


def _plugin_encode(buf: AudioBuffer, fmt: str) -> bytes:
    """A plugin format's file; SynthesisFailed naming the plugin when its encoder fails or returns no bytes."""
    try:
        data = PLUGIN_FORMATS[fmt](np.clip(buf.samples, -1.0, 1.0).astype(np.float32), buf.sample_rate)
    except Exception as exc:
        raise SynthesisFailed(f"format plugin '{fmt}' failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(data, bytes):
        raise SynthesisFailed(f"format plugin '{fmt}' returned {type(data).__name__}, not bytes")
    return data


def check_format(fmt: str) -> str:
    """Return `fmt` if supported, else raise UnsupportedFormat listing the supported formats."""
    if fmt not in MEDIA_TYPES:
        raise UnsupportedFormat(f"format {str(fmt)[:40]!r} is not supported; use one of: {', '.join(MEDIA_TYPES)}")
    return fmt


def output_rate(fmt: str, rate: int) -> int:
    """Sample rate the encoded stream will have: 8 kHz for G.711, the next Opus or MPEG rate up for opus and mp3,
    else `rate`."""
    if fmt in ("mulaw", "alaw"):
        return G711_RATE
    if fmt == "mp3":
        return next((r for r in MP3_RATES if r >= rate), MP3_RATES[-1])
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


def _soundfile_bytes(buf: AudioBuffer, container: str, subtype: str) -> bytes:
    out = io.BytesIO()
    data = buf.to_int16() if subtype == "PCM_16" else np.clip(buf.samples, -1.0, 1.0).astype(np.float32)
    sf.write(out, data, buf.sample_rate, format=container, subtype=subtype)
    return out.getvalue()


def _pcm16(buf: AudioBuffer) -> bytes:
    return buf.to_int16().astype("<i2").tobytes()


def _prepare(buf: AudioBuffer, fmt: str) -> AudioBuffer:
    return resample(buf, output_rate(fmt, buf.sample_rate))


def encode(buf: AudioBuffer, fmt: str, *, bitrate: str | None = None) -> bytes:
    """Encode `buf` as one complete file/stream of `fmt` (see MEDIA_TYPES); `bitrate` applies to lossy formats."""
    check_format(fmt)
    buf = _prepare(buf, fmt)
    if fmt in PLUGIN_FORMATS:
        return _plugin_encode(buf, fmt)
    if fmt == "wav":
        return _soundfile_bytes(buf, "WAV", "PCM_16")
    if fmt == "flac":
        return _soundfile_bytes(buf, "FLAC", "PCM_16")
    if fmt == "pcm":
        return _pcm16(buf)
    if fmt in ("mulaw", "alaw"):
        return _soundfile_bytes(buf, "RAW", "ULAW" if fmt == "mulaw" else "ALAW")
    encoder = StreamEncoder(fmt, buf.sample_rate, bitrate=bitrate, whole_file=True)
    return encoder.feed(buf) + encoder.finish()


def encode_stream(chunks: Iterable[AudioBuffer], fmt: str, *, bitrate: str | None = None) -> Iterator[bytes]:
    """Encode audio chunks as they arrive, yielding bytes that concatenate into one valid stream of `fmt`.

    The first chunk fixes the sample rate; later chunks are resampled to it (see `StreamEncoder`).
    """
    check_format(fmt)
    iterator = iter(chunks)
    first = next(iterator, None)
    rate = output_rate(fmt, first.sample_rate if first is not None else 24000)
    encoder = StreamEncoder(fmt, rate, bitrate=bitrate)
    try:
        for buf in [first] if first is not None else []:
            if data := encoder.feed(buf):
                yield data
        for buf in iterator:
            if data := encoder.feed(buf):
                yield data
        if data := encoder.finish():
            yield data
    finally:
        encoder.close()
