"""Per-sentence language detection (text.language_id): accuracy on short sentences, spans, stickiness, and
hostile inputs (huge texts, odd Unicode, emoji, numbers only, a language change every sentence)."""

from __future__ import annotations

import pytest

from bench.language_id import SENTENCES
from tts_predictor.text import language_id
from tts_predictor.text.language_id import LanguageDetection, detect, detection_for
from tts_predictor.text.plan import plan_text
from tts_predictor.text.segments import Segment

SIX = ("de", "en", "es", "fr", "it", "pt")
EN_DE = LanguageDetection({"en": "en-US", "de": "de-DE"})


def _spans(text: str, detection: LanguageDetection = EN_DE) -> list[tuple[str | None, str]]:
    return [(s.language, s.text) for s in detection.tag([Segment(text=text)], "en-US")]


def test_short_sentences_of_six_languages_are_told_apart() -> None:
    """The benchmark's 78 short sentences: a sure answer is right at least 97% of the time, and few are unsure."""
    answers = [(expected, detect(text, SIX)) for expected, text in SENTENCES]
    sure = [(e, a[0]) for e, a in answers if a is not None and a[1] >= language_id.MIN_CONFIDENCE]
    right = sum(1 for expected, found in sure if expected == found)
    assert right / len(sure) >= 0.97 and len(sure) >= 0.9 * len(SENTENCES) - 8


def test_every_language_as_candidate_never_switches_wrongly() -> None:
    """With all of the detector's languages as candidates (a server with espeak-ng fallbacks), no sentence of the
    set is surely another language than its own: unsure ones stay in the previous language instead."""
    codes = tuple(sorted(language_id.known_languages()))
    wrong = [
        (text, found)
        for expected, text in SENTENCES
        if (found := detect(text, codes)) and found[1] >= language_id.MIN_CONFIDENCE and found[0] != expected
    ]
    assert wrong == []


def test_mixed_paragraph_becomes_one_span_per_language_run() -> None:
    """English, two German sentences, English: three spans, consecutive German sentences joined."""
    text = (
        "The weather is lovely today, so we are going for a walk. Heute Abend gehen wir zusammen ins Kino. "
        "Danach essen wir in einem kleinen Restaurant. After dinner we will take the last train home."
    )
    assert _spans(text) == [
        ("en-US", "The weather is lovely today, so we are going for a walk."),
        ("de-DE", "Heute Abend gehen wir zusammen ins Kino. Danach essen wir in einem kleinen Restaurant."),
        ("en-US", "After dinner we will take the last train home."),
    ]


def test_short_or_unsure_sentences_keep_the_language_before_them() -> None:
    """'Danke!' and a number-only sentence stay German; a short first sentence takes the first sure language."""
    spans = _spans("Ja. Ich komme morgen mit dem Zug nach Berlin. Danke! 42. The train was late again this morning.")
    assert spans == [
        ("de-DE", "Ja. Ich komme morgen mit dem Zug nach Berlin. Danke! 42."),
        ("en-US", "The train was late again this morning."),
    ]


def test_segments_with_their_own_language_or_voice_are_left_alone() -> None:
    """SSML xml:lang and <voice name> spans are not re-detected; empty pause segments pass through."""
    own = [Segment(text="Guten Morgen, wie geht es dir?", language="fr"), Segment(text="Bonjour.", voice="x")]
    pause = Segment(pause_after_s=0.5)
    assert list(EN_DE.tag([*own, pause], "en-US")) == [*own, pause]


def test_marks_and_pauses_stay_on_the_outer_spans() -> None:
    """A segment's mark and pause-before go to its first span, pause-after to its last."""
    segment = Segment(
        text="I would like a coffee with milk please. Ich hätte gern einen Kaffee mit Milch.",
        mark="m1",
        pause_before_s=0.2,
        pause_after_s=0.7,
    )
    first, last = list(EN_DE.tag([segment], "en-US"))
    assert (first.mark, first.pause_before_s, first.pause_after_s) == ("m1", 0.2, 0.0)
    assert (last.mark, last.pause_before_s, last.pause_after_s, last.language) == (None, 0.0, 0.7, "de-DE")


def test_detection_needs_two_known_languages() -> None:
    """One language, or languages the detector does not know, give no detection; the first tag per code wins."""
    assert detection_for(["en-US", "en-GB"]) is None
    assert detection_for(["en-US", "x-klingon"]) is None
    found = detection_for(["en-US", "de", "en-GB", "de-AT"])
    assert found is not None and found.tags == {"en": "en-US", "de": "de"}


def test_numbers_are_read_in_the_detected_language() -> None:
    """Detection runs before normalization: '21' in a German sentence is read in German."""
    text = "I bought 21 apples at the market today. Ich habe heute 21 Äpfel auf dem Markt gekauft."
    segments = list(plan_text(text, language="en-US", detect=EN_DE))
    assert [s.language for s in segments] == ["en-US", "de-DE"]
    assert "twenty-one" in segments[0].text and "einundzwanzig" in segments[1].text


@pytest.mark.parametrize(
    "text",
    [
        "😀😀😀 🎉🎉",
        "1234 5678 90 12,5 3.14159",
        "\u200b\u200d\u202e\ufeff...",
        "𝕳𝖊𝖑𝖑𝖔 𝖜𝖔𝖗𝖑𝖉",
        "???!!!",
        "a\u0301" * 50,
    ],
)
def test_hostile_texts_without_words_stay_undetected(text: str) -> None:
    """Emoji only, numbers only, invisible characters, math letters, punctuation, combining marks: no language
    (the segment keeps None: the voice's own language), and nothing raises."""
    assert [lang for lang, _ in _spans(text)] == [None]


def test_huge_run_on_sentence_is_judged_on_a_bounded_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 200 000-character sentence without a full stop: the detector sees at most DETECT_CHARS of it."""
    seen: list[int] = []
    real = language_id._base_identifier()

    class Spy:
        def rank(self, text: str) -> list[tuple[str, float]]:
            seen.append(len(text))
            return real.rank(text)

    monkeypatch.setattr(language_id, "_base_identifier", lambda: Spy())
    text = "und dann gingen wir weiter " * 8000
    assert detect(text, ("de", "en")) is not None
    assert seen == [language_id.DETECT_CHARS]


def test_alternating_languages_switch_at_most_once_per_sentence() -> None:
    """A language change every sentence gives one span per sentence: switches never exceed sentences."""
    pair = ["We will meet at the station tomorrow morning.", "Wir treffen uns morgen früh am Bahnhof."]
    text = " ".join(pair * 30)
    spans = _spans(text)
    assert len(spans) == 60
    assert [lang for lang, _ in spans] == ["en-US", "de-DE"] * 30


def test_concurrent_first_use_loads_one_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight threads detecting at once on a cold process share one model (loaded once) and agree."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(language_id, "_BASE", [])
    sentence = "Wir treffen uns morgen früh am Bahnhof in der Stadt."
    with ThreadPoolExecutor(8) as pool:
        found = list(pool.map(lambda _: detect(sentence, ("de", "en")), range(8)))
    assert len(language_id._BASE) == 1
    assert {f[0] for f in found if f} == {"de"} and all(found)
