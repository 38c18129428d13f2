"""Compare two spoken readings on meaning, not spelling: the comparator of the NeMo benchmark (`nemo_cases`).

Both readings go through the same canonical form: lower case, punctuation and hyphens dropped (they change the
prosody, not what is said), upper-case initialisms spelled as letters ("DNA" = "D N A"), and every run of English
number words parsed back to its values ("one hundred and twenty three" = "one hundred twenty three" = 123). A run
that reads as a year in two halves ("twenty thirty", "nineteen oh five") also counts as the year (2030, 1905), so
"twenty thirty" and "two thousand thirty" compare equal; everything else must match word for word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

_ONES = "zero one two three four five six seven eight nine".split()
_TEENS = "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_SMALL = {w: i for i, w in enumerate(_ONES)} | {w: 10 + i for i, w in enumerate(_TEENS)}
_SMALL |= {w: 20 + 10 * i for i, w in enumerate(_TENS)}
_ORDINAL_WORDS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fifth": 5,
    "eighth": 8,
    "ninth": 9,
    "twelfth": 12,
}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_A_AS_ONE = frozenset({"half", "quarter", "third", "hundred", "thousand", "million", "billion"})
"""'a half', 'a hundred': the article reads as 'one'."""
_TOKEN = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
_INITIALISM = re.compile(r"\b[A-Z]{2,5}\b")
_FILLERS = frozenset({"and"})
"""Dropped on both sides: 'one hundred and twenty', 'two dollars and five cents' say the same without it."""


def _ordinal_value(word: str) -> int | None:
    """'twenty' -> None, 'twentieth' -> 20, 'fourth' -> 4, 'hundredth' -> 100."""
    if word in _ORDINAL_WORDS:
        return _ORDINAL_WORDS[word]
    if word.endswith("ieth") and word[:-4] + "y" in _SMALL:
        return _SMALL[word[:-4] + "y"]
    if word.endswith("th") and word[:-2] in _SMALL:
        return _SMALL[word[:-2]]
    if word.endswith("th") and word[:-2] in _SCALES:
        return _SCALES[word[:-2]]
    return None


def _number_word(word: str) -> tuple[int, str] | None:
    """(value, kind) of one number word; kind: small, scale, ordinal, ordinal-scale."""
    base = word[:-1] if word.endswith("s") and _ordinal_value(word[:-1]) else word  # "fortieths"
    if word in _SMALL:
        return _SMALL[word], "small"
    if word in _SCALES:
        return _SCALES[word], "scale"
    value = _ordinal_value(base)
    if value is None:
        return None
    return value, "ordinal-scale" if value >= 100 and value in _SCALES.values() else "ordinal"


def _groups(words: list[str]) -> list[tuple[int, bool]]:
    """Parse a run of number words into (value, is_ordinal) groups: 'nineteen eighty four' -> [(19,F), (84,F)]."""
    groups: list[tuple[int, bool]] = []
    total = current = 0
    last = ""  # kind of the previous word: "", "unit", "teen", "ten", "scale"
    for word in words:
        value, kind = _number_word(word)  # type: ignore[misc]
        ordinal = kind.startswith("ordinal")
        if kind in ("scale", "ordinal-scale"):
            if value == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * value
                current = 0
            last = "scale"
        else:
            step = "ten" if value >= 20 and value % 10 == 0 else "teen" if value >= 10 else "unit"
            joins = last in ("", "scale") or (last == "ten" and step == "unit" and current % 10 == 0)
            if not joins:
                groups.append((total + current, False))
                total = current = 0
            current += value
            last = step
        if ordinal:
            groups.append((total + current, True))
            total = current = 0
            last = ""
    if last:
        groups.append((total + current, False))
    return groups


def _year_merged(groups: list[tuple[int, bool]]) -> list[tuple[int, bool]]:
    """Two-half years joined: (20, 30) -> 2030, (19, 0, 5) -> 1905 ('nineteen oh five')."""
    out: list[tuple[int, bool]] = []
    i = 0
    while i < len(groups):
        value, ordinal = groups[i]
        nxt = groups[i + 1 : i + 3]
        if 10 <= value <= 99 and not ordinal and len(nxt) == 2 and nxt[0] == (0, False) and nxt[1][0] < 10:
            out.append((value * 100 + nxt[1][0], nxt[1][1]))
            i += 3
        elif 10 <= value <= 99 and not ordinal and nxt and 10 <= nxt[0][0] <= 99:
            out.append((value * 100 + nxt[0][0], nxt[0][1]))
            i += 2
        else:
            out.append(groups[i])
            i += 1
    return out


def _tokens(text: str) -> list[str]:
    text = _INITIALISM.sub(lambda m: " ".join(m.group(0)), text)
    text = text.lower().replace("-", " ").replace("'", "").replace("’", "")
    tokens = [t for t in _TOKEN.findall(text) if t.isalnum() and t not in _FILLERS]
    return ["one" if t == "a" and nxt in _A_AS_ONE else t for t, nxt in zip(tokens, [*tokens[1:], ""], strict=False)]


def _runs(tokens: list[str]) -> Iterator[tuple[bool, list[str]]]:
    """Alternating (is_number_run, words); 'and'/'oh' inside a number run belong to it."""
    run: list[str] = []
    for i, token in enumerate(tokens):
        inside = bool(run) and i + 1 < len(tokens) and _number_word(tokens[i + 1]) is not None
        if _number_word(token) is not None or (token == "oh" and inside):
            run.append(token)
            continue
        if run:
            yield True, run
            run = []
        yield False, [token]
    if run:
        yield True, run


def _render(groups: list[tuple[int, bool]]) -> list[str]:
    return [f"#{value}{'th' if ordinal else ''}" for value, ordinal in groups]


def canonical_forms(text: str) -> set[tuple[str, ...]]:
    """Every canonical token sequence `text` can mean (plain, and with two-half years joined)."""
    plain: list[str] = []
    years: list[str] = []
    for is_number, words in _runs(_tokens(text)):
        if not is_number:
            plain += words
            years += words
            continue
        groups = _groups(["zero" if w == "oh" else w for w in words])
        plain += _render(groups)
        years += _render(_year_merged(groups))
    return {tuple(plain), tuple(years)}


_OTHER_FILLERS = {"es": frozenset({"con"}), "de": frozenset({"und"}), "fr": frozenset({"et"})}
"""Between an amount's units and its cents only ('cinco euros con cincuenta céntimos'): dropped on both sides.
German 'und' inside a number is no filler, but numbers are compared without spaces, so it stays in the word."""


def _other_language_form(text: str, language: str) -> str:
    """Lower case, punctuation dropped; German without spaces ('vier und zwanzig' = 'vierundzwanzig')."""
    words = re.findall(r"\w+", text.lower().replace("-", " "))
    fillers = _OTHER_FILLERS.get(language, frozenset())
    if language == "de":  # compounds: 'drei Euro und fünfzig Cent' keeps its 'und' glued, like the written form
        return "".join(words)
    if language == "es":  # the RAE accepts 'décimo tercero' and 'decimotercero': compared without spaces and accents
        plain = unicodedata.normalize("NFD", "".join(w for w in words if w not in fillers))
        return "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(w for w in words if w not in fillers)


def same_meaning(ours: str, *accepted: str, language: str = "en") -> bool:
    """True when `ours` reads the same as one of the `accepted` readings (see the module docstring); 'and' is ignored.

    Languages other than English are compared on their words (lower case, no punctuation; German without spaces,
    Spanish without the 'con' before cents, spaces and accents), not on parsed numbers.
    """
    if language != "en":
        mine_text = _other_language_form(ours, language)
        return any(mine_text == _other_language_form(reading, language) for reading in accepted)
    mine = canonical_forms(ours)
    return any(mine & canonical_forms(reading) for reading in accepted)
