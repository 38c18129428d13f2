"""Pretend only the base install (`pip install tts-predictor`, no extras) is there: a `sitecustomize` shim.

The full test venv has torch, Coqui TTS and every extra. Instead of a second install, the shim makes every
module that the base dependencies of pyproject.toml (followed through the installed packages' own
requirements) do not bring raise ModuleNotFoundError, as a light install would. Put `shim_env(dir)` into a
child process's environment (a server, `say`).
"""

from __future__ import annotations

import importlib.metadata as md
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ALWAYS_BLOCKED = ("torch", "torchaudio", "torchcodec", "TTS")
"""The Coqui stack: blocked even if some base package named them (none does)."""
VENV_TOOLS = ("pip", "setuptools", "wheel", "tts-predictor")
"""What `python -m venv` + `pip install tts-predictor` leaves besides the dependencies."""

SITECUSTOMIZE = '''"""Light-install shim (tests/support/light_install.py): blocked modules raise ModuleNotFoundError."""
import importlib.abc
import pathlib
import sys

_BLOCKED = frozenset((pathlib.Path(__file__).parent / "blocked.txt").read_text().split())


class _LightInstall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        parts = name.split(".")
        if parts[0] in _BLOCKED or ".".join(parts[:2]) in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r} (not in the light install)", name=name)
        return None


sys.meta_path.insert(0, _LightInstall())
'''


def base_distributions(pyproject: Path) -> set[str]:
    """Canonical names of the distributions the base install brings (the dependency closure, no extras)."""
    todo = [(Requirement(d), "") for d in tomllib.loads(pyproject.read_text())["project"]["dependencies"]]
    seen: set[tuple[str, str]] = set()
    names = {canonicalize_name(n) for n in VENV_TOOLS}
    while todo:
        req, extra = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        for wanted in ("", *sorted(req.extras)):
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            names.add(name)
            try:
                requires = md.distribution(name).requires or []
            except md.PackageNotFoundError:
                continue
            todo.extend((Requirement(r), wanted) for r in requires)
    return names


def _modules_of(dist: md.Distribution, depth: int) -> set[str]:
    """Importable module names of `dist`, dotted to `depth` levels (2 for namespace packages)."""
    out: set[str] = set()
    for file in dist.files or []:
        parts = file.parts
        if parts[0].endswith((".dist-info", ".egg-info", ".data")) or parts[0] in ("..", "__pycache__"):
            continue
        names = [p.split(".")[0] for p in parts[:depth]] if len(parts) > depth else [parts[0].split(".")[0]]
        if len(parts) > 1 or file.suffix in (".py", ".so", ".pyd"):
            out.add(".".join(n for n in names if n))
    return out


def blocked_modules(pyproject: Path) -> set[str]:
    """Top-level (or, inside namespace packages shared with the base, two-level) modules to hide."""
    allowed = base_distributions(pyproject)
    kept: set[str] = set()
    hidden: set[str] = set()
    dists = {canonicalize_name(d.metadata["Name"]): d for d in md.distributions()}
    for name, dist in dists.items():
        (kept if name in allowed else hidden).update(_modules_of(dist, 1))
    shared = hidden & kept
    blocked = hidden - kept
    for name, dist in dists.items():
        if name not in allowed:
            blocked |= {m for m in _modules_of(dist, 2) if m.split(".")[0] in shared}
    for name in allowed:
        if name in dists:
            blocked -= _modules_of(dists[name], 2)
    return blocked | set(ALWAYS_BLOCKED)


def shim_env(directory: Path, pyproject: Path) -> dict[str, str]:
    """Write the shim into `directory`; the environment that puts it first on a child's path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "blocked.txt").write_text("\n".join(sorted(blocked_modules(pyproject))) + "\n")
    (directory / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {"PYTHONPATH": str(directory)}
