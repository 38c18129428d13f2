"""English readings added from NeMo's test classes (text/english.py), each next to what it must NOT change.

The expected readings are written by hand as a person says them; the counter-examples guard against rules that
fire on ordinary words, years, dates, fractions, ranges and clock times.
"""

from __future__ import annotations

import pytest

from tts_predictor.text.normalize import normalize_text


@pytest.mark.parametrize(
    ("decision", "text", "expected"),
    [
        # serial codes: letters and digits in one word
        ("code", "Seat C24, model B2A23C.", "Seat C twenty-four, model B two A twenty-three C."),
        ("code with a long number", "Your OTP is ab9453.", "Your OTP is ab nine four five three."),
        ("model number in pairs", "The A321 landed.", "The A three twenty-one landed."),
        ("year inside a code", "The FY2024 plan.", "The FY twenty twenty-four plan."),
        ("ordinal in capitals", "THE 21ST CENTURY", "THE twenty-first CENTURY"),
        ("digits then letters", "Tag 25d08A here.", "Tag twenty-five d zero eight A here."),
        ("not a code: plain words and a year", "In 2019 the team grew.", "In twenty nineteen the team grew."),
        (
            "not a code: ordinal, unit, time",
            "The 21st run took 5kg at 5pm.",
            "The twenty-first run took five kilograms at five PM.",
        ),
        ("not a code: a file name", "Open notes2.txt now.", "Open notes2.txt now."),
        ("not a code: phonemes in brackets", "Say [HH AH0 L OW1].", "Say [HH AH0 L OW1]."),
        (
            "dashed code",
            "Serial SN-4829-XK7 and COVID-19.",
            "Serial SN-four eight two nine-XK seven and COVID-nineteen.",
        ),
        (
            "not a code: a decade, a range of times",
            "In the mid-1980s, open 3-4pm.",
            "In the mid-nineteen eighties, open three to four PM.",
        ),
        ("not a code: an age", "A 20-year-old won.", "A twenty-year-old won."),
        # leading zeros and long runs
        ("leading zero", "Agent 007 lives at 02134.", "Agent zero zero seven lives at zero two one three four."),
        ("not a code: a decimal", "It is 0.5 mm.", "It is zero point five millimeters."),
        (
            "card number",
            "Card 1234567890123124.",
            "Card one two three four five six seven eight nine zero one two three one two four.",
        ),
        ("card ending", "Your card ending in 8876 works.", "Your card ending in eight eight seven six works."),
        ("not a card: a year", "The year ending in 2020 was odd.", "The year ending in twenty twenty was odd."),
        # equations, dimensions, multipliers, ratios
        ("equation", "So 1-2=5 and x +1 = y.", "So one minus two equals five and x plus one equals y."),
        ("sum", "Add 2+3.", "Add two plus three."),
        ("not an equation: a range", "Read pages 5-10.", "Read pages five to ten."),
        ("dimensions", "A 2x4 board, 25 x 7 m.", "A two by four board, twenty-five by seven meters."),
        ("not a unit after dimensions", "Put the 2x4 in the garage.", "Put the two by four in the garage."),
        ("multiplier", "It is 4.4x faster.", "It is four point four x faster."),
        ("not a multiplier: hex", "Write 0x1F.", "Write zero x one F."),
        ("ratio", "Mix 3:1 with water.", "Mix three to one with water."),
        ("not a ratio: a clock time", "Meet at 3:15.", "Meet at three fifteen."),
        ("not a ratio: a verse", "Read Genesis 1:1.", "Read Genesis one:one."),
        # fractions
        ("ordinal suffix on a fraction", "Take 1/4th and 1/3RD.", "Take one quarter and one third."),
        ("improper fraction", "It is 22/3.", "It is twenty-two thirds."),
        ("over one", "A ratio of 142/1.", "A ratio of one hundred and forty-two over one."),
        ("not a fraction: around the clock", "Open 24/7.", "Open twenty-four seven."),
        # telephone, IP, time zones, quarters, eras, tax code
        ("vanity number", "Call 1-800-GO-U-HAUL.", "Call one, eight hundred, GO U HAUL."),
        (
            "not vanity: digits",
            "Call 1-800-555-0199.",
            "Call one, eight zero zero, five five five, zero one nine nine.",
        ),
        ("IP address", "Ping 123.123.0.40 now.", "Ping one two three dot one two three dot zero dot four zero now."),
        ("not an IP: a version", "Use version 1.2.3.", "Use version one point two point three."),
        ("time zone", "At 11:30EST or 1:59 p.m. pst.", "At eleven thirty EST or one fifty-nine PM PST."),
        ("dotted time with pm", "Leave at 1.59 p.m. today.", "Leave at one fifty-nine PM today."),
        ("not a time: a decimal", "It costs 1.59 more.", "It costs one point five nine more."),
        ("quarter", "Growth in 2Q22.", "Growth in the second quarter of twenty-two."),
        ("era", "Built in 340 A.D. and 44 BC.", "Built in three forty AD and forty-four BC."),
        ("tax code", "A 401(k) and a 501(c)(3).", "A four oh one k and a five oh one c three."),
        ("range inside a code", "Part 1-413-te-b.", "Part one-four hundred and thirteen-te-b."),
        ("percent range", "Save 2%-10% today.", "Save two percent to ten percent today."),
        (
            "national dollars",
            "It cost US$76.3 trillion or C$5.",
            "It cost seventy-six point three trillion US dollars or five Canadian dollars.",
        ),
        ("amount without a leading zero", "A unit costs $.506.", "A unit costs point five zero six dollars."),
        ("heading in capitals", "PART XL begins.", "PART forty begins."),
        ("not a numeral: a size", "Size XL fits.", "Size XL fits."),
        ("won", "It cost ₩460 billion.", "It cost four hundred and sixty billion won."),
        ("cents sign", "A 12-oz can costs 99¢.", "A twelve-ounce can costs ninety-nine cents."),
        ("not a compound: a range", "Work the 9-5 shift.", "Work the nine to five shift."),
        ("height", "He is 5'10\" tall.", "He is five foot ten tall."),
        ("not a height: a quote", "She said '10 of them'.", "She said 'ten of them'."),
        ("extension", "Call ext. 89.", "Call extension eighty-nine."),
        # symbols and slashes
        ("lone symbols", "Use $ and % or §.", "Use dollar and percent or section."),
        ("glued symbols", "Type dfsd#x and test$.", "Type dfsd hash x and test dollar."),
        ("handle and note", "Ask @mypizza in C# or C++.", "Ask at mypizza in C sharp or C plus plus."),
        ("ampersand", "R&D here & there.", "R and D here and there."),
        ("not symbols: money and percent", "Pay $5 at 5%.", "Pay five dollars at five percent."),
        ("word slash", "Upgrade/update or upgrade / update.", "Upgrade slash update or upgrade slash update."),
        ("slash words", "Yes and/or no, w/o sugar, n/a.", "Yes and or no, without sugar, not applicable."),
        (
            "number after a comma",
            "Hi,no,yes,34! On july,1998.",
            "Hi,no,yes,thirty-four! On july,nineteen ninety-eight.",
        ),
        ("not split: thousands", "It has 1,234 items.", "It has one thousand two hundred and thirty-four items."),
        ("lower-case may before a year", "On 17 may 2010.", "On the seventeenth of May, twenty ten."),
        ("not a month: the verb", "You may 5 times.", "You may five times."),
        # addresses
        (
            "e-mail with an ampersand",
            "Write a-1.b&c@gma4il.com today.",
            "Write a dash one dot b ampersand c at gma four il dot com today.",
        ),
        (
            "file URL",
            "Open file:///photos/image.jpg.",
            "Open file colon slash slash slash photos slash image dot jpeg.",
        ),
    ],
)
def test_english_reading(decision: str, text: str, expected: str) -> None:
    """Each English reading next to its counter-example (what the rule must leave as it was)."""
    assert normalize_text(text, "en-US") == expected, decision


def test_english_rules_leave_other_languages_alone() -> None:
    """The English-only rules do not fire for German text: its serial codes and symbols keep their reading."""
    assert normalize_text("Sitz C24 und a/b", "de") == "Sitz C24 und a/b"
