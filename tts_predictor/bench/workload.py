"""What the benchmark sends: texts, repeat counts, concurrency levels and the server's settings."""

from __future__ import annotations

INPUTS: dict[str, str] = {
    "sentence": "The quick brown fox jumps over the lazy dog near the quiet river bank.",
    "paragraph": (
        "The weather today is mild, with light winds coming in from the west. "
        "Later this afternoon, clouds will gather over the hills and a few showers may follow. "
        "Temperatures should stay close to the seasonal average for most of the week. "
        "On Saturday, a stronger front is expected to bring heavy rain to the coast. "
        "Anyone planning a trip outdoors should check the forecast again before leaving."
    ),
}
"""One sentence (~14 words) and one paragraph (5 sentences)."""

THROUGHPUT_INPUT = "sentence"
"""The input sent in the server's concurrency sweep and in the threads experiment."""

TEN_SENTENCES = " ".join([INPUTS["paragraph"], INPUTS["paragraph"].replace("today", "tomorrow")])
"""The streaming time-to-first-audio text."""

BATCH_SENTENCES: tuple[str, ...] = (
    "The quick brown fox jumps over the lazy dog near the quiet river bank.",
    "Later this afternoon, clouds will gather over the hills and a few showers may follow.",
    "Temperatures should stay close to the seasonal average for most of the week.",
    "On Saturday, a stronger front is expected to bring heavy rain to the coast.",
    "Anyone planning a trip outdoors should check the forecast before leaving.",
    "The weather today is mild, with light winds coming in from the west.",
    "Our train left the station a few minutes late but arrived on time.",
    "Please remember to water the plants on the balcony every other day.",
)
"""Eight sentences of similar but unequal length (12-15 words): batch N takes the first N."""

DEFAULT_REPEATS = {"embedded": 20, "coqui-full": 5}
QUICK_REPEATS = {"embedded": 3, "coqui-full": 1}
DEFAULT_REQUESTS = {"embedded": 16, "coqui-full": 8}
"""Requests per concurrency level in the throughput sweep (same count at every level)."""
QUICK_REQUESTS = {"embedded": 4, "coqui-full": 2}
DEFAULT_CONCURRENCY = (1, 2, 4, 8, 16)
QUICK_CONCURRENCY = (1, 2)
WARMUP_CALLS = 2

SERVER_ENV = {"TTS_DEVICE": "cpu", "TTS_CACHE_MAX_BYTES": "0"}
"""Server settings besides TTS_MODEL: the audio cache is off, or repeated texts would be cache hits."""
