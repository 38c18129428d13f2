"""Content filter: reject texts containing terms from a configured blocklist file, however they are disguised."""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path

from anyascii import anyascii
from kserve.errors import InvalidInput

_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)
"""Soft hyphen, zero-width and joiner characters, direction marks, variation selectors, Hangul fillers."""
_APOSTROPHES = re.compile("['`\u00b4\u02b9\u02bb\u02bc\u02bd\u2018\u2019\u201b\u2032\u2035\uff07]")
"""Apostrophe look-alikes: espeak-ng reads `ki'ss` and `ki’ss` as `kiss`, so they join, not split, words."""
_LOOKALIKES = str.maketrans({"\u0138": "k"})
"""Letters anyascii transliterates by sound, not by look: Latin kra `ĸ` (anyascii: q) is spoken k."""
_TAGS = re.compile(r"<[^<>]*>")
_NOT_WORD = re.compile(r"[\W_]+")


class ContentRejected(InvalidInput):
    """The text contains a blocked term (400)."""


def fold(text: str) -> str:
    """The matching form of `text`: entities decoded, tags, invisible characters and apostrophes dropped, NFKC,
    case-folded, look-alike letters replaced, every run of non-word characters (spaces, punctuation) one space."""
    text = _TAGS.sub("", html.unescape(text))
    text = _APOSTROPHES.sub("", _INVISIBLE.sub("", text))  # before NFKC, which makes `´` a space and an accent
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LOOKALIKES)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " " + _NOT_WORD.sub(" ", text).strip() + " "


def fold_confusables(folded: str) -> str:
    """`folded` with look-alike letters (Cyrillic, Greek, fullwidth, ...) transliterated to ASCII (anyascii)."""
    return " " + _NOT_WORD.sub(" ", anyascii(folded).casefold()).strip() + " "


class Blocklist:
    """Whole-word matching of the phrases in a file (one per line, `#` comments) on folded text.

    Both the phrases and the text are folded (`fold`), and matched once more with confusable letters
    transliterated, so `&#107;iss`, `k<mark/>iss`, fullwidth letters, homoglyphs, soft hyphens, zero-width
    characters, accents, apostrophes inside a word (`ki’ss`, which espeak-ng reads as `kiss`) and runs of spaces
    or punctuation between the words do not hide a blocked phrase.
    """

    def __init__(self, phrases: list[str]):
        self.phrases = [p for p in phrases if p.strip()]
        self._folded = [(i, fold(p), fold_confusables(fold(p))) for i, p in enumerate(self.phrases, 1)]
        self._folded = [(i, f, c) for i, f, c in self._folded if f.strip()]
        self._tail_chars = 2 * max((max(len(f), len(c)) for _, f, c in self._folded), default=0) + 16

    @classmethod
    def from_file(cls, path: str | Path) -> Blocklist:
        """Read a blocklist file."""
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return cls([line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")])

    def check(self, text: str, field: str) -> None:
        """Raise ContentRejected naming the field and the rule number (never echoing the request text)."""
        if not self._folded:
            return
        folded = fold(text)
        confusable = fold_confusables(folded)
        for rule, phrase, phrase_ascii in self._folded:
            if phrase in folded or (phrase_ascii.strip() and phrase_ascii in confusable):
                raise ContentRejected(f"{field}: rejected by the content filter (blocklist entry {rule})")

    def check_continuation(self, previous: str, text: str, field: str) -> str:
        """`check` of `text` said right after `previous` (a stream's earlier utterances), so a phrase split across
        messages or sentences (`forbidden\\nphrase` on the WebSocket) is found.

        Returns:
            The folded tail to pass as `previous` with the next text (long enough to hold any blocked phrase).
        """
        if not self._folded:
            return ""
        joined = fold(previous + " " + text)
        self.check(joined, field)
        return joined[-self._tail_chars :]
