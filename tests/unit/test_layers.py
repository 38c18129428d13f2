"""Import layering (docs/architecture.md): a module imports its own layer or lower ones, never a higher one.

Also the mode rules (the transformer never imports the server or Ray; the server never imports Ray), the torch
rule (only `engines/coqui/` imports `torch` or Coqui's `TTS`) and that the runtime package never imports the test
and benchmark code kept outside it. Lazy imports inside functions count: they are imports all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "tts_predictor"

LAYERS: list[set[str]] = [
    {"errors", "logs", "metrics", "tracing", "settings", "auth", "schemas", "budget"},
    {"text"},
    {"audio"},
    {"engines"},
    {"voices", "protocol"},
    {"synthesis", "plugins"},
    {"pipeline"},
    {"jobs", "usage", "predictor", "transformer", "repository"},
    {"api"},
    {"server", "ray", "cli", "__main__"},
]
"""Bottom to top; each name is a root module or a sub-package of `tts_predictor`."""

LEVEL = {unit: level for level, units in enumerate(LAYERS) for unit in units}
TORCH_MODULES = {"torch", "torchaudio", "TTS"}
TORCH_ALLOWED = ("engines.coqui.", "audio.watermark")
"""Only the Coqui engines import torch; the watermark's detector is a TorchScript model (lazy, opt-in)."""
OUTSIDE = {"bench", "devtools", "tests"}
"""Test and benchmark code: not installed, so the runtime never imports it."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def raw_imports(path: Path) -> set[str]:
    """Every module named by an import statement in the file (lazy imports in functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def internal_imports(path: Path, modules: set[str]) -> set[str]:
    """Package modules (relative to `tts_predictor`) that the file imports."""
    names = {m.removeprefix("tts_predictor.") for m in raw_imports(path) if m.startswith("tts_predictor.")}
    return {m for m in names if m in modules}


def unit_of(module: str) -> str:
    return module.split(".")[0]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    modules = set(files)
    return {name: internal_imports(path, modules) - {name} for name, path in files.items()}


def test_every_unit_has_a_layer(graph: dict[str, set[str]]) -> None:
    units = {unit_of(m) for m in graph if m} - {""}
    assert units <= set(LEVEL), f"add these to LAYERS: {sorted(units - set(LEVEL))}"


def test_root_has_at_most_fourteen_modules() -> None:
    assert len(list(PACKAGE.glob("*.py"))) <= 14


def test_no_import_goes_up_a_layer(graph: dict[str, set[str]]) -> None:
    upward = [
        f"{m} ({LEVEL[unit_of(m)]}) -> {d} ({LEVEL[unit_of(d)]})"
        for m, deps in graph.items()
        if m
        for d in deps
        if LEVEL[unit_of(d)] > LEVEL[unit_of(m)]
    ]
    assert not upward, "imports against the layer table:\n" + "\n".join(sorted(upward))


def test_modes_do_not_import_each_other(graph: dict[str, set[str]]) -> None:
    for m, deps in graph.items():
        units = {unit_of(d) for d in deps}
        assert "__main__" not in units
        if unit_of(m) == "transformer":
            assert not units & {"server", "ray"}, m
        if unit_of(m) == "server":
            assert "ray" not in units, m
        if unit_of(m) == "ray":
            assert "transformer" not in units, m
    assert {"server.app", "ray.driver"} <= graph["__main__"]


def test_no_import_cycles_between_files(graph: dict[str, set[str]]) -> None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join([*stack[stack.index(nxt) :], nxt]))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_only_coqui_engines_import_torch() -> None:
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        heavy = {m.split(".")[0] for m in raw_imports(path)} & TORCH_MODULES
        assert not heavy or name.startswith(TORCH_ALLOWED), f"{name} imports {heavy}"


def test_runtime_never_imports_test_or_benchmark_code() -> None:
    for path in PACKAGE.rglob("*.py"):
        outside = {m.split(".")[0] for m in raw_imports(path)} & OUTSIDE
        assert not outside, f"{module_name(path)} imports {outside}"
