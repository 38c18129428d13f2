"""Our normalizer on NVIDIA NeMo-text-processing's own test cases (vendored in ``bench/data/nemo_tn``).

Each case is NeMo's written input and its spoken reading(s). Ours counts as right when it means the same
(`spoken_compare.same_meaning`) or is one of the readings listed, with the reason, in
``bench/data/nemo_tn/accepted_variants.txt``. No case is skipped: every line of every class file is scored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.spoken_compare import same_meaning

DATA = Path(__file__).parent / "data" / "nemo_tn"
LANGUAGES = ("en", "de", "fr", "es")
SPOKEN_FIRST = frozenset({"de"})
"""Languages whose class files read `spoken~written` (NeMo's de tests take `(expected, test_input)`)."""
Log = Callable[[str], None]


@dataclass(frozen=True)
class Case:
    """One NeMo test case."""

    language: str
    kind: str
    """The class: NeMo's file name (cardinal, money, date, ...)."""
    written: str
    accepted: tuple[str, ...]
    """NeMo's spoken reading(s), then ours from accepted_variants.txt."""


def _variants() -> dict[tuple[str, str], list[str]]:
    """(language, written) -> extra accepted readings; lines `lang~written~reading~reason`."""
    out: dict[tuple[str, str], list[str]] = {}
    path = DATA / "accepted_variants.txt"
    for line in path.read_text("utf-8").splitlines() if path.exists() else []:
        if line.strip() and not line.startswith("#"):
            lang, written, reading, _reason = line.split("~")
            out.setdefault((lang, written), []).append(reading)
    return out


def _pairs(path: Path, spoken_first: bool) -> Iterator[tuple[str, tuple[str, ...]]]:
    lines = path.read_text("utf-8").split("\n")
    if path.stem == "normalize_with_audio":  # '~written' then its accepted readings, one per line
        written, readings = None, []
        for line in [*lines, "~"]:
            if line.startswith("~"):
                if written is not None and readings:
                    yield written, tuple(readings)
                written, readings = line[1:], []
            elif line.strip():
                readings.append(line)
        return
    for line in lines[:-1] if lines[-1] == "" else lines:
        fields = line.split("~")
        if spoken_first:
            yield fields[-1], tuple(fields[:-1])
        else:
            yield fields[0], tuple(fields[1:])


def load_cases(languages: tuple[str, ...] = LANGUAGES) -> list[Case]:
    """Every case of every class file of `languages`, in file order."""
    variants = _variants()
    return [
        Case(lang, path.stem, written, (*spoken, *variants.get((lang, written), [])))
        for lang in languages
        for path in sorted((DATA / lang).glob("*.txt"))
        for written, spoken in _pairs(path, lang in SPOKEN_FIRST)
    ]


def score(cases: list[Case], normalize: Callable[[str, str], str]) -> dict[str, Any]:
    """Per (language, class): cases, right, accuracy; plus every failure and the time per case."""
    classes: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, str]] = []
    start = time.perf_counter()
    for case in cases:
        ours = normalize(case.written, case.language)
        right = (
            same_meaning(ours, *case.accepted, language=case.language)
            if case.accepted
            else ours.strip() == case.written.strip()
        )
        row = classes.setdefault(f"{case.language}/{case.kind}", {"cases": 0, "right": 0})
        row["cases"] += 1
        row["right"] += right
        if not right:
            failures.append(
                {
                    "class": f"{case.language}/{case.kind}",
                    "written": case.written,
                    "ours": ours,
                    "nemo": " | ".join(case.accepted),
                }
            )
    for row in classes.values():
        row["accuracy"] = row["right"] / row["cases"]
    elapsed = time.perf_counter() - start
    return {"classes": classes, "failures": failures, "ms_per_case": 1000 * elapsed / max(1, len(cases))}


def table_rows(result: dict[str, Any]) -> list[str]:
    """One line per class: right / cases and accuracy."""
    rows = [f"NeMo text-normalization cases ({result['ms_per_case']:.2f} ms per case)"]
    for name, row in sorted(result["classes"].items()):
        rows.append(f"  {name:28} {row['right']:4d}/{row['cases']:<4d} {100 * row['accuracy']:5.1f} %")
    return rows


def run_nemo(log: Log, languages: tuple[str, ...] = LANGUAGES) -> dict[str, Any]:
    """The benchmark experiment: score the service's normalizer on NeMo's cases."""
    from tts_predictor.text.normalize import normalize_text

    result = score(load_cases(languages), normalize_text)
    result["table"] = table_rows(result)
    for line in result["table"]:
        log(line)
    return result
