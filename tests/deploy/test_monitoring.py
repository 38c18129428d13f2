"""The Grafana dashboard and alert rules only use metrics the server really exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tts_predictor import metrics

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
KNOWN = {m._name for m in vars(metrics).values() if hasattr(m, "_name")}


def _names(expr: str) -> set[str]:
    return {re.sub(r"_(bucket|count|sum|total)$", "", n) for n in re.findall(r"\btts_[a-z_]+", expr)}


def _known(name: str) -> bool:
    return name in KNOWN or name + "_total" in {k + "_total" for k in KNOWN} or name.removesuffix("_total") in KNOWN


def test_alert_rules_reference_real_metrics():
    rules = yaml.safe_load((MONITORING / "alerts.yaml").read_text())["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {"TTSHighErrorRate", "TTSHighLatencyP95", "TTSSaturated"}
    for rule in rules:
        for name in _names(rule["expr"]):
            assert _known(name), (rule["alert"], name)


def test_dashboard_references_real_metrics():
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 8
    for expr in exprs:
        for name in _names(expr):
            assert _known(name), name
