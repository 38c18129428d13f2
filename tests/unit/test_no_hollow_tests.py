"""Every test function in the suite asserts something (issue 30: a test that cannot fail is a defect).

An AST scan, no imports of the test modules: a test counts as asserting when its body (nested functions
included) holds an ``assert`` statement, a ``pytest.raises``/``pytest.fail``/``pytest.warns`` call, or a
call of a helper whose name starts with ``assert_``, ``check_`` or ``expect_``, private (``_check_``) or not
(the suite's convention for helpers that assert).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
ASSERTING_PYTEST_CALLS = {"raises", "fail", "warns"}
ASSERTING_PREFIXES = ("assert_", "check_", "expect_")


def _call_name(node: ast.Call) -> tuple[str | None, str]:
    """(owner, name) of a call: ``pytest.raises`` gives ("pytest", "raises"), ``f()`` gives (None, "f")."""
    func = node.func
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        return owner, func.attr
    if isinstance(func, ast.Name):
        return None, func.id
    return None, ""


def asserts(function: ast.AST) -> bool:
    """Whether a function's body holds an assertion in the sense of this module's docstring."""
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            owner, name = _call_name(node)
            if owner == "pytest" and name in ASSERTING_PYTEST_CALLS:
                return True
            if name.lstrip("_").startswith(ASSERTING_PREFIXES):
                return True
    return False


def collect_test_functions(tree: ast.Module) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Module-level ``test_*`` functions and ``test_*`` methods of ``Test*`` classes."""
    found = []
    for node in tree.body:
        candidates = [node]
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            candidates = node.body
        found += [
            item
            for item in candidates
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name.startswith("test")
        ]
    return found


def hollow_tests(root: Path) -> list[str]:
    """``path::name`` of every test function under ``root`` that asserts nothing."""
    hollow = []
    for path in sorted(root.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        hollow += [
            f"{path.relative_to(root)}::{function.name}"
            for function in collect_test_functions(tree)
            if not asserts(function)
        ]
    return hollow


def test_every_test_function_asserts() -> None:
    assert hollow_tests(TESTS) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("def test_a():\n    x = 1\n", False),
        ("def test_a():\n    assert 1\n", True),
        ("def test_a():\n    with pytest.raises(ValueError):\n        int('x')\n", True),
        ("def test_a():\n    pytest.fail('no')\n", True),
        ("def test_a():\n    check_audio(b'')\n", True),
        ("def test_a():\n    helpers.assert_wav(b'')\n", True),
        ("def test_a():\n    expect_error(1)\n", True),
        ("def test_a():\n    _check_words([])\n", True),
        ("def test_a():\n    checked(1)\n    pytest.skip('x')\n", False),
    ],
)
def test_the_scan_tells_asserting_from_hollow(source: str, expected: bool) -> None:
    (function,) = collect_test_functions(ast.parse(source))
    assert asserts(function) is expected


def test_the_scan_finds_test_methods_of_test_classes(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text(
        "class TestX:\n    def test_hollow(self):\n        pass\n\n    def helper(self):\n        pass\n"
    )
    assert hollow_tests(tmp_path) == ["test_x.py::test_hollow"]
