"""The language-id experiment: the installed detector is measured in its own process and reported as table rows."""

from __future__ import annotations

import pytest

import bench
from bench.language_id import SENTENCES, measure, run_language_id
from bench.report import table


def test_language_id_measures_the_installed_detector() -> None:
    """py3langid (a dependency) on the six languages: every sentence judged, accuracy and latency reported."""
    result = measure("py3langid", "six")
    assert result["sentences"] == len(SENTENCES) and result["accuracy"] >= 0.9 and result["p50_ms"] > 0


@pytest.mark.slow
def test_language_id_experiment_is_listed_and_reported() -> None:
    """`make bench` runs it by default; libraries that are not installed are skipped, the rest are rows."""
    assert "language-id" in bench.DEFAULT_EXPERIMENTS
    logged: list[str] = []
    exp = run_language_id(logged.append)
    assert any(r["library"] == "py3langid" for r in exp["results"])
    text = table({"models": {}, "experiments": {"language-id": exp}})
    assert "py3langid" in text and "accuracy" in text
