"""Decode uploaded reference audio (voice cloning) and check it is usable; errors name the field."""

from __future__ import annotations

import io

import numpy as np

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.errors import UnsupportedOption

MIN_REFERENCE_RATE = 16000
"""Speaker encoders work on 16 kHz or more; telephone-band audio (8 kHz) clones badly."""
SILENCE_RMS = 10 ** (-50 / 20)
"""A reference quieter than -50 dBFS RMS holds no voice to clone."""


def decode_audio(data: bytes, field: str, max_s: float | None = None) -> AudioBuffer:
    """Mono float32 audio from WAV/FLAC/OGG (Vorbis, Opus)/MP3 bytes; 400 naming `field` if not decodable.

    With `max_s`, a file whose header says it is longer is refused before decoding, and decoding stops one
    frame past `max_s` whatever the header says: a small file of hours of silence never reaches memory.
    """
    import soundfile

    if not data:
        raise UnsupportedOption(f"{field}: is empty; send 3-30 s of speech as WAV, FLAC, OGG or MP3")
    try:
        with soundfile.SoundFile(io.BytesIO(data)) as sound:
            rate, frames = int(sound.samplerate), int(sound.frames)  # frames: from the header (huge when unknown)
            limit = int(max_s * rate) + 1 if max_s is not None else -1
            too_long = 0 < limit < frames < 2**62
            samples = sound.read(frames=limit, dtype="float32", always_2d=True) if not too_long else None
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
        raise UnsupportedOption(
            f"{field}: not a decodable audio file; send WAV, FLAC, OGG (Vorbis/Opus) or MP3"
        ) from None
    if samples is None or (limit > 0 and len(samples) >= limit):
        raise _too_long(field, frames / rate if samples is None else None, max_s or 0.0)
    return AudioBuffer(np.ascontiguousarray(samples.mean(axis=1), dtype=np.float32), rate)


def _too_long(field: str, seconds: float | None, max_s: float) -> UnsupportedOption:
    length = f"{seconds:.1f} s of audio" if seconds is not None else f"more than {max_s:g} s of audio"
    return UnsupportedOption(f"{field}: {length}; a voice sample may be at most {max_s:g} s long")


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
