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

SERVER_ENV = {"TTS_DEVICE": "cpu", "TTS_CACHE_MAX_BYTES": "0", "TTS_REQUEST_TIMEOUT_S": "1800"}
"""Server settings besides TTS_MODEL: the audio cache is off, or repeated texts would be cache hits; a long
deadline, so a 5,000-character text on a busy shared machine is measured rather than cut off."""

PEER_SENTENCES: tuple[str, ...] = tuple(
    f"{opening} {middle}"
    for opening in ("This morning", "By the evening", "On most days", "Every spring", "After the storm", "Before lunch")
    for middle in (
        "the ferry crossed the harbour slowly while gulls circled above the busy pier.",
        "a small crowd gathered near the library to hear the new mayor speak.",
        "the bakery on the corner sold out of bread long before noon.",
        "our neighbours painted their fence a bright shade of green.",
        "the old clock in the square finally started working again.",
    )
)
"""Thirty held-out sentences (not the calibration or batching ones), sent to both servers in the peer experiment."""

PROFILES: dict[str, dict[str, str]] = {
    "latency": {"TTS_THREADS": "0", "TTS_MAX_CONCURRENCY": "1"},
    "throughput": {"TTS_THREADS": "1", "TTS_MAX_CONCURRENCY": "2"},
    "adaptive": {"TTS_THREADS": "0", "TTS_MAX_CONCURRENCY": "2"},
}
"""Server settings compared with the peer: every core on one sentence at a time (lowest latency alone); one
thread per engine call with one call per core (most audio per second under concurrent load); or adaptive: a call
that runs alone gets every core, calls that overlap get one thread each (a second, 1-thread session)."""

FAIRNESS_LONG_TEXT = " ".join(
    f"Part {i} of the long reading: {PEER_SENTENCES[i % len(PEER_SENTENCES)]}" for i in range(62)
)[:5000]
"""About 5,000 characters (the default TTS_MAX_TEXT_CHARS), for the short-behind-long experiment."""
FAIRNESS_SHORT_TEXT = "Is the kitchen open?"
