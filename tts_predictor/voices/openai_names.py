"""OpenAI voice names -> this server's voices: a configured table (TTS_OPENAI_VOICES), else a spread default.

The default gives the 13 names distinct neural voices while there are enough (gender-aware where the voices'
metadata says: nova -> a female voice, onyx -> a male one), never a formant fallback voice; with fewer voices the
names share them round-robin. The same voices give the same table on every replica.
"""

from __future__ import annotations

import zlib
from collections import Counter

from tts_predictor.engines.base import Voice
from tts_predictor.voices.catalog import VoiceCatalog, is_formant

OPENAI_VOICES = (
    "alloy",
    "echo",
    "fable",
    "onyx",
    "nova",
    "shimmer",
    "ash",
    "coral",
    "sage",
    "ballad",
    "verse",
    "marin",
    "cedar",
)
"""OpenAI's voice names, in the order the default table hands out voices."""
OPENAI_GENDERS = {
    "echo": "male",
    "fable": "male",
    "onyx": "male",
    "ash": "male",
    "ballad": "male",
    "verse": "male",
    "cedar": "male",
    "nova": "female",
    "shimmer": "female",
    "coral": "female",
    "sage": "female",
    "marin": "female",
}
"""How each OpenAI voice sounds (alloy: neutral, left out): matched to Voice.gender where a voice has one."""


def parse_table(text: str) -> dict[str, str]:
    """'alloy=en_US-joe-medium, nova=x' -> {'alloy': 'en_US-joe-medium', 'nova': 'x'}; ValueError on bad pairs."""
    table: dict[str, str] = {}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        name, sep, voice = (part.strip() for part in pair.partition("="))
        if not sep or not name or not voice:
            raise ValueError(f"'{pair[:60]}' is not name=voice_id (e.g. alloy=en_US-joe-medium)")
        table[name.lower()] = voice
    return table


def neural_voices(catalog: VoiceCatalog) -> list[Voice]:
    """The model voices OpenAI names may map to: default first, no formant fallbacks, no stored (cloned) ones;
    just the default voice when it is all there is."""
    pool = [catalog.default] + [v for v in catalog.voices if v.id != catalog.default.id]
    pool = [v for v in pool if not is_formant(v) and v.store is None]
    return pool or [catalog.default]


def default_table(catalog: VoiceCatalog) -> dict[str, str]:
    """Each OpenAI name's voice: alloy the default voice, the others the least-used voice of their gender
    (voices without gender metadata fit any), ties in catalog order."""
    pool = neural_voices(catalog)
    used: Counter[str] = Counter()
    table: dict[str, str] = {}
    for name in OPENAI_VOICES:
        gender = OPENAI_GENDERS.get(name)
        fits = [v for v in pool if gender is None or v.gender in (None, gender)] or pool
        order = {v.id: i for i, v in enumerate(pool)}
        chosen = pool[0] if name == "alloy" else min(fits, key=lambda v: (used[v.id], order[v.id]))
        used[chosen.id] += 1
        table[name] = chosen.id
    return table


def map_name(catalog: VoiceCatalog, name: str, configured: dict[str, str]) -> str:
    """The voice id for an OpenAI voice name (or another name that looks like one: a stable hash over the
    neural voices, so voices OpenAI adds later work unchanged on every replica)."""
    key = name.lower()
    if key in configured and catalog.usable(configured[key]) is not None:
        return configured[key]
    if key in OPENAI_VOICES:
        return default_table(catalog)[key]
    pool = neural_voices(catalog)
    return pool[zlib.crc32(key.encode()) % len(pool)].id
