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
        ("1 1/2", "uno y medio"),
        ("1/2", "medio"),
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


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("245 mph", "doscientas cuarenta y cinco millas por hora"),
        ("1,01 mph", "una coma cero una millas por hora"),
        ("3/5 mph", "tres quintos de milla por hora"),
        ("1 1/2 mph", "una y media milla por hora"),
        ("1 1/2 m", "uno y medio metro"),
        ("1/2 mm", "medio milímetro"),
        ("9 m³", "nueve metros cúbicos"),
        ("4,51/s", "cuatro coma cincuenta y uno por segundo"),
        ("-8° c", "menos ocho grados centígrados"),
        ("1 h", "una hora"),
    ],
)
def test_spanish_measures(text: str, spoken: str) -> None:
    """Units with gender agreement ('doscientas ... millas', 'una hora'), fractions of a unit ('de milla')."""
    assert normalize_text(text, "es") == spoken


def test_an_upper_case_letter_after_a_number_is_no_unit() -> None:
    """Counter-example: units are matched in their own case: '5 G' (a network) is no 'cinco gramos'."""
    assert "gramos" not in normalize_text("la red 5 G", "es")


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("24:50", "veinticuatro y cincuenta"),
        ("3:02:32 pst", "tres horas dos minutos y treinta y dos segundos p s t"),
        ("12:00:00 gmt", "doce g m t"),
        ("2:00 pm gmt-4:30", "dos de la tarde g m t menos cuatro treinta"),
        ("3:00 utc +1", "tres u t c más uno"),
        ("10 h utc+1:30", "diez u t c más una treinta"),
        ("12h02m00s", "doce y dos"),
    ],
)
def test_spanish_clock_times(text: str, spoken: str) -> None:
    """Clock times with seconds, 24:xx, and a time zone spelled with its offset said."""
    assert normalize_text(text, "es") == spoken


def test_hours_without_a_zone_stay_a_duration() -> None:
    """Counter-example: '10 h' alone is ten hours, not the clock time ten."""
    assert normalize_text("10 h", "es") == "diez horas"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("+54 911 1234-5678", "más cincuenta y cuatro, nueve uno uno, uno dos tres cuatro, cinco seis siete ocho"),
        ("+593 123-123-5678", "más cinco nueve tres, uno dos tres, uno dos tres, cinco seis siete ocho"),
        (
            "+58 (123) 123-5678 ext. 12",
            "más cincuenta y ocho, uno dos tres, uno dos tres, cinco seis siete ocho, extensión uno dos",
        ),
        ("123-456-789", "uno dos tres cuatro cinco seis siete ocho nueve"),
    ],
)
def test_spanish_phone_numbers(text: str, spoken: str) -> None:
    """Country codes of one or two digits said as a number, the rest digit by digit, 'ext.' as 'extensión'."""
    assert normalize_text(text, "es") == spoken


def test_a_year_range_is_no_phone_number() -> None:
    """Counter-example: two four-digit groups ('1990-2000') stay a range."""
    assert normalize_text("1990-2000", "es") == "mil novecientos noventa a dos mil"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("€3 mil", "tres mil euros"),
        ("€3 mil millones", "tres mil millones de euros"),
        ("€1 millón", "un millón de euros"),
        ("€21 millones", "veintiún millones de euros"),
    ],
)
def test_spanish_amounts_with_a_scale(text: str, spoken: str) -> None:
    """'mil' takes no 'de' (tres mil euros); the noun scales do (un millón de euros)."""
    assert normalize_text(text, "es") == spoken


@pytest.mark.parametrize(
    ("text", "lang", "spoken"),
    [
        ("Llámame al 912 345 678.", "es", "Llámame al nueve uno dos, tres cuatro cinco, seis siete ocho."),
        ("Tiene 1 034 068 habitantes.", "es", "Tiene un millón treinta y cuatro mil sesenta y ocho habitantes."),
        ("Ganó el 1.er premio.", "es", "Ganó el primer premio."),
        ("La reunión es a las 10:30 h.", "es", "La reunión es a las diez y media."),
        ("Rendez-vous à 14h30.", "fr", "Rendez-vous à quatorze heures trente."),
        ("à 1h05", "fr", "à une heure cinq"),
        ("21h", "fr", "vingt et une heures"),
    ],
)
def test_phone_numbers_and_times_in_running_text(text: str, lang: str, spoken: str) -> None:
    """A Spanish nine-digit phone number in groups is no spaced thousand (but '1 034 068' is); '1.er'; 'h' after
    a clock time; French '14h30'."""
    assert normalize_text(text, lang) == spoken
