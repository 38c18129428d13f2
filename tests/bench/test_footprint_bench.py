"""Smoke test of bench/footprint.py (docs/edge.md): one install, one profile, one server start, end to end.

No timing or size assertions: those depend on the machine; the test checks the script runs and reports each
figure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench import footprint

pytestmark = pytest.mark.slow


def test_footprint_reports_size_memory_and_cold_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The JSON has the install size and, per start, ready / first-audio times and RSS figures; the table a row."""
    out = tmp_path / "footprint.json"
    footprint.main(["--python", sys.executable, "--runs", "1", "--profiles", "default", "--out", str(out)])
    (result,) = json.loads(out.read_text())
    assert result["python"] == sys.executable and result["site_packages_mb"] > 0
    (run,) = result["default"]["runs"]
    assert 0 < run["ready_s"] <= run["first_audio_s"]
    assert 0 < run["rss_ready_mb"] <= run["peak_mb"] and run["rss_after_mb"] > 0
    assert f"| {sys.executable} | default |" in capsys.readouterr().out
