"""Spanish agreement the number rules need: 'un dólar', 'una libra', 'la una y cuarto', '1.ª' → 'primera'."""

from __future__ import annotations

from num2words import num2words

FEMININE_NOUNS = frozenset(
    {
        "hora",
        "horas",
        "libra",
        "libras",
        "tonelada",
        "toneladas",
        "milla",
        "millas",
        "pulgada",
        "pulgadas",
        "yarda",
        "yardas",
        "caloría",
        "calorías",
        "rupia",
        "rupias",
        "corona",
        "coronas",
        "córdoba",
        "córdobas",
        "peseta",
        "pesetas",
    }
)
"""Nouns a number before them agrees with in the feminine ('una hora', 'veintiuna libras')."""


def agree(words: str, noun: str) -> str:
    """`words` (a cardinal) as said before `noun`: final 'uno' becomes 'un' / 'una', 'veintiuno' 'veintiún' / '-una'.

    Only the last word changes: 'doscientos millones uno' + 'libras' → 'doscientos millones una'.
    """
    head, _, last = words.rpartition(" ")
    if not last.endswith("uno"):
        return words
    feminine = noun.split(" ")[0].lower() in FEMININE_NOUNS
    if feminine:
        last = last[:-1] + "a"
    else:
        last = "veintiún" if last == "veintiuno" else last[:-1]
    return f"{head} {last}".strip()


_ORDINAL_WORDS = {10: "décimo", 11: "undécimo", 12: "duodécimo"}
"""num2words says 'décimoprimero'; the RAE's forms are 'undécimo' / 'duodécimo', and 'decimotercero' unaccented."""


_NUM2WORDS_SPELLING = {
    "quadragésim": "cuadragésim",
    "cuadrigentésim": "cuadringentésim",
    "septigentésim": "septingentésim",
    "octigentésim": "octingentésim",
}
"""num2words' misspellings of Spanish ordinals (RAE: cuadragésimo, cuadringentésimo, ...)."""


def ordinal(n: int, marker: str) -> str:
    """'1.º' primero, '1.ª' primera, '1.ᵉʳ' primer (also 3.ᵉʳ tercer): every word of the ordinal agrees; 13th to
    29th are the fused forms the RAE recommends, whose first part never changes ('decimotercera', 'vigesimoctavo')."""
    if 13 <= n <= 29 and n != 20:
        unit = ordinal(n % 10, marker)
        prefix = "decimo" if n < 20 else "vigesimo"
        return prefix + (unit[1:] if unit.startswith("o") else unit)
    words = _ORDINAL_WORDS.get(n) or str(num2words(n, lang="es", to="ordinal")).replace("décimo", "decimo")
    for wrong, right in _NUM2WORDS_SPELLING.items():
        words = words.replace(wrong, right)
    words = words.replace("decimo ", "décimo ") if words.startswith("decimo ") else words
    if marker == "ª":
        return " ".join(w[:-1] + "a" if w.endswith("o") else w for w in words.split())
    if marker in ("ᵉʳ", "er") and words.split()[-1] in ("primero", "tercero"):
        return words[:-1]
    return words


def time_words(hour: int, minute: int, period: str | None) -> str:
    """'la una y cuarto' style, without the article: 'una', 'trece y media', 'cinco y dos de la tarde'."""
    hour_words = {1: "una", 21: "veintiuna"}.get(hour) or str(num2words(hour, lang="es"))
    minutes = {0: "", 15: "y cuarto", 30: "y media"}.get(minute)
    if minutes is None:
        minutes = f"y {num2words(minute, lang='es')}"
    return " ".join(p for p in (hour_words, minutes, _period(hour, period)) if p)


def _period(hour: int, period: str | None) -> str:
    if period is None:
        return ""
    if period.upper() == "AM":
        return "de la noche" if hour == 12 else "de la mañana"
    if hour == 12:
        return "del mediodía"
    return "de la tarde" if hour < 8 else "de la noche"
