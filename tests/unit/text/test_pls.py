"""W3C PLS lexicons: parsing a real file, aliases and IPA phonemes, applied after normalization."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tts_predictor.errors import InvalidLexicon
from tts_predictor.text import pls
from tts_predictor.text.plan import plan_text, speakable

PLS_FILE = Path(__file__).parents[2] / "data" / "lexicon_en.pls"


@pytest.fixture()
def lexicons():
    """The test lexicon as the process's set (restored afterwards)."""
    previous = pls.LEXICONS
    yield pls.configure(str(PLS_FILE), espeak_phonemes=True)
    pls.LEXICONS = previous


def test_parse_real_pls_file() -> None:
    lexicon = pls.load_pls(PLS_FILE)
    assert lexicon.name == "lexicon_en" and lexicon.language == "en-US"
    assert lexicon.by_grapheme["kserve"] == pls.Lexeme(("KServe", "kserve"), alias="K Serve")
    assert lexicon.by_grapheme["Nguyen"].phoneme == "wɪn"


def test_applied_after_normalization(lexicons: pls.LexiconSet) -> None:
    spoken = speakable("Dr. Nguyen joined the W3C in 2019 with KServe.", "en-US")
    assert spoken.text == "Doc [[wIn]] joined the World Wide Web Consortium in twenty nineteen with K Serve."
    assert [a["grapheme"] for a in spoken.lexicon] == ["Doctor", "Nguyen", "W3C", "KServe"]
    assert [s.text for s in plan_text("Ask Dr. Nguyen.", language="en")] == ["Ask Doc [[wIn]]."]


def test_language_and_voice_selection(lexicons: pls.LexiconSet) -> None:
    assert speakable("the W3C", "fr-FR").text == "the W3C"  # an en-US lexicon does not apply to French
    voice_only = pls.LexiconSet([(pls.load_pls(PLS_FILE), "alice")])
    assert voice_only.apply("W3C", "en", voice="bob")[0] == "W3C"
    assert voice_only.apply("W3C", "en", voice="alice")[0] == "World Wide Web Consortium"
    assert voice_only.apply("W3C", "en", names=["lexicon_en"])[0] == "World Wide Web Consortium"
    with pytest.raises(InvalidLexicon, match="unknown lexicon 'nope'; loaded: lexicon_en"):
        voice_only.select("en", names=["nope"])


def test_phonemes_skipped_without_espeak(lexicons: pls.LexiconSet) -> None:
    lexicons.espeak_phonemes = False
    assert speakable("Nguyen and W3C", "en").text == "Nguyen and World Wide Web Consortium"


def test_ipa_to_espeak_round_trip() -> None:
    assert pls.ipa_to_espeak("təˈmɑːtoʊ") == "t@'mA:toU"
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed")
    out = subprocess.run([espeak, "-q", "--ipa", "-v", "en-us"], input=b"[[wIn]]", capture_output=True, check=True)
    assert out.stdout.decode().strip().replace("ˈ", "") == "wɪn"  # espeak-ng adds the stress mark


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        (b"<lexicon xml:lang='en'><lexeme><alias>x</alias></lexeme></lexicon>", "has no <grapheme>"),
        (b"<lexicon><lexeme><grapheme>a</grapheme><alias>b</alias></lexeme></lexicon>", "needs xml:lang"),
        (
            b"<lexicon xml:lang='en' alphabet='x-sampa'><lexeme><grapheme>a</grapheme><phoneme>a</phoneme></lexeme></lexicon>",
            "only 'ipa'",
        ),
        (b"<lexicon xml:lang='en'><lexeme><grapheme>a</grapheme></lexeme></lexicon>", "neither <alias> nor <phoneme>"),
        (b"<!DOCTYPE x [<!ENTITY e 'boom'>]><lexicon xml:lang='en'/>", "not a valid PLS document"),
        (b"<speak/>", "root element must be <lexicon>"),
        (b"<lexicon", "not a valid PLS document"),
    ],
)
def test_invalid_lexicons_name_the_problem(document: bytes, needle: str) -> None:
    with pytest.raises(InvalidLexicon, match=needle):
        pls.parse_pls(document, "bad")
