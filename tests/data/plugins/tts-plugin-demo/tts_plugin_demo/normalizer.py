"""Klingon ('tlh') digits read as Klingon number words, one digit at a time."""

from __future__ import annotations

import re

requires_api = 1
languages = ("tlh",)
WORDS = ["pagh", "wa'", "cha'", "wej", "loS", "vagh", "jav", "Soch", "chorgh", "Hut"]


def rewrites(text: str, language: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), " ".join(WORDS[int(d)] for d in m.group(0))) for m in re.finditer(r"[0-9]+", text)]
