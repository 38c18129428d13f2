"""Voices chosen by content on a catalogue of made-up voices: per-sentence detection and voice switching in
planning, gender selection, the voice object form, and the OpenAI name table."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tts_predictor.api.common import make_params
from tts_predictor.api.openai import openai_voice, speech_voice
from tts_predictor.engines.base import Voice
from tts_predictor.errors import FieldError, UnknownLanguage, UnsupportedOption
from tts_predictor.pipeline.request_plan import plan_request
from tts_predictor.pipeline.voice_choice import detection, detection_identity, resolve_segment
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.voices.catalog import VoiceCatalog
from tts_predictor.voices.openai_names import OPENAI_GENDERS, OPENAI_VOICES, default_table, parse_table

MIXED = (
    "The weather is lovely today, so we are going for a walk. Heute Abend gehen wir zusammen ins Kino. "
    "After dinner we will take the last train home."
)


def _voice(vid: str, lang: str, gender: str | None = None, quality: str = "neural") -> Voice:
    return Voice(vid, (lang,), "onnx", 22050, gender=gender, quality=quality)


def _catalog() -> VoiceCatalog:
    return VoiceCatalog(
        [
            _voice("en-m", "en-US", "male"),
            _voice("en-f", "en-US", "female"),
            _voice("de-f", "de-DE", "female"),
            _voice("espeak-de", "de", "male", "formant"),
            _voice("espeak-fr", "fr-FR", "male", "formant"),
        ]
    )


def _plan(params: SynthesisParameters, catalog: VoiceCatalog | None = None, text: str = MIXED) -> list[tuple]:
    segments = plan_request(text, params, "en-US", catalog=catalog or _catalog())
    return [(s.language, s.voice) for s in segments]


def _resolved(params: SynthesisParameters, catalog: VoiceCatalog | None = None, text: str = MIXED) -> list[str]:
    catalog = catalog or _catalog()
    segments = plan_request(text, params, "en-US", catalog=catalog)
    return [resolve_segment(catalog, s, params)[0].id for s in segments if s.text.strip()]


def test_without_language_each_sentence_gets_the_voice_of_its_language() -> None:
    """English, German, English: the default voice, the neural German voice (before the formant one), default."""
    assert _resolved(SynthesisParameters()) == ["en-m", "de-f", "en-m"]


def test_a_given_language_keeps_the_request_rules() -> None:
    """With `language` nothing is detected: one span, the language's voice."""
    assert _plan(SynthesisParameters(language="en")) == [("en", None)]


def test_the_switch_turns_detection_off() -> None:
    """TTS_DETECT_LANGUAGE=false (catalog.detect_language): the text is one span in the default voice."""
    catalog = _catalog()
    catalog.detect_language = False
    assert _resolved(SynthesisParameters(), catalog) == ["en-m"]


def test_candidates_setting_narrows_detection() -> None:
    """TTS_DETECT_CANDIDATES=en,fr: German is not a candidate, so the German sentence is not switched."""
    catalog = _catalog()
    catalog.detect_among = ("en", "fr")
    found = detection(SynthesisParameters(), catalog)
    assert found is not None and sorted(found.tags) == ["en", "fr"]


def test_an_explicit_voice_is_never_switched() -> None:
    """voice=en-f (a real id): detection only among its languages (one), so no span changes voice."""
    assert _resolved(SynthesisParameters(voice="en-f")) == ["en-f"]


def test_an_openai_name_switches_for_foreign_sentences_keeping_gender() -> None:
    """An OpenAI name mapped to en-f: English stays en-f, German gets a German voice of the same gender."""
    params = SynthesisParameters(voice="en-f")
    params._voice_alias = True
    assert _resolved(params) == ["en-f", "de-f", "en-f"]


def test_an_openai_gender_is_a_preference_not_a_refusal() -> None:
    """An OpenAI name mapped to en-m: no male German voice, so the female one speaks German (no 400)."""
    catalog = VoiceCatalog([_voice("en-m", "en-US", "male"), _voice("de-f", "de-DE", "female")])
    params = SynthesisParameters(voice="en-m")
    params._voice_alias = True
    assert _resolved(params, catalog) == ["en-m", "de-f", "en-m"]


def test_gender_parameter_chooses_among_voices_and_detection() -> None:
    """gender=female without a voice: English by en-f, German by de-f; detection only among female voices."""
    assert _resolved(SynthesisParameters(gender="female")) == ["en-f", "de-f", "en-f"]


def test_voice_object_form_flattens_to_language_and_gender() -> None:
    """voice: {"language": "de", "gender": "female"} picks de-f; {"id": ...} is a voice id."""
    params = make_params({"voice": {"language": "de", "gender": "female"}})
    assert (params.voice, params.language, params.gender) == (None, "de", "female")
    assert _catalog().resolve(params.voice, params.language, params.gender)[0].id == "de-f"
    assert make_params({"voice": '{"id": "en-f"}'}).voice == "en-f"


@pytest.mark.parametrize(
    ("values", "field", "allowed"),
    [
        ({"gender": "robot"}, "options.gender", "'female' or 'male'"),
        ({"voice": {"gender": "x"}}, "options.gender", "'female' or 'male'"),
        ({"voice": {"lang": "de"}}, "options.voice", "id, language, gender"),
        ({"voice": {"language": "de"}, "language": "fr"}, "options.voice", "give one"),
        ({"voice": "{not json"}, "options.voice", "JSON object"),
        ({"voice": "{" + "[" * 100_000}, "options.voice", "at most 400 characters"),
        ({"voice": '{"id": ["a"]}'}, "options.voice", "string"),
    ],
)
def test_bad_gender_or_voice_object_names_the_field(values: dict, field: str, allowed: str) -> None:
    """A bad gender or voice object is a 400 naming the field and the allowed values."""
    with pytest.raises(FieldError) as info:
        make_params(values, prefix="options.")
    assert info.value.param == field and allowed in str(info.value)


def test_gender_no_voice_has_is_refused_with_what_exists() -> None:
    """French only has a male voice: female French is a 400 on `gender` listing the genders there; an unserved
    language stays a language error; a voice id with the other gender is refused."""
    catalog = _catalog()
    with pytest.raises(FieldError) as info:
        catalog.resolve(None, "fr", "female")
    assert info.value.param == "gender" and "male" in str(info.value) and "female, male" in str(info.value)
    with pytest.raises(UnknownLanguage):
        catalog.resolve(None, "ja", "female")
    with pytest.raises(FieldError):
        catalog.resolve("en-m", None, "female")
    with pytest.raises(ValidationError):
        SynthesisParameters(gender="other")


def test_ssml_voice_gender_picks_a_voice_of_that_gender() -> None:
    """<voice gender="female"> inside a request for en-m: that span gets en-f; the rest stays en-m."""
    ssml = '<speak>Hello there, my friend. <voice gender="female">Nice to meet you all.</voice></speak>'
    assert _resolved(SynthesisParameters(voice="en-m"), text=ssml) == ["en-m", "en-f"]


def test_openai_default_table_spreads_over_neural_voices_by_gender() -> None:
    """Each name gets a neural voice (never espeak-*), female names female voices, male names male ones; with
    two English and one German neural voice all three are used."""
    table = default_table(_catalog())
    assert set(table) == set(OPENAI_VOICES)
    assert not any(v.startswith("espeak") for v in table.values())
    genders = {"en-m": "male", "en-f": "female", "de-f": "female"}
    assert all(genders[table[n]] == g for n, g in OPENAI_GENDERS.items())
    assert set(table.values()) == {"en-m", "en-f", "de-f"}


def test_openai_configured_table_wins_and_unknown_entries_fall_back() -> None:
    """TTS_OPENAI_VOICES: a listed name maps as configured, one naming a missing voice falls back to the default
    table; the alias flag is set only for mapped names."""
    catalog = _catalog()
    configured = "alloy=de-f, nova=missing"
    assert openai_voice(catalog, "alloy", configured) == "de-f"
    assert openai_voice(catalog, "nova", configured) == default_table(catalog)["nova"]
    assert speech_voice(catalog, "alloy", configured) == ("de-f", True)
    assert speech_voice(catalog, "en-f", configured) == ("en-f", False)
    with pytest.raises(ValueError):
        parse_table("alloy")


def test_cache_identity_follows_the_voices_detection_may_choose() -> None:
    """A detected request's cache identity changes when a voice joins; a request with `language` has none."""
    catalog = _catalog()
    before = detection_identity(SynthesisParameters(), catalog)
    catalog.add(_voice("de-m", "de-DE", "male"))
    assert before and detection_identity(SynthesisParameters(), catalog) != before
    assert detection_identity(SynthesisParameters(language="en"), catalog) == ""


def test_ssml_gender_without_the_voice_list_is_refused() -> None:
    """Planned without a catalogue (the transformer), <voice gender> cannot be honoured: a 400, not a silent
    default voice."""
    ssml = '<speak>Hello. <voice gender="female">Nice to meet you.</voice></speak>'
    with pytest.raises(UnsupportedOption) as info:
        plan_request(ssml, SynthesisParameters(), "en-US")
    assert "<voice gender>" in str(info.value)


def test_a_malformed_openai_table_stops_the_server_at_start() -> None:
    """TTS_OPENAI_VOICES with a pair that is not name=voice is refused when the settings load (not per request)."""
    from tts_predictor.settings import Settings

    with pytest.raises(ValidationError) as info:
        Settings(openai_voices="alloy=en_US-joe-medium, nova")
    assert "'nova' is not name=voice_id" in str(info.value)
    assert Settings(openai_voices="alloy=a, nova=b").openai_voices == "alloy=a, nova=b"
