"""Decode uploaded reference audio (voice cloning) and check it is usable; errors name the field."""

from __future__ import annotations

import io

import numpy as np
from kserve.errors import InvalidInput

from tts_predictor import budget
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.errors import UnsupportedOption

MIN_REFERENCE_RATE = 16000
"""Speaker encoders work on 16 kHz or more; telephone-band audio (8 kHz) clones badly."""
SILENCE_RMS = 10 ** (-50 / 20)
"""A reference quieter than -50 dBFS RMS holds no voice to clone."""


def decode_audio(
    data: bytes, field: str, max_s: float | None = None, setting: str = "TTS_CLONE_MAX_SECONDS"
) -> AudioBuffer:
    """Mono float32 audio from WAV/FLAC/OGG (Vorbis, Opus)/MP3 bytes; 400 naming `field` if not decodable.

    The header is read first: an absurd sample rate or channel count is refused, and the samples x channels that
    decoding would unpack are charged to the request's budget (TTS_MAX_REQUEST_DECODED_BYTES) before any are.
    With `max_s`, a file whose header says it is longer is refused before decoding, and decoding stops one
    frame past `max_s` whatever the header says: a small file of hours of silence never reaches memory. Without
    `max_s` the header's length must be known.
    """
    import soundfile

    if not data:
        raise UnsupportedOption(f"{field}: is empty; send 3-30 s of speech as WAV, FLAC, OGG or MP3")
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as sound:
            rate, channels, frames = int(sound.samplerate), int(sound.channels), int(sound.frames)
            want = _frames_to_read(field, rate, channels, frames, max_s)
            samples = sound.read(frames=want, dtype="float32", always_2d=True) if want is not None else None
    except InvalidInput:  # the header's refusals (kserve's InvalidInput is a ValueError)
        raise
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError, OverflowError, MemoryError):
        raise UnsupportedOption(
            f"{field}: not a decodable audio file; send WAV, FLAC, OGG (Vorbis/Opus) or MP3"
        ) from None
    limit = int(max_s * rate) + 1 if max_s is not None else -1
    if samples is None or (limit > 0 and len(samples) >= limit):
        raise _too_long(field, frames / rate if samples is None else None, max_s or 0.0, setting)
    return AudioBuffer(np.ascontiguousarray(samples.mean(axis=1), dtype=np.float32), rate)


def _frames_to_read(field: str, rate: int, channels: int, frames: int, max_s: float | None) -> int | None:
    """Frames to decode (None: too long by the header), after the header's rate and channels are checked and the
    decoded size is charged to the request budget (400 before any decoding)."""
    spend = budget.current()
    spend.check_format(field, rate, channels)
    known = 0 <= frames < 2**62  # libsndfile reports a huge count when the length is unknown (streams, MP3)
    limit = int(max_s * rate) + 1 if max_s is not None else -1
    if limit > 0 and known and frames >= limit:
        return None
    if limit < 0 and not known:
        raise UnsupportedOption(f"{field}: the file does not say how long it is; send WAV or FLAC")
    want = min(frames, limit) if known and limit > 0 else (frames if known else limit)
    spend.charge_decoded(field, want, channels)
    return want


def _too_long(field: str, seconds: float | None, max_s: float, setting: str) -> UnsupportedOption:
    length = f"{seconds:.1f} s of audio" if seconds is not None else f"more than {max_s:g} s of audio"
    return UnsupportedOption(f"{field}: {length}; it may be at most {max_s:g} s long ({setting})")


def check_reference(audio: AudioBuffer, field: str, *, min_s: float, max_s: float) -> AudioBuffer:
    """Reference speech for cloning: long enough, short enough, wide-band and not silent."""
    seconds = audio.duration_s
    if not min_s <= seconds <= max_s:
        raise UnsupportedOption(f"{field}: {seconds:.1f} s of audio; a voice sample must be {min_s:g}-{max_s:g} s long")
    if audio.sample_rate < MIN_REFERENCE_RATE:
        raise UnsupportedOption(
            f"{field}: sample rate {audio.sample_rate} Hz is too low; send {MIN_REFERENCE_RATE} Hz or more (e.g. 22050, 44100)"
        )
    if float(np.sqrt(np.mean(np.square(audio.samples, dtype=np.float64)))) < SILENCE_RMS:
        raise UnsupportedOption(f"{field}: the audio is silent (below -50 dBFS); send a recording of the voice")
    return audio


def reference_from_bytes(data: bytes, field: str, *, min_s: float, max_s: float) -> AudioBuffer:
    """Decode and check a voice sample in one step."""
    return check_reference(decode_audio(data, field, max_s=max_s), field, min_s=min_s, max_s=max_s)
