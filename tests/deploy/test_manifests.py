"""deploy/*.yaml are rendered from the chart by scripts/render-manifests.py: they must be current and valid."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
import yaml

pytest.importorskip("helm_python")
from kube_schemas import ROOT, validate  # noqa: E402


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("render_manifests", ROOT / "scripts" / "render-manifests.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = _script()


@pytest.mark.parametrize("name", SCRIPT.CASES)
def test_manifest_up_to_date(name: str) -> None:
    path = ROOT / "deploy" / name
    assert path.exists(), f"{path} missing: run python scripts/render-manifests.py"
    assert path.read_text() == SCRIPT.render(name), f"{path} is stale: run python scripts/render-manifests.py"


@pytest.mark.parametrize("name", SCRIPT.CASES)
def test_manifest_valid(name: str) -> None:
    objs = [o for o in yaml.safe_load_all((ROOT / "deploy" / name).read_text()) if o]
    assert objs
    for obj in objs:
        assert "helm.sh/chart" not in obj["metadata"].get("labels", {})
        validate(obj)


def test_no_stray_manifests() -> None:
    assert {p.name for p in (ROOT / "deploy").glob("*.yaml")} == set(SCRIPT.CASES)
