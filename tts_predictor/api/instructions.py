"""OpenAI's free-text `instructions` mapped onto the emotion/style presets when they name one."""

from __future__ import annotations

import re

from tts_predictor.schemas import EMOTIONS, STYLES

SYNONYMS: dict[str, tuple[str, str]] = {
    "cheerful": ("emotion", "happy"),
    "cheerfully": ("emotion", "happy"),
    "happily": ("emotion", "happy"),
    "joyful": ("emotion", "happy"),
    "upbeat": ("emotion", "happy"),
    "enthusiastic": ("emotion", "excited"),
    "enthusiastically": ("emotion", "excited"),
    "excitedly": ("emotion", "excited"),
    "energetic": ("emotion", "excited"),
    "sadly": ("emotion", "sad"),
    "somber": ("emotion", "sad"),
    "sombre": ("emotion", "sad"),
    "calmly": ("emotion", "calm"),
    "soothing": ("emotion", "calm"),
    "relaxed": ("emotion", "calm"),
    "angrily": ("emotion", "angry"),
    "furious": ("emotion", "angry"),
    "narrator": ("style", "narration"),
    "narrate": ("style", "narration"),
    "storyteller": ("style", "narration"),
    "newscaster": ("style", "newscast"),
    "casual": ("style", "conversational"),
    "chatty": ("style", "conversational"),
}
"""Words besides the preset names themselves (``happy``, ``newscast``, ...) that select a preset."""
_WORD = re.compile(r"[a-z]+")


def instruction_presets(instructions: str | None) -> dict[str, str]:
    """``{"emotion": ..., "style": ...}`` for the first emotion and first style the instructions name (maybe none)."""
    found: dict[str, str] = {}
    for word in _WORD.findall((instructions or "").lower()):
        kind_name = (
            SYNONYMS.get(word)
            or (("emotion", word) if word in EMOTIONS else None)
            or (("style", word) if word in STYLES else None)
        )
        if kind_name is not None:
            found.setdefault(*kind_name)
    return found
