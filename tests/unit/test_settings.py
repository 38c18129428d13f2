"""Settings live in one class: every TTS_* variable is a field, none is renamed, the reference page is generated."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from tts_predictor.settings import Settings, env_name

REPO = Path(__file__).resolve().parents[2]
NAMES = REPO / "tests" / "data" / "settings_env_names.txt"
"""Every environment variable the service read before the architecture step (Settings fields, TTS_RAY_*,
TTS_CACHE_DIR, TTS_TEST_SLOW_LOAD_S, RAY_ADDRESS). The chart and users depend on them: none may disappear."""


def test_no_setting_was_renamed_or_dropped() -> None:
    known = set(NAMES.read_text().split())
    current = {env_name(field) for field in Settings.model_fields}
    assert not known - current, f"renamed or dropped: {sorted(known - current)}"
    assert not current - known, (
        f"new settings: add them to {NAMES.name} (and check the chart): {sorted(current - known)}"
    )


def test_no_environment_reads_outside_settings() -> None:
    """Configuration comes in through Settings only: no os.environ / os.getenv elsewhere in the package."""
    offenders = []
    for path in (REPO / "tts_predictor").rglob("*.py"):
        if path.name == "settings.py" and path.parent.name == "tts_predictor":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                and getattr(node.value, "id", "") == "os"
            ):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not offenders, offenders


def test_settings_reference_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location("settings_docs", REPO / "scripts" / "settings-docs.py")
    assert spec and spec.loader
    docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(docs)
    assert (REPO / "docs" / "settings.md").read_text(encoding="utf-8") == docs.render(), (
        "run python scripts/settings-docs.py"
    )


def test_every_field_is_documented() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_ray_address_keeps_rays_own_name(monkeypatch) -> None:
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    assert Settings().ray_address == "ray://head:10001" and env_name("ray_address") == "RAY_ADDRESS"
