"""Text normalization golden tests (en, fr, de, es) and say-as helpers."""

from __future__ import annotations

import pytest

from tts_predictor.text.normalize import (
    normalize_text, num2words_lang, say_cardinal, say_characters, say_currency, say_date, say_digits, say_ordinal,
    say_telephone, say_time,
)

GOLDEN = [
    ("en", "I have 1,234 apples and -5 pears.", "I have one thousand two hundred and thirty-four apples and minus five pears."),
    ("en", "It costs $3.50, or €2 or £1.", "It costs three dollars and fifty cents, or two euros or one pound."),
    ("en", "He finished 21st and 3rd.", "He finished twenty-first and third."),
    ("en", "Pi is 3.14 and 50% done.", "Pi is three point one four and fifty percent done."),
    ("en", "On 2024-03-05 and 3/5/2024.", "On March fifth, twenty twenty-four and March fifth, twenty twenty-four."),
    ("en", "Meet at 10:30, 10:05 or 7pm. Leave at 7:15 a.m. Then", "Meet at ten thirty, ten oh five or seven PM. Leave at seven fifteen AM. Then"),
    ("en", "Dr. Smith met Mr. Jones on St. Patrick's day, e.g. today vs. tomorrow, etc.",
     "Doctor Smith met Mister Jones on Saint Patrick's day, for example today versus tomorrow, et cetera."),
    ("en", "Walk 5 km, lift 1 kg at 20 °C.", "Walk five kilometers, lift one kilogram at twenty degrees Celsius."),
    ("en-US", "pages 3-5", "pages three to five"),
    ("fr", "Il a payé 3,50 € le 1er mars.", "Il a payé trois euros et cinquante centimes le premier mars."),
    ("fr-FR", "M. Dupont a 1 234 livres, 2e prix, 50 % à 10:30.",
     "Monsieur Dupont a mille deux cent trente-quatre livres, deuxième prix, cinquante pour cent à dix heures trente."),
    ("fr", "Le 2024-03-05, il fait 20 °C.", "Le cinq mars deux mille vingt-quatre, il fait vingt degrés Celsius."),
    ("de", "Am 3. Oktober um 10:30 Uhr kostet es 12,50 €.", "Am dritte Oktober um zehn Uhr dreißig kostet es zwölf Euro und fünfzig Cent."),
    ("de-DE", "Dr. Müller hat z. B. 1.234 Bücher und 3,5 kg.",
     "Doktor Müller hat zum Beispiel eintausendzweihundertvierunddreißig Bücher und drei Komma fünf Kilogramm."),
    ("de", "Ich habe 3. Dann 5.3.2024 usw.", "Ich habe drei. Dann fünfte März zweitausendvierundzwanzig und so weiter."),
    ("es", "El Sr. García pagó 3,50 € el 2024-03-05.", "El señor García pagó tres euros con cincuenta céntimos el cinco de marzo de dos mil veinticuatro."),
    ("es_ES", "Son 50 % y 21 km.", "Son cincuenta por ciento y veintiuno kilómetros."),
    ("pt_BR", "Tenho 2 gatos.", "Tenho dois gatos."),
]


@pytest.mark.parametrize(("lang", "text", "expected"), GOLDEN)
def test_golden(lang: str, text: str, expected: str) -> None:
    assert normalize_text(text, lang) == expected


def test_unknown_language_only_cleans_whitespace() -> None:
    assert normalize_text("  keep \n 1 2  3  ", "xx-YY") == "keep 1 2 3"
    assert normalize_text("", "en") == ""


@pytest.mark.parametrize(("code", "expected"), [("en-US", "en"), ("fr-fr", "fr"), ("pt_BR", "pt_BR"), ("de", "de"),
                                                ("es-MX", "es"), ("zz", None), ("", None)])
def test_language_codes(code: str, expected: str | None) -> None:
    assert num2words_lang(code) == expected


def test_say_as_helpers() -> None:
    assert say_cardinal("1,234") == "one thousand two hundred and thirty-four"
    assert say_cardinal("1.234,5", "de") == "eintausendzweihundertvierunddreißig Komma fünf"
    assert say_ordinal("21st") == "twenty-first" and say_ordinal("1er", "fr") == "premier"
    assert say_characters("AB1") == "A B one"
    assert say_digits("1990") == "one nine nine zero"
    assert say_date("1990-07-04", "ymd") == "July fourth, nineteen ninety"
    assert say_date("04/07", "dm", "fr") == "quatre juillet"
    assert say_date("2024", "y") == "twenty twenty-four"
    assert say_time("14:05", "de") == "vierzehn Uhr fünf"
    assert say_time("12am") == "twelve AM"
    assert say_telephone("+44 20 7946") == "plus four four, two zero, seven nine four six"
    assert say_currency("$1.00") == "one dollar"
    assert say_currency("EUR 2,50", "fr") == "deux euros et cinquante centimes"


@pytest.mark.parametrize(("fn", "args"), [
    (say_cardinal, ("abc",)), (say_ordinal, ("x",)), (say_date, ("13/45/2020", "mdy")), (say_date, ("2020", "qq")),
    (say_time, ("25:00",)), (say_time, ("noon",)), (say_telephone, ("none",)), (say_currency, ("3.50",)),
    (say_cardinal, ("1", "zz")),
])
def test_helpers_raise_value_error(fn, args) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        fn(*args)


def test_huge_numbers_do_not_crash() -> None:
    out = normalize_text("9" * 80, "en")
    assert "nine" in out
