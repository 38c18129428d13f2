"""The normalization and say-as examples of docs/ssml.md are what the code produces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tts_predictor.text.normalize import normalize_text
from tts_predictor.text.segments import Segment
from tts_predictor.text.ssml import parse_ssml

DOC = (Path(__file__).parents[3] / "docs" / "ssml.md").read_text(encoding="utf-8")


def _table(marker: str) -> list[list[str]]:
    """Rows (cells stripped of backticks) of the markdown table following `marker`."""
    block = DOC.split(marker, 1)[1].lstrip().split("\n\n", 1)[0]
    rows = [[c.strip().strip("`") for c in line.strip().strip("|").split("|")] for line in block.splitlines()]
    return [r for r in rows[2:] if r and r[0]]


NORMALIZE = _table("<!-- normalize examples: tested by tests/unit/text/test_docs_examples.py -->")
SAY_AS = _table("<!-- say-as examples: tested by tests/unit/text/test_docs_examples.py -->")


def test_tables_found() -> None:
    assert len(NORMALIZE) >= 8 and len(SAY_AS) >= 15


@pytest.mark.parametrize(("language", "written", "spoken"), NORMALIZE)
def test_normalize_examples(language: str, written: str, spoken: str) -> None:
    assert normalize_text(written, language) == spoken


@pytest.mark.parametrize(("kind", "fmt", "content", "spoken"), SAY_AS)
def test_say_as_examples(kind: str, fmt: str, content: str, spoken: str) -> None:
    attrs = f' format="{fmt}"' if fmt else ""
    doc = f'<speak><say-as interpret-as="{kind}"{attrs}>{content}</say-as></speak>'
    assert parse_ssml(doc) == [Segment(text=spoken, normalize=False)]


def test_json_examples_are_valid() -> None:
    import json

    blocks = re.findall(r"```json\n(.*?)```", DOC, re.S)
    assert blocks
    for block in blocks:
        assert isinstance(json.loads(block), dict | list)
