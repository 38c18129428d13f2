"""The NeMo text-normalization benchmark (bench/nemo_cases.py): its comparator, its loader, and per-class floors.

The cases and their readings are NVIDIA's (bench/data/nemo_tn, Apache-2.0); the comparator's expectations below
are written by hand. The floors are the scores this normalizer reached when the benchmark was added: a rule change
that loses a NeMo case fails here and has to be looked at (raise a floor when a class improves).
"""

from __future__ import annotations

import pytest

from bench.nemo_cases import DATA, SPOKEN_FIRST, load_cases, run_nemo
from bench.spoken_compare import same_meaning


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("twenty thirty", "two thousand thirty"),
        ("nineteen oh five", "one thousand nine hundred five"),
        ("one hundred and twenty-three", "one hundred twenty three"),
        ("two and a half", "two and one half"),
        ("D N A is", "DNA is"),
        ("July twenty-fifth, twenty twelve", "july twenty fifth twenty twelve"),
        ("nine millionth", "nine millionth"),
        ("two dollars and five cents", "two dollars five cents"),
    ],
)
def test_same_meaning(ours: str, theirs: str) -> None:
    assert same_meaning(ours, theirs)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("one two three", "one hundred twenty three"),
        ("twenty five", "twenty fifth"),
        ("nineteen ninety", "nineteen nineteen"),
        ("fifteen", "fifty"),
        ("zero dollars and ninety-nine cents", "ninety nine cents"),
        ("H T T P S colon slash slash example dot com", "example dot com"),
    ],
)
def test_different_meaning(ours: str, theirs: str) -> None:
    assert not same_meaning(ours, theirs)


def _expected_cases(text: str, with_audio: bool) -> int:
    lines = text.split("\n")
    if not with_audio:  # one case per line
        return len(lines) - (lines[-1] == "")
    # '~written' lines that have at least one reading under them
    return sum(
        1
        for i, line in enumerate(lines)
        if line.startswith("~") and lines[i + 1 : i + 2] not in ([], [""]) and not lines[i + 1].startswith("~")
    )


def test_every_line_of_every_file_is_a_case() -> None:
    cases = load_cases()
    for lang_dir in sorted(p for p in DATA.iterdir() if p.is_dir()):
        for path in sorted(lang_dir.glob("*.txt")):
            expected = _expected_cases(path.read_text("utf-8"), path.stem == "normalize_with_audio")
            got = sum(1 for c in cases if c.language == lang_dir.name and c.kind == path.stem)
            assert got == expected, (path, got, expected)
    assert {c.language for c in cases} == {"en", "de", "fr", "es"} and "de" in SPOKEN_FIRST


def test_german_files_read_spoken_first() -> None:
    german = {c.written: c.accepted for c in load_cases(("de",)) if c.kind == "cardinal"}
    assert german["1"] == ("eins",)


FLOORS = {
    "en/address": 10,
    "en/cardinal": 17,
    "en/date": 53,
    "en/decimal": 12,
    "en/electronic": 36,
    "en/fraction": 13,
    "en/math": 4,
    "en/measure": 18,
    "en/money": 71,
    "en/normalize_with_audio": 54,
    "en/ordinal": 27,
    "en/punctuation": 56,
    "en/punctuation_match_input": 12,
    "en/range": 19,
    "en/roman": 3,
    "en/serial": 28,
    "en/special_text": 10,
    "en/telephone": 19,
    "en/time": 21,
    "en/whitelist": 6,
    "en/word": 38,
    "de/cardinal": 49,
    "de/date": 12,
    "de/decimal": 7,
    "de/electronic": 14,
    "de/fraction": 33,
    "de/measure": 29,
    "de/money": 21,
    "de/normalize_with_audio": 24,
    "de/ordinal": 19,
    "de/telephone": 4,
    "de/time": 28,
    "de/whitelist": 6,
    "de/word": 49,
    "es/cardinal": 69,
    "es/date": 18,
    "es/decimal": 24,
    "es/electronic": 14,
    "es/fraction": 75,
    "es/measure": 31,
    "es/money": 69,
    "es/normalize_with_audio": 27,
    "es/ordinal": 116,
    "es/telephone": 9,
    "es/time": 31,
    "es/whitelist": 5,
    "es/word": 48,
    "fr/cardinal": 14,
    "fr/date": 12,
    "fr/decimal": 7,
    "fr/fraction": 12,
    "fr/ordinal": 13,
    "fr/whitelist": 7,
    "fr/word": 49,
}


def test_scores_hold_their_floors() -> None:
    classes = run_nemo(lambda line: None)["classes"]
    below = {name: classes[name]["right"] for name, floor in FLOORS.items() if classes[name]["right"] < floor}
    assert not below, f"classes below their floor {FLOORS}: {below}"


def test_the_documented_table_is_current() -> None:
    """docs/ssml.md shows what the benchmark gives now (`python -m bench.nemo_table` rewrites it)."""
    from bench.nemo_table import current_section, render

    assert current_section() == render(), "run: python -m bench.nemo_table"
