"""German ordinal endings from the words before them: 'am dritten Oktober', 'der dritte Oktober', 'dritter Oktober'."""

from __future__ import annotations

import re

_DATIVE_OR_ACCUSATIVE = frozenset(
    {"am", "im", "vom", "zum", "beim", "dem", "den", "des", "bis", "ab", "seit", "für", "über", "einem", "einen"}
)
"""Words after which an ordinal takes -en: 'am dritten', 'bis dritten', 'für den dritten'."""
_DEFINITE_NOMINATIVE = frozenset({"der", "die", "das", "jeder", "jede", "jedes"})
"""Articles after which an ordinal keeps -e: 'der dritte Oktober'."""
_LAST_WORD = re.compile(r"(\w+)\W*$")


def inflect(ordinal: str, before: str) -> str:
    """`ordinal` (num2words' form, ending in -e: 'dritte', 'vierundzwanzigste') with the ending its context asks:
    -en after a preposition or dative/accusative article, -e after a definite article, otherwise -er (a date said
    on its own, 'dritter Oktober', as NeMo and German speakers read a heading or a dateline)."""
    if not ordinal.endswith("e"):
        return ordinal
    last = _LAST_WORD.search(before[-24:])
    word = last.group(1).lower() if last else ""
    if word in _DATIVE_OR_ACCUSATIVE:
        return ordinal + "n"
    if word in _DEFINITE_NOMINATIVE:
        return ordinal
    return ordinal + "r"
