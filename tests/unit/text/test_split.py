"""Sentence splitting and streaming chunking."""

from __future__ import annotations

import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tts_predictor.text import split
from tts_predictor.text.split import PYSBD_WINDOW, chunk_text, split_sentences


def test_split_english_keeps_abbreviations() -> None:
    assert split_sentences("Dr. Smith paid $3.50. Did he? Yes!") == ["Dr. Smith paid $3.50.", "Did he?", "Yes!"]


def test_split_other_languages_and_fallback() -> None:
    assert split_sentences("Hallo Welt. Wie geht's?", "de-DE") == ["Hallo Welt.", "Wie geht's?"]
    assert split_sentences("Olá mundo. Tudo bem? Sim.", "pt_BR") == [
        "Olá mundo.",
        "Tudo bem?",
        "Sim.",
    ]  # regex fallback
    assert split_sentences("", "en") == []


def test_chunks_are_whole_sentences_within_limit() -> None:
    text = "One sentence here. Another one follows! A third? " * 30
    chunks = list(chunk_text(text, "en", max_chars=100))
    assert all(len(c) <= 100 for c in chunks)
    assert all(c.endswith((".", "!", "?")) for c in chunks)
    assert " ".join(chunks).split() == text.split()


def test_long_sentence_split_at_clauses_then_words() -> None:
    sentence = "alpha beta gamma, delta epsilon zeta; eta theta iota kappa lambda mu nu xi omicron pi rho sigma."
    chunks = list(chunk_text(sentence, "en", max_chars=30))
    assert chunks[0] == "alpha beta gamma,"
    assert all(len(c) <= 30 for c in chunks)
    assert " ".join(chunks).split() == sentence.split()
    assert list(chunk_text("x" * 50, "en", max_chars=10)) == ["x" * 50]  # a word is never cut


def test_paragraphs_are_not_merged() -> None:
    assert list(chunk_text("First para.\n\nSecond para.", "en", max_chars=400)) == ["First para.", "Second para."]


def test_chunk_text_streams_100k_characters() -> None:
    text = ("It was a dark and stormy night; the rain fell in torrents. " * 20 + "\n\n") * 85
    assert len(text) > 100_000
    gen = chunk_text(text, "en", max_chars=400)
    assert isinstance(gen, types.GeneratorType)
    first = next(gen)
    assert len(first) <= 400
    rest = list(gen)
    assert " ".join([first, *rest]).split() == text.split()


def test_one_huge_paragraph_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    """pysbd is super-linear in its input, so linearity means: it only ever sees windows of bounded size, and
    each character of the paragraph reaches it a bounded number of times (work counted, not timed)."""
    fed: list[int] = []
    split_window = split._split_window
    monkeypatch.setattr(split, "_split_window", lambda text, code: fed.append(len(text)) or split_window(text, code))
    text = "Short sentence number one. " * 4000  # ~108k chars, no blank lines
    chunks = list(chunk_text(text, "en", max_chars=400))
    assert " ".join(chunks).split() == text.split()
    assert max(fed) <= 2 * PYSBD_WINDOW
    assert sum(fed) <= 2 * len(text)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .,;!?\n"), max_size=300), st.integers(5, 60))
def test_chunking_preserves_words(text: str, max_chars: int) -> None:
    chunks = list(chunk_text(text, "en", max_chars=max_chars))
    assert "".join("".join(chunks).split()) == "".join(text.split())  # nothing lost (pysbd may split "a;?b")
    assert all(len(c) <= max_chars or " " not in c for c in chunks)
