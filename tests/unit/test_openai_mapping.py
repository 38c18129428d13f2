"""Pure units of the OpenAI route's mappings: instructions to presets, voice names to voices."""

from __future__ import annotations

import pytest

from tts_predictor.api.instructions import instruction_presets
from tts_predictor.api.openai import OPENAI_VOICES, openai_voice
from tts_predictor.engines.base import Voice
from tts_predictor.errors import FieldError
from tts_predictor.voices.catalog import VoiceCatalog


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Read it slowly and sadly, like a narrator.", {"emotion": "sad", "style": "narration"}),
        ("HAPPY newscast, then angry", {"emotion": "happy", "style": "newscast"}),
        ("Speak in a whisper.", {}),
        (None, {}),
    ],
)
def test_instructions_name_presets(text: str | None, expected: dict[str, str]) -> None:
    assert instruction_presets(text) == expected


def _catalog(count: int) -> VoiceCatalog:
    return VoiceCatalog([Voice(f"v{i}", ("en-US",), "onnx", 22050) for i in range(count)], default="v0")


def test_openai_and_future_voice_names_map_deterministically() -> None:
    catalog = _catalog(3)
    assert [openai_voice(catalog, n) for n in OPENAI_VOICES[:4]] == ["v0", "v1", "v2", "v0"]
    assert openai_voice(catalog, "marin") == ["v0", "v1", "v2"][OPENAI_VOICES.index("marin") % 3]
    assert openai_voice(catalog, "Zephyr") == openai_voice(catalog, "zephyr") == openai_voice(_catalog(3), "zephyr")
    assert openai_voice(catalog, "v2") == "v2" and openai_voice(catalog, {"id": "v1"}) == "v1"
    with pytest.raises(FieldError) as info:
        openai_voice(catalog, "not a name!")
    assert info.value.param == "voice" and "alloy" in str(info.value)
