"""Spanish rules the shared ones lack: thousands grouped with dots ('1.000.000' un millón), fractions ('1/20' un
veinteavo, '1/1000' un milésimo), amounts in any currency written by symbol or code ('21 nio' veintiuna córdobas,
'€2 billones' dos billones de euros) and dates with a month name ('abril 30' treinta de abril)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from tts_predictor.text import spanish, spanish_dates
from tts_predictor.text import tables as tb
from tts_predictor.text import verbalize as sy

Reader = Callable[[re.Match[str], str], "str | None"]


def cardinal(n: int) -> str:
    return sy.n2w(n, "es")


def _plain(words: str) -> str:
    """Accents dropped: 'dieciséis' → 'dieciseis' (the -avo forms are written without them)."""
    return "".join(ch for ch in unicodedata.normalize("NFD", words) if not unicodedata.combining(ch))


def denominator(den: int) -> str | None:
    """The partitive of `den` (singular): 'tercio', 'onceavo', 'treintaiunavo', 'ducentésimo', 'dosmilésimo',
    'mildoscientosmillonésimo'; None when Spanish says 'sobre' ('1/101' uno sobre ciento uno)."""
    if den in tb._ES_DEN:
        return tb._ES_DEN[den]
    if 10 < den < 100:
        words = _plain(cardinal(den)).replace(" y ", "i")
        words = words[:-1] if words.endswith("uno") else words
        return (words[:-1] if words.endswith("a") else words) + "avo"
    if den < 1000 and den % 100 == 0:
        return spanish.ordinal(den, "º")
    for scale, name in ((10**6, "millonésimo"), (1000, "milésimo")):
        if den >= scale and den % scale == 0:
            k = den // scale
            return ("" if k == 1 else cardinal(k).replace(" ", "")) + name
    return None


def fraction(num: int, den: int) -> str:
    """'un medio', 'dos quintos', 'un veinteavo', 'uno sobre ciento uno'."""
    name = denominator(den)
    if name is None:
        return f"{cardinal(num)} sobre {cardinal(den)}"
    return f"{'un' if num == 1 else cardinal(num)} {name}{'' if num == 1 else 's'}"


_VULGAR = {"⅐": (1, 7), "⅑": (1, 9), "⅒": (1, 10), "⅖": (2, 5), "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6)}


def _fraction(m: re.Match[str], lang: str) -> str | None:
    """A part ('1/20'), a mixed number ('3 2/100' tres y dos centésimos) or a small denominator ('3/2' tres
    medios); '24/7' and '50/50' are left to the number rules."""
    num, den = int(m.group(3)), int(m.group(4).replace(".", ""))
    if den == 0 or not (m.group(2) or num < den or den <= 4):
        return None
    said = "medio" if (num, den) == (1, 2) else fraction(num, den)  # 'medio', 'uno y medio'
    if m.group(2):
        said = f"{cardinal(int(m.group(2)))} y {said}"
    return f"menos {said}" if m.group(1) else said


def _vulgar(m: re.Match[str], lang: str) -> str:
    return fraction(*_VULGAR[m.group(0)])


def _dotted_ordinal(m: re.Match[str], lang: str) -> str:
    """'1.er premio' primer, '3.er' tercer: the abbreviation with a dot and plain letters."""
    return spanish.ordinal(int(m.group(1)), "ᵉʳ")


def _grouped(m: re.Match[str], lang: str) -> str | None:
    """'1.000.000' / '1 034 068' / '5.002,132': thousands grouped with dots (the shared rules read dotted
    groups as versions)."""
    value = sy.number(m.group(0), lang)
    return sy.words_for(value, lang)


CURRENCIES: dict[str, tuple[str, str, str]] = {
    "usd": ("dólar estadounidense", "dólares estadounidenses", "USD"),
    "us$": ("dólar estadounidense", "dólares estadounidenses", "USD"),
    "$": ("dólar", "dólares", "USD"),
    "€": ("euro", "euros", "EUR"),
    "eur": ("euro", "euros", "EUR"),
    "£": ("libra", "libras", "GBP"),
    "gbp": ("libra esterlina", "libras esterlinas", "GBP"),
    "¥": ("yen", "yenes", "JPY"),
    "jpy": ("yen", "yenes", "JPY"),
    "₩": ("won", "wones", "KRW"),
    "krw": ("won", "wones", "KRW"),
    "₡": ("colón", "colones", "CRC"),
    "crc": ("colón costarricense", "colones costarricenses", "CRC"),
    "₧": ("peseta", "pesetas", "ESP"),
    "ptas": ("peseta", "pesetas", "ESP"),
    "chf": ("franco suizo", "francos suizos", "CHF"),
    "fr": ("franco", "francos", "CHF"),
    "rs": ("rupia", "rupias", "INR"),
    "inr": ("rupia india", "rupias indias", "INR"),
    "kr": ("corona", "coronas", "SEK"),
    "mk": ("marco", "marcos", "DEM"),
    "nio": ("córdoba", "córdobas", "NIO"),
    "pab": ("balboa", "balboas", "PAB"),
    "ttd": ("dólar de trinidad y tobago", "dólares de trinidad y tobago", "TTD"),
    "hkd": ("dólar de hong kong", "dólares de hong kong", "HKD"),
    "bop": ("peso boliviano", "pesos bolivianos", "BOP"),
    "hnl": ("lempira", "lempiras", "HNL"),
    "gtq": ("quetzal", "quetzales", "GTQ"),
    "q": ("quetzal", "quetzales", "GTQ"),
    "awg": ("florín arubeño", "florines arubeños", "AWG"),
    "r$": ("real", "reales", "BRL"),
    "brl": ("real brasileño", "reales brasileños", "BRL"),
    "mex$": ("peso mexicano", "pesos mexicanos", "MXN"),
    "mxn": ("peso mexicano", "pesos mexicanos", "MXN"),
    "ars": ("peso argentino", "pesos argentinos", "ARS"),
    "clp": ("peso chileno", "pesos chilenos", "CLP"),
    "cop": ("peso colombiano", "pesos colombianos", "COP"),
    "pen": ("sol", "soles", "PEN"),
}
"""Currency symbols and ISO codes (any case) → singular, plural, code. Codes and letter symbols are read only
next to an amount ('21 nio', 'usd 2', 'q50,10')."""
_MINOR = {"EUR": ("céntimo", "céntimos"), "GBP": ("penique", "peniques"), "ESP": ("céntimo", "céntimos")}
"""Minor units; every other currency says 'centavo' ('¥12,05' doce yenes cinco centavos, as NeMo reads it)."""
_SCALES = ("mil millones", "millones", "billones", "millón", "billón", "mil")
"""Scale words after an amount, longest first; all but 'mil' are nouns that take 'de' ('dos millones de euros')."""
_SYMBOLS = "|".join(re.escape(s) for s in sorted(CURRENCIES, key=len, reverse=True))
_NUMBER = r"(\d{1,3}(?:\.\d{3})+|\d{1,15})(?:,(\d{1,9}))?"


def _money(m: re.Match[str], lang: str) -> str | None:
    """'$1,50' un dólar con cincuenta centavos, '0,55 $' cincuenta y cinco centavos, 'nio21,1 millones'
    veintiuno coma uno millones de córdobas, '£200.000.001' doscientos millones una libras."""
    first = m.group(1) is not None
    symbol, whole, frac, scale = (m.group(i) for i in ((1, 2, 3, 4) if first else (8, 5, 6, 7)))
    singular, plural, code = CURRENCIES[symbol.lower()]
    if scale:
        amount = sy.words_for(sy.number(whole + (f",{frac}" if frac else ""), lang), lang)
        if scale in ("mil", "mil millones"):  # 'tres mil euros', 'mil millones de euros' (no 'un' before 'mil')
            lead = "" if amount == "uno" else spanish.agree(amount, "millones") + " "
            return f"{lead}{scale} {'de ' if scale != 'mil' else ''}{plural}"
        one = amount == "uno" and scale in ("millón", "billón")
        return f"{'un' if one else spanish.agree(amount, scale)} {scale} de {plural}"
    units = int(whole.replace(".", ""))
    frac = (frac or "").rstrip("0")
    if len(frac) > 2:  # a unit price: said with its decimals
        return f"{sy.words_for(sy.number(f'{whole},{frac}', lang), lang)} {plural}"
    cents = int((frac + "00")[:2])
    minor = _MINOR.get(code, ("centavo", "centavos"))[cents != 1]
    name = singular if units == 1 else plural
    head = f"{spanish.agree(cardinal(units), name)} {name}"
    tail = f"{spanish.agree(cardinal(cents), minor)} {minor}"
    if not cents:
        return head
    return tail if units == 0 else f"{head} con {tail}"


def _scale_noun(m: re.Match[str], lang: str) -> str:
    """'1 millón' un millón, '3.001 millones' tres mil un millones: the number agrees with the noun."""
    return f"{spanish.agree(sy.words_for(sy.number(m.group(1), lang), lang), 'millones')} {m.group(2)}"


UNITS: dict[str, tuple[str, str]] = {
    **{u: (str(tb.unit_name("es", u, True)), str(tb.unit_name("es", u, False))) for u in tb.unit_symbols("es")},
    "mph": ("milla por hora", "millas por hora"),
    "kph": ("kilómetro por hora", "kilómetros por hora"),
    "m²": ("metro cuadrado", "metros cuadrados"),
    "km²": ("kilómetro cuadrado", "kilómetros cuadrados"),
    "cm²": ("centímetro cuadrado", "centímetros cuadrados"),
    "m³": ("metro cúbico", "metros cúbicos"),
    "cm³": ("centímetro cúbico", "centímetros cúbicos"),
    "° C": ("grado centígrado", "grados centígrados"),
    "° c": ("grado centígrado", "grados centígrados"),
    "°c": ("grado centígrado", "grados centígrados"),
    "° k": ("grado kelvin", "grados kelvin"),
    "°k": ("grado kelvin", "grados kelvin"),
    "mi": ("milla", "millas"),
    "ft": ("pie", "pies"),
    "lb": ("libra", "libras"),
    "t": ("tonelada", "toneladas"),
    "ha": ("hectárea", "hectáreas"),
}
"""Spanish unit names: the shared table's and the speeds, areas, volumes and temperatures written in lower case."""
_UNIT_NAMES = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))


def feminine(words: str) -> str:
    """'doscientos cuarenta y uno' → 'doscientas cuarenta y una' (hundreds and ones agree; not what counts
    millions: 'doscientos millones una')."""
    head, scale, tail = words.rpartition("millones ") if "millones " in words else ("", "", words)
    tail = " ".join(
        w.replace("ientos", "ientas") if w.endswith("ientos") else w[:-1] + "a" if w in ("uno", "veintiuno") else w
        for w in tail.split()
    )
    return f"{head}{scale}{tail}".replace(" un ", " una ")


def _measure(m: re.Match[str], lang: str) -> str | None:
    """'245 mph' doscientas cuarenta y cinco millas por hora, '3/5 mph' tres quintos de milla por hora, '1 1/2 m'
    uno y medio metro, '1/2 mm' medio milímetro, '4,51/s' ... por segundo."""
    sign, whole, num, den, number, per, unit = m.groups()
    singular, plural = UNITS[unit]
    noun = singular.split()[0]
    fem = noun in spanish.FEMININE_NOUNS or noun.endswith("a")
    minus = "menos " if sign else ""
    if per:
        rate = sy.words_for(sy.number(number, lang), lang) if number else ""
        return f"{minus}{rate} por {singular}".strip()
    if den is not None:
        if int(den) == 0:
            return None
        half = int(num) == 1 and int(den) == 2
        part = ("media" if fem else "medio") if half else fraction(int(num), int(den))
        if whole:
            lead = cardinal(int(whole))
            part = f"{feminine(lead) if fem else lead} y {part}"
            part = part.replace(" y un medio", " y medio")
        return f"{minus}{part} {singular}" if half else f"{minus}{part} de {singular}"
    value = sy.number(number, lang)
    words = sy.words_for(value, lang)
    words = feminine(words) if fem else spanish.agree(words, singular)
    return f"{minus}{words} {singular if value == 1 else plural}"


RULES: list[tuple[str, str, Reader]] = [
    *spanish_dates.RULES,
    (
        "money",
        rf"(?<![\w.,$])(?:((?i:{_SYMBOLS}))[ ]?{_NUMBER}(?:[ ]({'|'.join(_SCALES)})\b)?"
        rf"|{_NUMBER}(?:[ ]({'|'.join(_SCALES)}))?[ ]?((?i:{_SYMBOLS})))(?![\w$])",
        _money,
    ),
    (
        "unit",
        r"(?<![\w/.,])([-−]?)(?:(?:(\d{1,9}) )?(\d{1,3})/(\d{1,3})"
        r"|(\d{1,3}(?:\.\d{3})+(?:,\d{1,9})?|\d{1,12}(?:,\d{1,9})?))"
        rf"[ ]?(/)?({_UNIT_NAMES})(?![\w/²³])",
        _measure,
    ),
    (
        "fraction",
        r"(?<![\w/.,])([-−]?)(?:(\d{1,9}) )?(\d{1,9})/(\d{1,3}(?:\.\d{3})+|\d{1,12})(?![\w/]|[.,]\d)",
        _fraction,
    ),
    ("fraction", "[" + "".join(_VULGAR) + "]", _vulgar),
    ("ordinal", r"(?<![\w.,])(\d{1,4})\.er\b", _dotted_ordinal),
    (
        "number",
        r"(?<![\w.,])(\d{1,3}(?:\.\d{3})+(?:,\d{1,15})?|\d{1,15}(?:,\d{1,15})?)[ ](millón|millones|billón|billones)\b",
        _scale_noun,
    ),
    ("number", r"(?<![\w.,])\d{1,3}(?:\.\d{3})+(?:,\d{1,15})?(?![\w.]|,\d)", _grouped),
]
"""Spanish rules, tried before the shared ones (rules.rules_for)."""
