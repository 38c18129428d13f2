"""The formant fallback engine (espeak-ng as a separate program) and the catalogue's language rule.

The engine runs the real espeak-ng; its crash and hang paths run through a wrapper script around it that dies
(SIGSEGV) or hangs on a marker word, because no input is known that still crashes espeak-ng once `espeak_safe`
has spaced dotted letters (the stack-smashing input of issue 23)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import psutil
import pytest

from tts_predictor.api.openai import OPENAI_VOICES, openai_voice
from tts_predictor.engines import formant
from tts_predictor.engines.base import SynthesisRequest, Voice
from tts_predictor.engines.formant import FormantEngine, bcp47, parse_voices
from tts_predictor.engines.pool import VoicePool
from tts_predictor.errors import UnknownLanguage, UnspeakableText
from tts_predictor.voices.catalog import VoiceCatalog, VoiceChoice

LISTING = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  de              --/M      German             gmw/de
 2  en-gb           --/M      English_(Great_Britain) gmw/en               (en 2)
 5  en-gb-x-rp      --/M      English_(Received_Pronunciation) gmw/en-GB-x-rp       (en-gb 4)(en 5)
 5  es-419          --/M      Spanish_(Latin_America) roa/es-419           (es-mx 6)(es 6)
 5  pt              --/F      Portuguese_(Portugal) roa/pt               (pt-pt 5)
 5  yue             --/M      Chinese_(Cantonese) sit/yue              (zh-yue 5)(zh 8)
 5  yue             --/M      Chinese_(Cantonese,_latin_as_Jyutping) sit/yue-Latn-jyutping (zh-yue 5)(zh 8)
"""


@pytest.fixture(scope="module")
def engine() -> FormantEngine:
    return FormantEngine()


def _voice(engine: FormantEngine, voice_id: str) -> Voice:
    return next(v for v in engine.voices() if v.id == voice_id)


def test_espeak_codes_become_bcp47_tags() -> None:
    """Region subtags upper case, scripts title case, private-use parts left alone."""
    assert [bcp47(c) for c in ("de", "en-gb", "es-419", "cmn-latn-pinyin", "en-gb-x-rp", "vi-vn-x-central")] == [
        "de",
        "en-GB",
        "es-419",
        "cmn-Latn-pinyin",
        "en-GB-x-rp",
        "vi-VN-x-central",
    ]


def test_listing_gives_one_voice_per_tag_with_regional_aliases() -> None:
    """The voice file names a variant where language codes repeat (yue twice); aliases keep regions and other
    languages (pt-PT, es-MX, zh) but not the bare primary language (en for en-GB)."""
    voices = {v.tag: v for v in parse_voices(LISTING)}
    assert list(voices) == ["de", "en-GB", "en-GB-x-rp", "es-419", "pt", "yue", "yue-Latn-jyutping"]
    assert voices["en-GB"].aliases == () and voices["en-GB-x-rp"].aliases == ("en-GB",)
    assert voices["es-419"].aliases == ("es-MX",) and voices["pt"].aliases == ("pt-PT",)
    assert voices["yue-Latn-jyutping"].path == "sit/yue-Latn-jyutping" and voices["pt"].gender == "female"


def test_every_listed_language_is_a_formant_voice(engine: FormantEngine) -> None:
    """The real espeak-ng lists 100+ languages; ids follow espeak-<tag in lower case>."""
    voices = {v.id: v for v in engine.voices()}
    assert len(voices) > 100 and {"espeak-de", "espeak-es", "espeak-en-gb", "espeak-pt-br"} <= set(voices)
    assert voices["espeak-pt-br"].languages == ("pt-BR",) and voices["espeak-de"].to_dict()["quality"] == "formant"
    assert {v.engine for v in voices.values()} == {"espeak"} and {v.sample_rate for v in voices.values()} == {22050}


def test_speed_changes_the_speaking_rate(engine: FormantEngine) -> None:
    """`-s` follows the request speed: twice as fast is clearly shorter, half as fast clearly longer."""
    de = _voice(engine, "espeak-de")
    text = "Heute ist das Wetter in Berlin sehr schön, und wir gehen spazieren."
    normal, fast, slow = (engine.synthesize(SynthesisRequest(text, de, "de", speed=s)) for s in (1.0, 2.0, 0.5))
    assert normal.sample_rate == 22050 and normal.duration_s > 1.5
    assert fast.duration_s < 0.7 * normal.duration_s and slow.duration_s > 1.5 * normal.duration_s


@pytest.mark.parametrize(
    "text",
    [
        "a." * 300,  # espeak-ng 1.51 smashes its stack on ~85 dotted letters unless spaced
        "\x00\x01\x07\x1b[31m rot \x7f\x9b",  # control characters and an ANSI escape
        "Z\u0336\u0321a\u0337l\u0338g\u0335o \U0001f600 \u202eabc\u202c \ufeff \U0001d573\U0001d586",
        "-v en --stdout -w /tmp/x.wav",  # options in the text are text (stdin, never argv)
        "[[h@l'oU]] ]]]] [[[[",  # espeak's phoneme input stays text
        "Wort " * 2000,  # one very long sentence
    ],
)
def test_hostile_text_is_spoken_or_silent_never_a_crash(engine: FormantEngine, text: str) -> None:
    """Whatever the text, the engine returns finite audio at its rate."""
    audio = engine.synthesize(SynthesisRequest(text, _voice(engine, "espeak-de"), "de"))
    assert audio.sample_rate == 22050 and np.isfinite(audio.samples).all() and audio.duration_s > 0


def _wrapper(tmp_path: Path) -> str:
    script = tmp_path / "espeak-ng"
    script.write_text(
        "#!/bin/sh\n"
        '[ "$1" = "--voices" ] && exec espeak-ng --voices\n'
        "text=$(cat)\n"
        'case "$text" in *hang*) exec sleep 60;; *boom*) kill -SEGV $$;; esac\n'
        'printf "%s" "$text" | exec espeak-ng "$@"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def _under_another_python(proc: psutil.Process) -> bool:
    """Whether a Python process other than this one stands between `proc` and this process."""
    parent = proc.parent()
    while parent is not None and parent.pid != os.getpid():
        if parent.name().startswith("python"):
            return True
        parent = parent.parent()
    return False


def _espeak_children() -> list[psutil.Process]:
    """This process's espeak-ng (or wrapper, or hanging `sleep`) descendants still alive, not counting those of
    the server processes other tests of the session started (their phonemizer workers are long-lived)."""
    out = []
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if _under_another_python(proc):
                continue
            if proc.name() == "sleep" or any("espeak-ng" in part for part in proc.cmdline()):
                out.append(proc)
        except psutil.NoSuchProcess:
            pass
    return out


def test_a_crash_costs_only_the_words_that_cause_it(tmp_path: Path) -> None:
    """A process dying on a sentence is retried word by word: the other words are spoken, the killer skipped."""
    before = {p.pid for p in _espeak_children()}  # long-lived phonemizer workers of earlier tests are not ours
    crashy = FormantEngine(_wrapper(tmp_path))
    de = _voice(crashy, "espeak-de")
    words = [crashy.synthesize(SynthesisRequest(w, de, "de")).samples for w in ("Guten", "Tag", "schöne", "Welt")]
    without = crashy.synthesize(SynthesisRequest("Guten boom Tag schöne Welt", de, "de"))
    assert np.array_equal(without.samples, np.concatenate(words)), "each word alone, the crashing one left out"
    with pytest.raises(UnspeakableText, match="text: espeak-ng cannot read"):
        crashy.synthesize(SynthesisRequest("boom " * (formant.MAX_FAILED_WORDS + 1), de, "de"))
    assert [p for p in _espeak_children() if p.pid not in before] == []


def test_a_hanging_process_is_killed_at_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that never answers is killed and reaped; the words around it are still spoken."""
    monkeypatch.setattr(formant, "TIMEOUT_S", 0.5)
    before = {p.pid for p in _espeak_children()}  # long-lived phonemizer workers of earlier tests are not ours
    hanging = FormantEngine(_wrapper(tmp_path))
    audio = hanging.synthesize(SynthesisRequest("Hallo hang Welt", _voice(hanging, "espeak-de"), "de"))
    assert audio.duration_s > 0.3 and [p for p in _espeak_children() if p.pid not in before] == []


def _catalog(with_formant: bool = True) -> VoiceCatalog:
    neural = [Voice("joe", ("en-US",), "onnx", 22050), Voice("hans", ("de",), "onnx", 22050)]
    espeak = [
        Voice(f"espeak-{tag.lower()}", (tag, *aliases), "espeak", 22050, quality="formant")
        for tag, aliases in [("de", ()), ("en-GB", ()), ("es", ()), ("es-419", ("es-MX",)), ("pt-BR", ())]
    ]
    return VoiceCatalog(neural + (espeak if with_formant else []), default="joe")


@pytest.mark.parametrize(
    ("asked", "voice", "spoken", "substituted"),
    [
        ("de", "hans", "de", False),  # a neural voice of the exact variant beats the formant one
        ("en-GB", "joe", "en-US", True),  # a neural voice of the primary language beats a formant exact variant
        ("de-AT", "hans", "de", True),
        ("es-MX", "espeak-es-419", "es-MX", False),  # formant, exact (an alias espeak-ng lists)
        ("es", "espeak-es", "es", False),
        ("es-AR", "espeak-es", "es", True),  # formant, primary language: the bare one first
        ("pt-PT", "espeak-pt-br", "pt-BR", True),
        ("en", "joe", "en-US", False),  # a bare language answered by one of its variants is no substitution
    ],
)
def test_language_rule_and_its_report(asked: str, voice: str, spoken: str, substituted: bool) -> None:
    """neural exact > neural primary > formant exact > formant primary; a variant other than the asked one is
    reported in the headers and JSON fields."""
    choice = _catalog().choose(None, asked)
    assert (choice.voice.id, choice.language, choice.substituted) == (voice, spoken, substituted)
    headers = choice.headers()
    assert headers["X-Voice-Quality"] == choice.voice.quality
    assert headers.get("X-Language-Substituted") == (spoken if substituted else None)
    assert choice.fields() == {"quality": choice.voice.quality, "spoken_language": spoken, "substituted": substituted}


def test_without_formant_voices_an_unknown_language_is_refused() -> None:
    """Fallbacks off: Spanish is a 400 naming the field and the languages there are."""
    with pytest.raises(UnknownLanguage, match="language: unsupported language 'es'; supported: en-US, de"):
        _catalog(with_formant=False).resolve(None, "es")
    with pytest.raises(UnknownLanguage, match="'tlh'"):
        _catalog().resolve(None, "tlh")


def test_an_explicit_voice_of_another_variant_is_reported() -> None:
    """voice=joe with language=en-GB speaks en-US, and says so."""
    assert _catalog().choose("joe", "en-GB") == VoiceChoice(_catalog().by_id["joe"], "en-US", "en-GB")
    assert _catalog().choose("joe", "en-GB").headers()["X-Language-Substituted"] == "en-US"


def test_openai_names_never_map_to_formant_voices() -> None:
    """Every OpenAI name and any future name lands on a neural voice, with 100+ formant voices listed."""
    catalog = VoiceCatalog(_pool().voices())
    assert len(catalog.voices) > 100
    mapped = {openai_voice(catalog, name) for name in (*OPENAI_VOICES, "juniper", "some-future-voice")}
    assert mapped == {"joe"}
    assert openai_voice(catalog, "espeak-de") == "espeak-de"  # a formant voice named by its id is itself


class _OneVoice:
    """A one-voice engine for the composite (never synthesizes here)."""

    kind, device, name = "onnx", "cpu", "joe"

    def voices(self) -> list[Voice]:
        return [Voice("joe", ("en-US",), "onnx", 22050)]

    def synthesize(self, request: SynthesisRequest) -> None:
        raise AssertionError("not used")

    def close(self) -> None:
        pass


def _pool() -> VoicePool:
    """A voice pool of the one-voice model (loaded) with the formant voices as its fallback."""
    pool = VoicePool(["joe"], lambda spec: _OneVoice(), lambda spec: spec, fallback=FormantEngine())
    pool.ensure_loaded(pool.members()[0], "start")
    return pool


def test_the_pool_describes_its_models_not_the_fallback() -> None:
    """kind, device, states and the repository's models stay the configured model's; the formant voices come
    last, and a formant voice is synthesized by the fallback engine without loading a model."""
    composite = _pool()
    assert composite.states() == {"joe": "loaded"}
    assert composite.kind == "onnx" and composite.device == "cpu" and list(composite.by_name) == ["joe"]
    ids = [v.id for v in composite.voices()]
    assert ids[0] == "joe" and all(i.startswith("espeak-") for i in ids[1:])
    german = next(v for v in composite.voices() if v.id == "espeak-de")
    audio = composite.synthesize(SynthesisRequest("Guten Tag.", german, "de"))
    assert audio.samples.size > audio.sample_rate // 4  # a quarter second at least: real speech
