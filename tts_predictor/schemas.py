"""The request vocabulary shared by every front: the bounds of speed, pitch and gain (defined once, here), and
emotion and style as prosody presets: rate, pitch and loudness changes that work with every voice.

None of the engines served here (Piper VITS, Coqui VITS/YourTTS) has an emotion or style input, so a
requested emotion/style is mapped to a preset of speaking rate (the engine's length scale), pitch shift
(DSP) and gain, applied on top of the request's own `speed`, `pitch` and `volume_db`. The values are
modest on purpose: they colour the delivery, they do not act. Unknown names are refused with the list.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Prosody:
    """A delivery change: rate multiplier, pitch shift in semitones, gain in dB."""

    rate: float = 1.0
    pitch: float = 0.0
    volume_db: float = 0.0


EMOTIONS: dict[str, Prosody] = {
    "neutral": Prosody(),
    "happy": Prosody(rate=1.08, pitch=1.5, volume_db=1.0),
    "excited": Prosody(rate=1.15, pitch=2.5, volume_db=2.0),
    "sad": Prosody(rate=0.88, pitch=-1.5, volume_db=-3.0),
    "calm": Prosody(rate=0.92, pitch=-0.5, volume_db=-2.0),
    "angry": Prosody(rate=1.06, pitch=0.5, volume_db=3.0),
}
STYLES: dict[str, Prosody] = {
    "conversational": Prosody(rate=1.02, pitch=0.5),
    "narration": Prosody(rate=0.95),
    "newscast": Prosody(rate=1.05, volume_db=1.0),
}
SPEED_RANGE, PITCH_RANGE, VOLUME_RANGE = (0.25, 4.0), (-12.0, 12.0), (-40.0, 20.0)
"""The bounds of the request parameters (speed multiplier, semitones, dB): the V2/REST/OpenAI schemas, the SSML
rate clamp, the per-segment speed and the CLI use these; combined values are kept inside them."""


def preset(kind: str, name: str) -> Prosody:
    """The preset for an emotion or style name; ValueError naming the supported ones."""
    table = EMOTIONS if kind == "emotion" else STYLES
    key = name.strip().lower()
    if key not in table:
        raise ValueError(f"{kind} '{name}' is not supported; supported {kind}s: {', '.join(table)}")
    return table[key]


def combine(speed: float, pitch: float, volume_db: float, *presets: Prosody) -> tuple[float, float, float]:
    """Request prosody with presets applied (rates multiply, pitch and gain add), kept within bounds."""
    for p in presets:
        speed, pitch, volume_db = speed * p.rate, pitch + p.pitch, volume_db + p.volume_db
    return (
        min(max(speed, SPEED_RANGE[0]), SPEED_RANGE[1]),
        min(max(pitch, PITCH_RANGE[0]), PITCH_RANGE[1]),
        min(max(volume_db, VOLUME_RANGE[0]), VOLUME_RANGE[1]),
    )
