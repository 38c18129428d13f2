"""Post-processing options of every route and the one fixed chain that applies them.

Order (documented in docs/api.md): trim_silence -> eq -> band_pass -> compressor -> reverb -> bed (looped,
ducked under speech) -> fade_in_s / fade_out_s. It runs after the request-wide pitch, loudness and volume.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from tts_predictor.audio import effects, mix
from tts_predictor.audio.buffer import AudioBuffer


class PostOptions(BaseModel):
    """Post-processing fields, shared by every route's parameters (bounds defined once, here)."""

    trim_silence: bool = Field(False, description="Cut leading and trailing silence (below -45 dBFS).")
    eq: Literal["warm", "bright", "bass_boost", "presence"] | None = Field(
        None, description="EQ preset: warm, bright, bass_boost or presence."
    )
    band_pass: Literal["telephone", "radio"] | None = Field(
        None, description="Band-pass preset: telephone (300-3400 Hz) or radio (200-5000 Hz, light saturation)."
    )
    compressor: bool = Field(False, description="Dynamic range compression (-30 dB RMS threshold, 4:1, +8 dB make-up).")
    reverb: float = Field(0.0, ge=0.0, le=1.0, description="Reverb wet share, 0 (off) to 1.")
    bed: str | None = Field(
        None, max_length=64, description="Stored background bed (GET /v1/beds), looped under speech."
    )
    bed_gain_db: float = Field(-20.0, ge=-60.0, le=0.0, description="Bed level in dB, -60 to 0.")
    bed_duck_db: float = Field(12.0, ge=0.0, le=40.0, description="How far the bed drops under speech, 0 to 40 dB.")
    fade_in_s: float = Field(0.0, ge=0.0, le=30.0, description="Fade-in length in seconds, 0 to 30.")
    fade_out_s: float = Field(0.0, ge=0.0, le=30.0, description="Fade-out length in seconds, 0 to 30.")


POST_FIELDS = tuple(PostOptions.model_fields)


def wanted(options: PostOptions) -> bool:
    """True when any post-processing is asked for."""
    return any(
        getattr(options, name) != field.default
        for name, field in PostOptions.model_fields.items()
        if not name.startswith("bed_")
    )


def check_bed(options: PostOptions, beds_dir: str | None) -> None:
    """400 (UnknownBed) now, before synthesis, when the bed is not stored in `beds_dir`."""
    if options.bed is not None:
        mix.bed_path(beds_dir, options.bed)


def apply(
    audio: AudioBuffer,
    options: PostOptions,
    beds_dir: str | None = None,
    *,
    first: bool = True,
    last: bool = True,
    offset: int = 0,
) -> AudioBuffer:
    """Run the chain on `audio`. Jobs call it per chunk: trims and fades only at the ends of the whole result
    (`first`/`last`), the bed continues from sample `offset`."""
    if options.trim_silence and (first or last):
        audio = effects.trim_silence(audio, start=first, end=last)
    if len(audio.samples) == 0:  # silence trimmed to nothing, or a text that speaks nothing: no filter runs on it
        return audio
    if options.eq:
        audio = effects.equalize(audio, options.eq)
    if options.band_pass:
        audio = effects.band_pass(audio, options.band_pass)
    if options.compressor:
        audio = effects.compress(audio)
    if options.reverb:
        audio = effects.reverb(audio, options.reverb)
    if options.bed:
        bed = mix.load_bed(beds_dir, options.bed, audio.sample_rate)
        audio = mix.mix_bed(audio, bed, options.bed_gain_db, options.bed_duck_db, offset)
    if options.fade_in_s and first or options.fade_out_s and last:
        audio = effects.fade(audio, options.fade_in_s if first else 0.0, options.fade_out_s if last else 0.0)
    return audio
