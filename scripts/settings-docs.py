#!/usr/bin/env python3
"""Regenerate docs/settings.md from the one `Settings` class (every field: variable, flag, type, default, meaning).

python scripts/settings-docs.py          # rewrite docs/settings.md
python scripts/settings-docs.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout's tts_predictor, not an installed one

from tts_predictor.settings import Settings, env_name  # noqa: E402

DOC = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
HEADER = """# Settings reference

Generated from `tts_predictor/settings.py` by `python scripts/settings-docs.py`; a test fails when it is out of date.
Every setting is an environment variable and a flag of `tts-predictor serve|transformer|say` (the flag wins);
`/config` shows the values in force, secrets redacted. The sections follow the classes in `settings.py`.
"""


def _type(annotation: object) -> str:
    text = getattr(annotation, "__name__", None) or str(annotation)
    text = text.replace("typing.", "").replace("pydantic.types.", "").replace("NoneType", "None")
    return text.replace("|", "or")


def _default(value: object) -> str:
    if value is None:
        return "unset"
    text = str(value.get_secret_value() if hasattr(value, "get_secret_value") else value)
    text = text.replace(str(Path.home()), "~")  # the same page on every machine
    return f"`{text}`" if text else '`""`'


def _section(cls: type) -> str:
    for base in Settings.__mro__:
        if cls is base:
            return (base.__doc__ or base.__name__).strip().split("\n")[0]
    return ""


def render() -> str:
    """The whole page: one table per section, in the order the fields are declared."""
    owners: dict[str, type] = {}
    for base in reversed(Settings.__mro__):
        for name in getattr(base, "__annotations__", {}):
            if name in Settings.model_fields:
                owners.setdefault(name, base)
    sections: dict[type, list[str]] = {}
    for name, field in Settings.model_fields.items():
        row = (
            f"| `{env_name(name)}` | `--{name}` | {_type(field.annotation)} | {_default(field.default)} | "
            f"{(field.description or '').replace('|', '&#124;')} |"
        )
        sections.setdefault(owners.get(name, Settings), []).append(row)
    out = [HEADER]
    ordered = sorted(sections.items(), key=lambda item: item[0] is not Settings)  # the core section first
    for owner, rows in ordered:
        title = "Core" if owner is Settings else _section(owner).removeprefix("Section: ").rstrip(".").capitalize()
        out += [f"\n## {title}\n", "| Variable | Flag | Type | Default | Meaning |", "|---|---|---|---|---|", *rows]
    return "\n".join(out) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        if not DOC.is_file() or DOC.read_text(encoding="utf-8") != text:
            print("docs/settings.md is out of date: run python scripts/settings-docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
