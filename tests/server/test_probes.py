"""Every probe path the chart renders answers 200 on a real server (not just a path the chart believes in)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from server_process import REPO, ServerProcess

helm = pytest.importorskip("helm_python")

PROBES = ("readinessProbe", "livenessProbe", "startupProbe")
CASES = {"default": {}, "transformer": {"transformer": {"enabled": True}}}


def _render(values: dict[str, Any]) -> list[dict[str, Any]]:
    rendered = helm.Chart.load(REPO / "charts" / "tts-predictor").render(values, name="tts", namespace="models")
    return [
        o for path, text in sorted(rendered.items()) if path.endswith(".yaml") for o in yaml.safe_load_all(text) if o
    ]


def _probe_paths(node: Any, found: set[str]) -> set[str]:
    """httpGet.path of every probe anywhere in `node` (plus /v2/... URLs in exec probes' commands)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PROBES and isinstance(value, dict):
                if "httpGet" in value:
                    found.add(value["httpGet"]["path"])
                elif "exec" in value:
                    found.update(re.findall(r"/v2/[\w./-]*", " ".join(value["exec"].get("command", []))))
            _probe_paths(value, found)
    elif isinstance(node, list):
        for item in node:
            _probe_paths(item, found)
    return found


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = ServerProcess().start()
    yield proc
    proc.stop()


def _all_paths() -> list[str]:
    return sorted({p for values in CASES.values() for p in _probe_paths(_render(values), set())})


def test_chart_has_probes() -> None:
    for case, values in CASES.items():
        assert _probe_paths(_render(values), set()), f"{case}: no probe paths rendered"


@pytest.mark.parametrize("path", _all_paths())
def test_probe_path_answers_200(server: ServerProcess, path: str) -> None:
    answer = httpx.get(server.url + path, timeout=10)
    assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:200]}"
