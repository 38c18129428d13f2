"""SSML attribute values: break/prosody/emphasis keyword tables and the parsers for time, rate, pitch and volume."""

from __future__ import annotations

import math
import re

from tts_predictor.schemas import SPEED_RANGE

BREAK_STRENGTH_S: dict[str, float] = {
    "none": 0.0,
    "x-weak": 0.1,
    "weak": 0.2,
    "medium": 0.4,
    "strong": 0.75,
    "x-strong": 1.2,
}
"""Pause length for ``<break strength>``; a bare ``<break/>`` is ``medium``."""
MAX_BREAK_S = 10.0
SENTENCE_PAUSE_S = BREAK_STRENGTH_S["medium"]
PARAGRAPH_PAUSE_S = BREAK_STRENGTH_S["strong"]
RATE_KEYWORDS = {"x-slow": 0.5, "slow": 0.75, "medium": 1.0, "fast": 1.25, "x-fast": 1.5, "default": 1.0}
PITCH_KEYWORDS_ST = {"x-low": -4.0, "low": -2.0, "medium": 0.0, "high": 2.0, "x-high": 4.0, "default": 0.0}
VOLUME_KEYWORDS_DB = {
    "silent": -96.0,
    "x-soft": -10.0,
    "soft": -5.0,
    "medium": 0.0,
    "loud": 5.0,
    "x-loud": 10.0,
    "default": 0.0,
}
EMPHASIS_LEVELS = {"strong": (0.9, 3.0), "moderate": (0.95, 1.5), "none": (1.0, 0.0), "reduced": (1.1, -3.0)}
"""``<emphasis level>`` → (rate multiplier, volume dB added)."""
PITCH_BASE_HZ = 150.0
"""Nominal voice pitch used to turn ``+10Hz`` / ``200Hz`` into semitones (an approximation)."""
RATE_RANGE, PITCH_RANGE_ST, VOLUME_RANGE_DB = SPEED_RANGE, (-24.0, 24.0), (-96.0, 24.0)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def parse_time(raw: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)", raw)
    if not m:
        raise ValueError('expected a duration like "700ms" or "1.5s"')
    return float(m.group(1)) / (1000.0 if m.group(2) == "ms" else 1.0)


def parse_rate(raw: str) -> float:
    if raw in RATE_KEYWORDS:
        return RATE_KEYWORDS[raw]
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)(%?)", raw)
    if not m:
        raise ValueError(f'expected {", ".join(RATE_KEYWORDS)}, a percentage ("50%", "+20%") or a multiplier ("1.2")')
    number = _number(m.group(2))
    if m.group(3):  # "50%" = half speed; "+20%" / "-20%" = relative change
        value = 1.0 + (number if m.group(1) == "+" else -number) / 100.0 if m.group(1) else number / 100.0
    else:
        value = 1.0 + (number if m.group(1) == "+" else -number) if m.group(1) else number
    if value <= 0:
        raise ValueError("rate must be positive")
    return value


def parse_pitch(raw: str) -> float:
    if raw in PITCH_KEYWORDS_ST:
        return PITCH_KEYWORDS_ST[raw]
    m = re.fullmatch(r"([+-]?)(\d+(?:\.\d+)?)(st|%|Hz)", raw)
    if not m or (m.group(3) != "Hz" and not m.group(1)):
        raise ValueError(f'expected {", ".join(PITCH_KEYWORDS_ST)}, or "+2st", "-10%", "+10Hz", "200Hz"')
    number = _number(m.group(2)) * (-1.0 if m.group(1) == "-" else 1.0)
    if m.group(3) == "st":
        return number
    ratio = (
        1.0 + number / 100.0
        if m.group(3) == "%"
        else ((PITCH_BASE_HZ + number) / PITCH_BASE_HZ if m.group(1) else number / PITCH_BASE_HZ)
    )
    if ratio <= 0:
        raise ValueError("pitch would be zero or negative")
    return 12.0 * math.log2(ratio)


def parse_volume(raw: str) -> float:
    if raw in VOLUME_KEYWORDS_DB:
        return VOLUME_KEYWORDS_DB[raw]
    m = re.fullmatch(r"([+-]?\d+(?:\.\d+)?)dB", raw)
    if not m:
        raise ValueError(f'expected {", ".join(VOLUME_KEYWORDS_DB)}, or "+6dB", "-3dB"')
    return _number(m.group(1))
