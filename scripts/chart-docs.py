#!/usr/bin/env python3
"""Regenerate the values table in charts/tts-predictor/README.md from the `# --` comments in values.yaml.

python scripts/chart-docs.py          # rewrite the table
python scripts/chart-docs.py --check  # exit 1 if the README is out of date
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parent.parent / "charts" / "tts-predictor"
START, END = "<!-- values-table:start -->", "<!-- values-table:end -->"
_KEY = re.compile(r"^(\s*)([A-Za-z0-9_.-]+):")


def documented_values(text: str) -> dict[str, str]:
    """Map dotted value path -> description, from helm-docs style `# -- text` comments (continued by `#`)."""
    docs: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    pending: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            pending = [stripped[4:].strip()]
            continue
        if stripped.startswith("#"):
            if pending is not None:
                pending.append(stripped.lstrip("#").strip())
            continue
        match = _KEY.match(line)
        if not match or stripped.startswith("-"):
            continue
        indent, key = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if pending is not None:
            docs[".".join(k for _, k in stack)] = " ".join(pending)
            pending = None
    return docs


def lookup(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for part in path.split("."):
        node = node[part]
    return node


def values_table(text: str) -> str:
    values = yaml.safe_load(text)
    rows = ["| Key | Type | Default | Description |", "|-----|------|---------|-------------|"]
    for path, desc in documented_values(text).items():
        default = lookup(values, path)
        kind = {bool: "bool", int: "int", float: "float", str: "string", list: "list", dict: "object"}[type(default)]
        shown = json.dumps(default, separators=(",", ":")).replace("|", "\\|")
        rows.append(f"| `{path}` | {kind} | `{shown}` | {desc.replace('|', chr(92) + '|')} |")
    return "\n".join(rows)


def render_readme(readme: str, values_text: str) -> str:
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{values_table(values_text)}\n{END}{tail}"


def main(argv: list[str]) -> int:
    readme_path = CHART / "README.md"
    current = readme_path.read_text()
    fresh = render_readme(current, (CHART / "values.yaml").read_text())
    if "--check" in argv:
        if fresh != current:
            print(f"{readme_path} is out of date: run python scripts/chart-docs.py", file=sys.stderr)
            return 1
        return 0
    readme_path.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
