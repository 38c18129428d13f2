"""Digits after a decimal comma as Spanish and French speakers say them: up to three as one number ('3,14' tres
coma catorce, '818,303' ... virgule trois cent trois), longer runs in pairs ('3,1415' tres coma catorce quince),
a zero that leads a group said on its own ('3,05' tres coma cero cinco; '60,2400' ... veinticuatro cero cero)."""

from __future__ import annotations

from collections.abc import Callable


def grouped(digits: str, say: Callable[[int], str]) -> str:
    """`digits` (the part after the comma) in words: one number up to three digits, else pairs left to right;
    `say` reads one number (num2words in the language)."""
    if len(digits) <= 3 and not digits.startswith("0"):
        return say(int(digits))
    groups = [digits] if len(digits) <= 3 else [digits[i : i + 2] for i in range(0, len(digits), 2)]
    words: list[str] = []
    for group in groups:
        if group.startswith("0") or len(group) == 1:
            words += [say(int(d)) for d in group]
        else:
            words.append(say(int(group)))
    return " ".join(words)
