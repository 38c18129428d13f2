"""``python -m bench.nemo_table``: rewrite the NeMo score table in docs/ssml.md from a fresh run.

The "before" column is ``bench/data/nemo_tn/before.json`` (the normalizer at commit c44aa4d, same comparator).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.nemo_cases import DATA, LANGUAGES, run_nemo

DOC = Path(__file__).parents[1] / "docs" / "ssml.md"
START, END = "Scores (right / cases)", "What changed for English"


def render() -> str:
    """The table paragraph: totals per language, then one row per class."""
    now = run_nemo(lambda line: None)
    before = json.loads((DATA / "before.json").read_text("utf-8"))
    classes = now["classes"]

    def right(lang: str, table: dict) -> int:
        return sum(v["right"] for k, v in table.items() if k.startswith(lang + "/"))

    per = ", ".join(
        f"{lang} {right(lang, before)} → {right(lang, classes)} of "
        f"{sum(v['cases'] for k, v in classes.items() if k.startswith(lang + '/'))}"
        for lang in LANGUAGES
    )
    rows = [
        f"| {k} | {v['cases']} | {100 * before[k]['accuracy']:.0f} % | {100 * v['accuracy']:.0f} % |"
        for k, v in sorted(classes.items(), key=lambda kv: (LANGUAGES.index(kv[0].split("/")[0]), kv[0]))
    ]
    total = sum(v["cases"] for v in classes.values())
    return (
        f"{START}, before this benchmark existed (commit c44aa4d, scored with the same comparator) and\n"
        f"now: {total} cases, {sum(v['right'] for v in before.values())} → "
        f"{sum(v['right'] for v in classes.values())} right ({per}).\n\n"
        "| class | cases | before | now |\n|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
    )


def current_section() -> str:
    """What docs/ssml.md holds between the table's first line and the paragraph after it."""
    text = DOC.read_text("utf-8")
    return text[text.index(START) : text.index(END)]


def main() -> None:
    text = DOC.read_text("utf-8")
    start, end = text.index(START), text.index(END)
    variants = sum(1 for line in (DATA / "accepted_variants.txt").open() if line.strip() and line[0] != "#")
    text = text[:start] + render() + text[end:]
    text = re.sub(r"(`bench/data/nemo_tn/accepted_variants.txt` \()\d+( lines)", rf"\g<1>{variants}\g<2>", text)
    DOC.write_text(text, "utf-8")


if __name__ == "__main__":
    main()
