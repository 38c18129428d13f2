"""Import layering: one entry point (__main__) picks the mode; the modes never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "tts_predictor"
MODES = {"server", "ray_serving", "transformer"}
"""In-process server (with the assembly pieces the Ray driver shares), Ray driver, KServe transformer model."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Package-internal modules imported anywhere in the file (lazy imports in functions included)."""
    package = module_name(path).split(".")[:-1] if path.name != "__init__.py" else module_name(path).split(".")
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
            prefix = ".".join([*base, *(node.module.split(".") if node.module else [])])
            if node.module:
                found.add(prefix)
            found.update(f"{prefix}.{a.name}".lstrip(".") for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tts_predictor"):
            found.add(node.module.removeprefix("tts_predictor").lstrip("."))
    return found


def graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: {m for m in imports_of(path) if m in modules and m != name} for name, path in modules.items()}


def test_modes_do_not_import_each_other() -> None:
    deps = graph()
    assert not any("__main__" in deps[m] for m in deps)
    assert "server" not in deps["transformer"] and "ray_serving" not in deps["transformer"]
    assert "ray_serving" not in deps["server"] and "ray_replica" not in deps["server"]
    assert "transformer" not in deps["ray_serving"] and "transformer" not in deps["ray_replica"]
    assert {"server", "ray_serving", "ray_replica"} <= deps["__main__"]


def test_no_import_cycle_through_an_entry_module() -> None:
    deps = graph()

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(n == goal or (n not in seen and not seen.add(n) and reaches(n, goal, seen)) for n in deps[start])

    for mode in (*MODES, "ray_replica", "__main__"):
        assert not reaches(mode, mode, set()), f"{mode} imports itself through a circle"
