"""Blocklist bypasses of issue 23 (finding 8): apostrophes inside a word, Latin kra, espeak-ng's `[[phoneme]]`
input, and a phrase split across two utterances of a stream. The blocklist matches what the engine will say."""

from __future__ import annotations

import pytest

from tts_predictor.errors import ContentRejected
from tts_predictor.text.blocklist import Blocklist
from tts_predictor.text.guard import defuse, escape_phoneme_input
from tts_predictor.text.preview import preview

BLOCKED = Blocklist(["kiss", "forbidden phrase"])


@pytest.mark.parametrize(
    "text",
    [
        "ki'ss",
        "ki\u2019ss",
        "ki\u00b4ss",
        "ki\u02bcss",
        "ki\uff07ss",
        "\u0138iss",
        "a \u0138I\u2019SS here",
        "K\u0131'ss",
    ],
)
def test_apostrophes_and_kra_do_not_hide_a_blocked_word(text):
    """espeak-ng reads `ki'ss`, `ki’ss` and `ĸiss` as `kiss` (checked with espeak-ng 1.51 --ipa: kˈɪs)."""
    with pytest.raises(ContentRejected, match="blocklist entry 1"):
        BLOCKED.check(text, "text")


@pytest.mark.parametrize("text", ["don't", "it's a kid's kit", "Kissinger", "forbidden, yes; a different phrase"])
def test_ordinary_text_still_passes(text):
    """Folding apostrophes makes no new false positive out of ordinary words (and whole-word matching holds)."""
    assert BLOCKED._folded, "an empty blocklist passes everything: the check below would prove nothing"
    BLOCKED.check(text, "text")  # raises ContentRejected on a false positive


def test_espeak_phoneme_brackets_are_escaped_before_the_engine():
    """`[[k'Is]]` made espeak-ng say 'kiss' past the blocklist; the brackets are spaced apart (same length)."""
    assert escape_phoneme_input("[[k'Is]]") == "[ k'Is ]"
    assert "[[" not in defuse("say [[[k'Is]]] now") and "]]" not in defuse("say [[[k'Is]]] now")
    assert preview("[[k'Is]]", language="en-US")[0]["text"] == "[ k'Is ]"


def test_a_phrase_split_across_utterances_is_found():
    """The WebSocket planned `forbidden\\nphrase` as two utterances, each checked alone."""
    tail = BLOCKED.check_continuation("", "It is forbidden\n", "text")
    with pytest.raises(ContentRejected, match="blocklist entry 2"):
        BLOCKED.check_continuation(tail, "phrase.", "text")
    # the tail stays short however long the stream
    tail = ""
    for _ in range(200):
        tail = BLOCKED.check_continuation(tail, "a long harmless sentence about boats. " * 5, "text")
    assert len(tail) < 100
