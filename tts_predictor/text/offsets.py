"""Where each spoken word came from in the caller's original text (before SSML parsing and normalization).

Normalization rewrites text ("42" -> "forty two", "Dr." -> "Doctor"), so the spoken words are aligned to the
original's tokens with difflib: equal runs map one to one, a rewritten run maps every spoken word in it to the
span of the original tokens it replaced ("forty", "two" -> the characters of "42"). SSML tags are blanked
first (offsets kept), so tag and attribute names never match spoken words.
"""

from __future__ import annotations

import difflib
import re

_TOKEN = re.compile(r"\w+(?:['’.,]\w+)*|[$€£¥%&@#+]")
_TAG = re.compile(r"<[^<>]*>")

Span = tuple[int, int]


def _tokens(original: str) -> list[tuple[str, Span]]:
    blank = _TAG.sub(lambda m: " " * len(m.group()), original)
    return [(m.group().lower(), m.span()) for m in _TOKEN.finditer(blank)]


def source_spans(original: str, spoken: list[str]) -> list[Span | None]:
    """For each spoken word (in order), its (start, end) character span in `original`; None if unmatched."""
    tokens = _tokens(original)
    words = [w.lower() for w in spoken]
    out: list[Span | None] = [None] * len(words)
    matcher = difflib.SequenceMatcher(None, [t for t, _ in tokens], words, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            for k in range(j2 - j1):
                out[j1 + k] = tokens[i1 + k][1]
        elif op == "replace":
            replaced = (tokens[i1][1][0], tokens[i2 - 1][1][1])
            for j in range(j1, j2):
                out[j] = replaced
    for j, span in enumerate(out):  # inserted words (no original token): the previous word's span
        if span is None and j > 0:
            out[j] = out[j - 1]
    return out


def merge_words(words: list[dict[str, object]]) -> list[dict[str, object]]:
    """Join consecutive spoken words that share one original span into one entry ("42" spoken "forty two")."""
    merged: list[dict[str, object]] = []
    for word in words:
        last = merged[-1] if merged else None
        if (
            last is not None
            and word.get("char_start") is not None
            and (last["char_start"], last["char_end"]) == (word["char_start"], word["char_end"])
        ):
            last["spoken"] = f"{last['spoken']} {word['spoken']}"
            last["end_s"] = word["end_s"]
        else:
            merged.append(dict(word))
    return merged
