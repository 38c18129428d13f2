"""Spanish and French readings (spanish_rules.py, french.py, decimal_digits.py), each with the case that must not
change."""

from __future__ import annotations

import pytest

from tts_predictor.text.normalize import normalize_text


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1.000.000", "un millón"),
        ("1 034 068", "un millón treinta y cuatro mil sesenta y ocho"),
        ("33,32", "treinta y tres coma treinta y dos"),
        ("3,1415", "tres coma catorce quince"),
        ("3,05", "tres coma cero cinco"),
        ("1 millón", "un millón"),
        ("3.001 millones", "tres mil un millones"),
    ],
)
def test_spanish_numbers(text: str, spoken: str) -> None:
    """Dotted and spaced thousands; decimals read as one number up to three digits, then in pairs."""
    assert normalize_text(text, "es") == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("123.123.0.40", "ciento veintitrés punto ciento veintitrés punto cero punto cuarenta"),
        ("+1 123-123-5678", "más uno, uno dos tres, uno dos tres, cinco seis siete ocho"),
    ],
)
def test_spanish_dotted_and_spaced_runs_that_are_no_thousands(text: str, spoken: str) -> None:
    """Counter-examples: an IP address (groups not of three) and a phone number after '+' keep their readings."""
    assert normalize_text(text, "es") == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1/20", "un veinteavo"),
        ("1/31", "un treintaiunavo"),
        ("2/100", "dos centésimos"),
        ("1/2000", "un dosmilésimo"),
        ("1/101", "uno sobre ciento uno"),
        ("-2 1/3", "menos dos y un tercio"),
        ("3/2", "tres medios"),
        ("⅖", "dos quintos"),
    ],
)
def test_spanish_fractions(text: str, spoken: str) -> None:
    """-avo partitives below 100, ordinals for round hundreds and thousands, 'sobre' otherwise."""
    assert normalize_text(text, "es") == spoken


def test_spanish_ratio_is_no_fraction() -> None:
    """Counter-example: '24/7' is two numbers."""
    assert "avo" not in normalize_text("24/7", "es")


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("21 nio", "veintiuna córdobas"),
        ("usd 2", "dos dólares estadounidenses"),
        ("€2 billones", "dos billones de euros"),
        ("$1,50", "un dólar con cincuenta centavos"),
        ("0,55 $", "cincuenta y cinco centavos"),
        ("£200.000.001", "doscientos millones una libras"),
        ("mex$100", "cien pesos mexicanos"),
        ("1 ₧", "una peseta"),
    ],
)
def test_spanish_amounts(text: str, spoken: str) -> None:
    """Currencies by symbol or code (any case, before or after), with gender agreement."""
    assert normalize_text(text, "es") == spoken


def test_a_currency_code_needs_an_amount() -> None:
    """Counter-example: 'fr' and 'usd' as plain words, away from a number, are left alone."""
    assert normalize_text("el código usd y el fr", "es") == "el código usd y el fr"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1 enero", "primero de enero"),
        ("abril 30", "treinta de abril"),
        ("10 mayo 1990", "diez de mayo de mil novecientos noventa"),
        ("30 julio del 2020", "treinta de julio del dos mil veinte"),
        ("abr. 22", "veintidós de abril"),
        ("vier. 10 de mayo", "viernes diez de mayo"),
        ("10.000 a. C.", "diez mil antes de Cristo"),
        ("13.ª", "decimotercera"),
        ("el dr.", "el doctor."),
        ("ee. uu.", "Estados Unidos."),
    ],
)
def test_spanish_dates_ordinals_and_abbreviations(text: str, spoken: str) -> None:
    """Month-name dates, abbreviated weekdays and eras, fused ordinals, lower-case abbreviations."""
    assert normalize_text(text, "es") == spoken


def test_a_month_word_after_a_time_is_no_date() -> None:
    """Counter-example: 'mayo 10:30' is not 'diez de mayo' followed by ':30'."""
    assert "diez de mayo" not in normalize_text("mayo 10:30", "es")


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("818,303", "huit cent dix-huit virgule trois cent trois"),
        ("24,1313", "vingt-quatre virgule treize treize"),
        ("les 17/18 juin", "les dix-sept et dix-huit juin"),
        ("les 17-18-19 juin", "les dix-sept, dix-huit et dix-neuf juin"),
        ("17.06", "dix-sept juin"),
        ("1ère", "première"),
        ("1 000 000 000e", "un milliardième"),
        ("1 1/2", "un et demi"),
        ("Mᵐᵉ Dupont", "madame Dupont"),
    ],
)
def test_french_readings(text: str, spoken: str) -> None:
    """Grouped decimals, day lists, dotted day.month, ordinals, 'et demi', superscript titles."""
    assert normalize_text(text, "fr") == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("3.14", "trois virgule quatorze"),
        ("17.13", "dix-sept virgule treize"),
        ("les 17-18 ans", "les dix-sept à dix-huit ans"),
    ],
)
def test_french_dotted_numbers_that_are_no_dates(text: str, spoken: str) -> None:
    """Counter-examples: '3.14' (one-digit day) and '17.13' (no 13th month) are no dates; a range before a
    noun that is no month stays a range."""
    assert normalize_text(text, "fr") == spoken
