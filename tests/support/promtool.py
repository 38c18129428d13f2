"""Run Prometheus's own `promtool test rules` on deploy/monitoring/alerts.yaml with input series built by a test.

The expected annotations are read from the rules file (promtool compares them), with `{{ $labels.x }}` filled in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

RULES = Path(__file__).resolve().parents[2] / "deploy" / "monitoring" / "alerts.yaml"


def promtool() -> str:
    """The promtool binary, or a skip (Debian: apt-get install prometheus; scripts/install-system-deps.sh --test)."""
    path = shutil.which("promtool")
    if path is None:
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return path


def rule(name: str) -> dict:
    """One alert rule of the shipped file."""
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return next(r for g in groups for r in g["rules"] if r.get("alert") == name)


def expected(name: str, **labels: str) -> dict:
    """An `exp_alerts` entry: the rule's own labels and `labels`, its annotations with those labels filled in."""
    spec = rule(name)
    notes = {}
    for key, text in spec.get("annotations", {}).items():
        for label, value in labels.items():
            text = text.replace("{{ $labels.%s }}" % label, value)
        notes[key] = text
    return {"exp_labels": {**spec.get("labels", {}), **labels}, "exp_annotations": notes}


def run_rule_tests(tmp_path: Path, series: list[dict], checks: list[dict]) -> subprocess.CompletedProcess:
    """`promtool test rules` with `series` (input_series) and `checks` (alert_rule_test); the finished process."""
    shutil.copy(RULES, tmp_path / "alerts.yaml")
    spec = {
        "rule_files": ["alerts.yaml"],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": checks}],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(spec))
    return subprocess.run(
        [promtool(), "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
