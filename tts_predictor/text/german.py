"""German readings the shared rules do not give: ordinals ('3.', '121tem'), fractions ('1/20' ein zwanzigstel),
decimals with every digit ('60,2400'), measures ('56,3 /km²'), amounts ('€0,01' ein Cent), 'Uhr' times, phone
numbers; and ordinal endings from the words before them ('am dritten Oktober', 'der dritte', 'dritter Oktober')."""

from __future__ import annotations

import re
from collections.abc import Callable

from tts_predictor.text import lexicon as lx
from tts_predictor.text import tables as tb
from tts_predictor.text import verbalize as sy

Reader = Callable[[re.Match[str], str], "str | None"]

_DATIVE_OR_ACCUSATIVE = frozenset(
    {"am", "im", "vom", "zum", "beim", "dem", "den", "des", "bis", "ab", "seit", "für", "über", "einem", "einen"}
)
"""Words after which an ordinal takes -en: 'am dritten', 'bis dritten', 'für den dritten'."""
_DEFINITE_NOMINATIVE = frozenset({"der", "die", "das", "jeder", "jede", "jedes"})
"""Articles after which an ordinal keeps -e: 'der dritte Oktober'."""
_ARTICLES = frozenset(
    {"am", "im", "vom", "zum", "zur", "beim", "dem", "den", "des", "der", "die", "das", "ihr", "sein"}
)
"""Words after which 'N.' is an ordinal even at the end of the text: 'zum 3.', 'dem 1000.'."""
_SENTENCE_STARTS = frozenset(
    "Der Die Das Den Dem Des Ein Eine Einen Ich Du Er Sie Es Wir Ihr Man Dann Danach Aber Und Oder Doch Also So "
    "Da Dort Hier Heute Morgen Gestern Jetzt Nun Auch Noch Nicht Kein Keine Wer Was Wie Wo Wann Warum Im Am Mit "
    "Bei Nach Vor In Auf Für Von Zu Um Als Wenn Dies Diese Dieser Jede Jeder Alle Viele Mein Meine Unser Unsere".split()
)
"""Capitalized words that start a sentence: after 'Es waren 3.' they mean a full stop, not an ordinal."""
_LAST_WORD = re.compile(r"(\w+)\W*$")


def _last_word(before: str) -> str:
    last = _LAST_WORD.search(before[-24:])
    return last.group(1).lower() if last else ""


def inflect(ordinal: str, before: str) -> str:
    """`ordinal` (num2words' form, ending in -e: 'dritte', 'vierundzwanzigste') with the ending its context asks:
    -en after a preposition or dative/accusative article, -e after a definite article, otherwise -er (a date said
    on its own, 'dritter Oktober', as NeMo and German speakers read a heading or a dateline)."""
    if not ordinal.endswith("e"):
        return ordinal
    word = _last_word(before)
    if word in _DATIVE_OR_ACCUSATIVE:
        return ordinal + "n"
    if word in _DEFINITE_NOMINATIVE:
        return ordinal
    return ordinal + "r"


def ordinal_stem(n: int) -> str:
    """num2words' ordinal ('dritte'), with 'ein' before a bare hundred or thousand ('einhundertste', as the
    cardinal 'einhundert' is said)."""
    words = sy.n2w(n, "de", "ordinal")
    return "ein" + words if words.startswith(("hundert", "tausend")) else words


def _dot_ordinal(m: re.Match[str], lang: str) -> str | None:
    """'3.': an ordinal before a lower-case word or a month ('als 3. ins Ziel', '3. Oktober'), before a noun after
    an article or at the start of a line ('Der 3. Platz', '100. Geburtstag'), after an article at the end ('zum
    3.'), or alone; a full stop after a cardinal otherwise ('Es waren 3.', 'insgesamt 12. Peter', 'Seite 17.
    Absatz 2')."""
    before, after = m.string[: m.start()], m.string[m.end() :]
    nxt = re.match(r"[ \t]+([^\W\d_]+)", after)
    introduced = before.rstrip(" \t")[-1:] in ("", "\n") or _last_word(before) in _ARTICLES
    if nxt:
        word = nxt.group(1)
        ordinal = word[0].islower() or word in lx.GERMAN_MONTHS or (introduced and word not in _SENTENCE_STARTS)
    else:
        ordinal = introduced
    if not ordinal:
        return None
    return inflect(ordinal_stem(int(m.group(1))), before)


def _suffix_ordinal(m: re.Match[str], lang: str) -> str:
    """'3ter', '121tem', '2te', '20sten': the ordinal with the written ending."""
    return ordinal_stem(int(m.group(1))) + m.group(2)


def cardinal(n: int) -> str:
    return sy.n2w(n, "de")


def before_noun(words: str) -> str:
    """'eins' → 'ein' before a noun ('ein Cent', 'hundertein Euro')."""
    return words[:-1] if words.endswith("eins") else words


def decimal(sign: str, whole: str, frac: str) -> str:
    """'-60', '2400' → 'minus sechzig Komma zwei vier null null': every digit after the comma, zeros included."""
    value = cardinal(int(whole.replace(".", "")))
    head = f"minus {value}" if sign else value
    return f"{head} Komma {sy.say_digits(frac, 'de')}" if frac else head


def fraction(num: int, den: int) -> str:
    """'ein halb', 'vier halbe', 'ein Drittel', 'drei zwanzigstel', 'ein einhundertstel'."""
    head = "ein" if num == 1 else cardinal(num)
    if den == 2:
        return f"{head} {'halb' if num == 1 else 'halbe'}"
    return f"{head} {ordinal_stem(den)[:-1]}el"


_AMOUNT = r"([-−]?)(?:(\d{1,9}) )?(\d{1,9})/(\d{1,9})|([-−]?)(\d{1,3}(?:\.\d{3})+|\d{1,15})(?:,(\d{1,15}))?"
"""A fraction (groups 1-4: sign, whole, numerator, denominator) or a number (5-7: sign, whole, decimals)."""


def amount(m: re.Match[str], at: int = 1) -> tuple[str, bool] | None:
    """The amount matched by `_AMOUNT` (groups from `at`) in words, and whether it is exactly one."""
    g: list[str] = [group or "" for group in [*m.groups(), *[None] * 7][at - 1 : at + 6]]
    if g[3]:
        num, den = int(g[2]), int(g[3])
        if den == 0:
            return None
        spoken = fraction(num, den)
        if g[1]:
            spoken = f"{before_noun(cardinal(int(g[1])))} {spoken}"
        return (f"minus {spoken}" if g[0] else spoken), False
    spoken = decimal(g[4], g[5], g[6])
    return spoken, spoken == "eins"


def _fraction(m: re.Match[str], lang: str) -> str | None:
    """A fraction when it is a part ('1/20', '3/4'), a mixed number ('1 1/2') or has a small denominator
    ('4/2' vier halbe); '24/7' and '50/50' are left to the number rules."""
    num, den = int(m.group(3)), int(m.group(4))
    if not (m.group(2) or num < den or den <= 4):
        return None
    said = amount(m)
    return None if said is None else said[0]


def _decimal(m: re.Match[str], lang: str) -> str:
    return decimal(m.group(1), m.group(2), m.group(3))


UNITS: dict[str, tuple[str, str]] = {
    **{u: (str(tb.unit_name("de", u, True)), str(tb.unit_name("de", u, False))) for u in tb.unit_symbols("de")},
    "km²": ("Quadratkilometer", "Quadratkilometer"),
    "m²": ("Quadratmeter", "Quadratmeter"),
    "cm²": ("Quadratzentimeter", "Quadratzentimeter"),
    "m³": ("Kubikmeter", "Kubikmeter"),
    "cm³": ("Kubikzentimeter", "Kubikzentimeter"),
    "kwh": ("Kilowattstunde", "Kilowattstunden"),
    "kWh": ("Kilowattstunde", "Kilowattstunden"),
    "kW": ("Kilowatt", "Kilowatt"),
    "mv": ("Millivolt", "Millivolt"),
    "mV": ("Millivolt", "Millivolt"),
    "V": ("Volt", "Volt"),
    "W": ("Watt", "Watt"),
    "μm": ("Mikrometer", "Mikrometer"),
    "µm": ("Mikrometer", "Mikrometer"),
    "ft": ("Fuß", "Fuß"),
    "mi": ("Meile", "Meilen"),
    "t": ("Tonne", "Tonnen"),
    "ha": ("Hektar", "Hektar"),
    "Hz": ("Hertz", "Hertz"),
    "kHz": ("Kilohertz", "Kilohertz"),
    "MHz": ("Megahertz", "Megahertz"),
    "GHz": ("Gigahertz", "Gigahertz"),
    "ms": ("Millisekunde", "Millisekunden"),
    "sek": ("Sekunde", "Sekunden"),
    "std": ("Stunde", "Stunden"),
    "MB": ("Megabyte", "Megabyte"),
    "GB": ("Gigabyte", "Gigabyte"),
}
"""German unit names: the shared table's (tables.unit_name) and the areas, volumes and electrical units."""
_FEMININE = frozenset({"Stunde", "Minute", "Sekunde", "Meile", "Tonne", "Kilowattstunde", "Millisekunde"})
_UNIT_NAMES = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_SCALES = {"million": ("Million", "Millionen"), "millionen": ("Million", "Millionen"), "mio": ("Million", "Millionen")}
_SCALES |= {"milliarde": ("Milliarde", "Milliarden"), "milliarden": ("Milliarde", "Milliarden")}
_SCALES |= {"mrd": ("Milliarde", "Milliarden"), "tausend": ("tausend", "tausend")}
_SCALE_NAMES = "|".join(sorted(_SCALES, key=len, reverse=True))


def _scaled(spoken: str, one: bool, scale: str | None) -> str:
    """'eins', 'million' → 'eine Million'; 'zwei', 'millionen' → 'zwei Millionen'."""
    if not scale:
        return spoken
    singular, plural = _SCALES[scale.lower().rstrip(".")]
    if one and singular != "tausend":
        return f"eine {singular}"
    return f"{spoken} {singular if one else plural}"


def _measure(m: re.Match[str], lang: str) -> str | None:
    """'2 m³' zwei Kubikmeter, '56,3 /km²' ... pro Quadratkilometer, '1 h' eine Stunde, '90 millionen g'."""
    said = amount(m)
    if said is None:
        return None
    spoken, one = said
    per, unit = m.group(9), m.group(10)
    name = UNITS[unit][0 if one and not m.group(8) else 1]
    head = _scaled(spoken, one, m.group(8))
    if one and not m.group(8):
        head = "eine" if name in _FEMININE else "ein"
    return f"{head} {'pro ' if per else ''}{name}"


_SYMBOL = r"[$€£¥]"
_GROUPED = r"(\d{1,3}(?:\.\d{3})+|\d{1,15})"


def _money(m: re.Match[str], lang: str) -> str | None:
    """'€0,01' ein Cent, '$2,20' zwei Dollar zwanzig Cent, '€2,200 millionen' zwei Komma zwei null null
    Millionen Euro, '$2,0001' zwei Komma null null null eins Dollar."""
    first = m.group(1) is not None
    at = 2 if first else 6
    sign, whole, frac, scale = (m.group(at + i) for i in range(4))
    code = tb.CURRENCY_SYMBOLS[m.group(1) if first else m.group(10)]
    frac, minus = frac or "", "minus " if sign else ""
    if scale:
        spoken = _scaled(decimal("", whole, frac), not frac and whole == "1", scale)
        return f"{minus}{spoken} {tb.currency_name('de', code, True)}"
    cents_text = frac.rstrip("0")
    if len(cents_text) > 2:  # '$2,0001': a unit price, said with its decimals (trailing zeros dropped)
        return f"{decimal(sign, whole, cents_text)} {tb.currency_name('de', code, True)}"
    units, cents = int(whole.replace(".", "")), int((cents_text + "00")[:2])
    minor = tb.currency_minor("de", code, plural=cents != 1)
    parts = (
        [] if units == 0 and cents else [f"{before_noun(cardinal(units))} {tb.currency_name('de', code, units != 1)}"]
    )
    if cents and minor:
        parts.append(f"{before_noun(cardinal(cents))} {minor}")
    return minus + " ".join(parts)


def _uhr(m: re.Match[str], lang: str) -> str | None:
    """'14:30 Uhr' vierzehn Uhr dreißig, '2.30 Uhr', '24:00 Uhr' vierundzwanzig Uhr, '02:02:23 Uhr' zwei Uhr zwei
    Minuten dreiundzwanzig Sekunden."""
    hour, minute = int(m.group(1)), int(m.group(2))
    if hour == 24 and minute:
        return None if m.group(3) else f"vierundzwanzig Uhr {cardinal(minute)}"
    said = f"{before_noun(cardinal(hour))} Uhr"
    if m.group(3) is not None:
        second = int(m.group(3))

        def count(n: int, unit: str) -> str:
            return f"{'eine' if n == 1 else cardinal(n)} {unit}{'' if n == 1 else 'n'}"

        return f"{said} {count(minute, 'Minute')} {count(second, 'Sekunde')}"
    return f"{said} {cardinal(minute)}" if minute else said


def _phone(m: re.Match[str], lang: str) -> str:
    """'(0411) 1234-1234' digit by digit; '+49 1234-1234' with the country code as a number (plus
    neunundvierzig)."""
    rest = m.group(2) if m.re.groups else m.group(0)
    groups = ", ".join(sy.say_digits(g, "de") for g in re.findall(r"\d+", rest))  # a pause between groups
    return f"plus {cardinal(int(m.group(1)))}, {groups}" if m.re.groups else groups


_MONTH_ABBREVIATIONS = {m[:3].lower(): m for m in lx.GERMAN_MONTHS} | {"sept": "September", "mrz": "März"}


def _abbreviated_month(m: re.Match[str], lang: str) -> str | None:
    """'2. Mär. 2003' → 'zweiter März zweitausenddrei'."""
    month = _MONTH_ABBREVIATIONS.get(m.group(2).lower())
    if month is None or not 1 <= int(m.group(1)) <= 31:
        return None
    day = inflect(ordinal_stem(int(m.group(1))), m.string[: m.start()])
    return f"{day} {month} {sy.say_year(int(m.group(3)), 'de')}" if m.group(3) else f"{day} {month}"


def _day_month(m: re.Match[str], lang: str) -> str | None:
    """'am 3.10.' → 'am dritten Oktober' (a day and month with both dots; a final full stop is kept); a one-digit
    month needs a preposition or article before it ('am 2.3.'), else it is a section number ('Kapitel 2.3.')."""
    day, month = int(m.group(1)), int(m.group(2))
    introduced = len(m.group(2)) == 2 or _last_word(m.string[: m.start()]) in _ARTICLES | _DATIVE_OR_ACCUSATIVE
    if not (1 <= day <= 31 and 1 <= month <= 12 and introduced):
        return None
    said = f"{inflect(ordinal_stem(day), m.string[: m.start()])} {lx.month('de', month)}"
    return said + "." if not m.string[m.end() :].strip() else said


def _glued_letters(m: re.Match[str], lang: str) -> str:
    """'3D-Drucker' → 'drei-D-Drucker': a digit glued to a capital before a hyphen."""
    return f"{cardinal(int(m.group(1)))}-{m.group(2)}"


RULES: list[tuple[str, str, Reader]] = [
    ("date", r"(?<![\w.,])(\d{1,2})\.(\d{1,2})\.(?![\w.,])", _day_month),
    ("date", r"(?<![\w.,])(\d{1,2})\. ([A-Za-zä]{3,4})\.(?: (\d{4})\b)?", _abbreviated_month),
    ("telephone", r"(?<![\w+])\+(\d{2})[ ]((?:\d{2,5}[ -]?){1,4}\d{2,5})(?!\w|[.,-]\d)", _phone),
    ("telephone", r"(?<![\w(])\(0\d{2,5}\)[ ]?\d{2,5}(?:[ -]\d{2,5}){0,3}(?!\w|[.,-]\d)", _phone),
    ("time", r"(?<![\d.:,])([01]?\d|2[0-4])[:.]([0-5]\d)(?::([0-5]\d))?[ ]?Uhr\b", _uhr),
    (
        "money",
        rf"(?<![\w.,])(?:({_SYMBOL})[ ]?([-−]?){_GROUPED}(?:,(\d{{1,9}}))?(?:[ ]((?i:{_SCALE_NAMES}))\b)?"
        rf"|([-−]?){_GROUPED}(?:,(\d{{1,9}}))?(?:[ ]((?i:{_SCALE_NAMES}))\.?)?[ ]?({_SYMBOL}))",
        _money,
    ),
    (
        "unit",
        rf"(?<![\w/.,])(?:{_AMOUNT})(?:[ ]({_SCALE_NAMES}))?[ ]?(/)?[ ]?({_UNIT_NAMES})(?![\w/²³])",
        _measure,
    ),
    ("fraction", r"(?<![\w/.,])([-−]?)(?:(\d{1,9}) )?(\d{1,9})/(\d{1,9})(?![\w/]|[.,]\d)", _fraction),
    (  # not before '%' or a range dash: the shared percent and range rules read those
        "number",
        r"(?<![\w.,])([-−]?)(\d{1,3}(?:\.\d{3})+|\d{1,15}),(\d{1,15})(?![\w,%‰]|\.\d|[ ][%‰]|[ ]?[-–][ ]?\d)",
        _decimal,
    ),
    ("ordinal", r"(?<![\w.,])(\d{1,9})\.(?![\w.,])", _dot_ordinal),
    ("ordinal", r"(?<![\w.,])(\d{1,9})(?:s?te)([rnms]?)\b", _suffix_ordinal),
    ("number", r"(?<![\w.,])(\d)([A-Z])(?=-\w)", _glued_letters),
]
"""German rules, tried before the shared ones (rules.rules_for)."""
