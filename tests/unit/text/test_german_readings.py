"""German readings (tts_predictor/text/german.py): ordinals, fractions, decimals, measures, amounts, 'Uhr' times
and phone numbers, each with the case that must not change."""

from __future__ import annotations

import pytest

from tts_predictor.text.normalize import normalize_text


def de(text: str) -> str:
    """The German normalization of `text`."""
    return normalize_text(text, "de")


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("2.", "zweiter"),
        ("Der 3. Platz", "Der dritte Platz"),
        ("Zum 100. Geburtstag", "Zum einhundertsten Geburtstag"),
        ("am 3. Oktober", "am dritten Oktober"),
        ("Er wurde zum 3.", "Er wurde zum dritten"),
        ("Das 121tem", "Das einhunderteinundzwanzigstem"),
    ],
)
def test_dotted_numbers_read_as_ordinals_in_ordinal_context(text: str, spoken: str) -> None:
    """'3.' is an ordinal before a noun or lower-case word, after an article, or alone on its line."""
    assert de(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Er zählte bis 3.", "Er zählte bis drei."),
        ("Es waren 3. Dann ging er.", "Es waren drei. Dann ging er."),
        ("Wir sind 12. Die anderen kommen später.", "Wir sind zwölf. Die anderen kommen später."),
    ],
)
def test_a_full_stop_after_a_cardinal_stays_a_cardinal(text: str, spoken: str) -> None:
    """Counter-example: a sentence that ends on a number keeps the cardinal and its full stop."""
    assert de(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("1/20", "ein zwanzigstel"),
        ("2/9", "zwei neuntel"),
        ("4/2", "vier halbe"),
        ("1 1/2", "ein ein halb"),
        ("-1/22", "minus ein zweiundzwanzigstel"),
        ("1/100", "ein einhundertstel"),
    ],
)
def test_fractions(text: str, spoken: str) -> None:
    """Parts are read with the ordinal stem and -tel; a mixed number puts the whole in front ('eineinhalb')."""
    assert de(text) == spoken


def test_a_ratio_is_no_fraction() -> None:
    """Counter-example: '24/7' (numerator above a denominator over four) is two numbers."""
    assert de("24/7") == "vierundzwanzig sieben"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("-60,2400", "minus sechzig Komma zwei vier null null"),
        ("60,2400 kg", "sechzig Komma zwei vier null null Kilogramm"),
        ("56,3 /km²", "sechsundfünfzig Komma drei pro Quadratkilometer"),
        ("2 m³", "zwei Kubikmeter"),
        ("1 h", "eine Stunde"),
        ("1 mv", "ein Millivolt"),
        ("90 millionen g", "neunzig Millionen Gramm"),
        ("1 1/2 ft", "ein ein halb Fuß"),
    ],
)
def test_decimals_and_measures(text: str, spoken: str) -> None:
    """Decimals keep every digit after the comma; units get German names, 'ein'/'eine' by gender."""
    assert de(text) == spoken


def test_a_list_of_numbers_is_no_decimal() -> None:
    """Counter-example: '1,2,3' is a list, not 'eins Komma zwei'."""
    assert de("1,2,3") == "eins, zwei, drei"


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("€0,01", "ein Cent"),
        ("$2,20", "zwei Dollar zwanzig Cent"),
        ("£2,01", "zwei Pfund ein Penny"),
        ("€2,200 millionen", "zwei Komma zwei null null Millionen Euro"),
        ("€1 million", "eine Million Euro"),
        ("$2,0001", "zwei Komma null null null eins Dollar"),
        ("5 €", "fünf Euro"),
    ],
)
def test_amounts(text: str, spoken: str) -> None:
    """'ein Cent' (not 'eins'), cents without 'und', scales agree in number."""
    assert de(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("24:00 Uhr", "vierundzwanzig Uhr"),
        ("2.30 Uhr", "zwei Uhr dreißig"),
        ("01:00 Uhr", "ein Uhr"),
        ("02:02:23 Uhr", "zwei Uhr zwei Minuten dreiundzwanzig Sekunden"),
        ("2. Mär. 2003", "zweiter März zweitausenddrei"),
    ],
)
def test_times_and_dates(text: str, spoken: str) -> None:
    """'Uhr' times (also dotted and 24:00) and abbreviated month names."""
    assert de(text) == spoken


def test_a_dotted_decimal_without_uhr_is_no_time() -> None:
    """Counter-example: '2.30' without 'Uhr' is not read as a time."""
    assert "Uhr" not in de("Der Kurs stieg um 2.30 Punkte")


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("(0411) 0234-1234", "null vier eins eins, null zwei drei vier, eins zwei drei vier"),
        ("+49 1234-1234", "plus neunundvierzig, eins zwei drei vier, eins zwei drei vier"),
        ("3D-Drucker", "drei-D-Drucker"),
        ("Mr. Dao", "Mister Dao"),
    ],
)
def test_phone_numbers_and_glued_letters(text: str, spoken: str) -> None:
    """Phone numbers digit by digit (country code as a number); '3D-' reads its digit."""
    assert de(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Es waren insgesamt 12. Peter war auch da.", "Es waren insgesamt zwölf. Peter war auch da."),
        ("Seite 17. Absatz 2.", "Seite siebzehn. Absatz zwei."),
        ("Der Umsatz stieg um 3,5 %.", "Der Umsatz stieg um drei Komma fünf Prozent."),
        ("3,5-4,5 kg", "drei Komma fünf bis vier Komma fünf Kilogramm"),
    ],
)
def test_sentence_ends_percentages_and_ranges_keep_their_readings(text: str, spoken: str) -> None:
    """Counter-examples: a capitalized word after 'N.' is a new sentence unless an article or the line start
    introduces the number; a decimal before '%' or a range dash is left to the percent and range rules."""
    assert de(text) == spoken


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        ("Am 3.10. ist Feiertag.", "Am dritten Oktober ist Feiertag."),
        ("Bis zum 24.12.", "Bis zum vierundzwanzigsten Dezember."),
        ("am 2.3. um 8 Uhr", "am zweiten März um acht Uhr"),
        ("Tel.: +49 30 1234567", "Tel.: plus neunundvierzig, drei null, eins zwei drei vier fünf sechs sieben"),
    ],
)
def test_day_and_month_with_dots_and_grouped_phone_numbers(text: str, spoken: str) -> None:
    """'3.10.' is a date (its final full stop kept at the end); phone groups keep a pause between them."""
    assert de(text) == spoken


def test_a_section_number_is_no_date() -> None:
    """Counter-example: 'Kapitel 2.3.' (a one-digit month, no preposition) is not 'zweiter März'."""
    assert "März" not in de("Kapitel 2.3. Dann weiter.")
