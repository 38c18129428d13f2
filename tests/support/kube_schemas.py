"""Offline schema validation for rendered manifests: core kinds via kubernetes-validate,
KServe kinds via the CRDs' openAPIV3Schema (from KSERVE_CRDS_DIR or ../shared/kserve-crds)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CRDS_DIR = Path(os.environ.get("KSERVE_CRDS_DIR", ROOT.parent / "shared" / "kserve-crds"))
KUBE_VERSION = "1.30.0"
KSERVE_GROUP = "serving.kserve.io"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the InferenceService CRD is 2 MB


def _strict(schema: Any) -> Any:
    """Reject unknown fields: the API server would silently prune them (e.g. a misplaced storageUri)."""
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@functools.cache
def kserve_validators() -> dict[tuple[str, str], jsonschema.Validator]:
    files = sorted(CRDS_DIR.glob("*.yaml"))
    if not files:
        pytest.skip(f"KServe CRDs not found in {CRDS_DIR} (set KSERVE_CRDS_DIR); KServe objects not validated")
    validators = {}
    for path in files:
        crd = yaml.load(path.read_text(), Loader=_LOADER)
        for version in crd["spec"]["versions"]:
            api_version = f"{crd['spec']['group']}/{version['name']}"
            schema = _strict(version["schema"]["openAPIV3Schema"])
            validators[(api_version, crd["spec"]["names"]["kind"])] = jsonschema.Draft7Validator(schema)
    return validators


def validate(obj: dict[str, Any]) -> None:
    """Raise if obj does not match its schema; skip kinds with no schema available here."""
    api_version, kind = obj["apiVersion"], obj["kind"]
    if api_version.startswith(KSERVE_GROUP + "/"):
        validator = kserve_validators().get((api_version, kind))
        assert validator is not None, f"no CRD schema for {api_version} {kind}"
        errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
        assert not errors, f"{kind}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    elif api_version.startswith("monitoring.coreos.com/"):
        # Prometheus Operator CRDs are not vendored here; test_chart checks the ServiceMonitor's shape.
        return
    else:
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)
