"""The subset of tidwall/gjson path syntax that KServe's router uses for `condition`: ValidBytes and Exists.

KServe evaluates a step's `condition` with `gjson.GetBytes(responseBytes, step.Condition).Exists()`
(kserve cmd/router/main.go lines 348-356). Supported here, following gjson's SYNTAX.md:

- dotted keys (``outputs.0.name``), ``\\.`` to escape a dot, ``*``/``?`` wildcards in a key;
- a number on an array is an index; ``#`` on an array is its length; ``#.key`` collects ``key`` of every
  element (always an array, so it exists);
- queries ``#(key==value)`` (first match) with ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``%`` (like) and
  ``!%``; values are JSON literals (``"text"``, ``3``, ``true``) or bare words; ``#(key)`` tests existence.

Not supported (ValueError): ``#(...)#`` all-matches queries, modifiers (``@reverse``), multipaths, pipes.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

_MISSING = object()
_QUERY = re.compile(r"^#\((?P<key>[^=!<>%]*?)\s*(?:(?P<op>==|!=|<=|>=|<|>|!%|%)\s*(?P<value>.*))?\)$")


def valid(data: bytes | None) -> bool:
    """gjson.ValidBytes: the bytes are one JSON value."""
    if not data:
        return False
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def exists(data: bytes, path: str) -> bool:
    """gjson.GetBytes(data, path).Exists(); a JSON null exists too (its raw text is not empty)."""
    return _get(json.loads(data), _split(path)) is not _MISSING


def _split(path: str) -> list[str]:
    if any(c in path for c in "@|,{["):
        raise ValueError(f"gjson path {path!r}: modifiers, pipes and multipaths are not mirrored here")
    parts, current, escaped, depth = [], "", False, 0
    for char in path:
        if escaped:
            current, escaped = current + char, False
        elif char == "\\":
            escaped = True
        elif char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            depth += (char == "(") - (char == ")")
            current += char
    return parts + [current]


def _get(value: Any, parts: list[str]) -> Any:
    if not parts:
        return value
    head, rest = parts[0], parts[1:]
    if isinstance(value, list):
        if head == "#":
            return [v for v in (_get(item, rest) for item in value) if v is not _MISSING] if rest else len(value)
        if head.startswith("#("):
            if head.endswith(")#"):
                raise ValueError(f"gjson query {head!r}: all-matches queries are not mirrored here")
            match = next((item for item in value if _matches(item, head)), _MISSING)
            return _MISSING if match is _MISSING else _get(match, rest)
        if head.isdigit() and int(head) < len(value):
            return _get(value[int(head)], rest)
        return _MISSING
    if isinstance(value, dict):
        if any(c in head for c in "*?"):
            key = next((k for k in value if fnmatch.fnmatchcase(k, head)), None)
            return _MISSING if key is None else _get(value[key], rest)
        return _get(value[head], rest) if head in value else _MISSING
    return _MISSING


def _matches(item: Any, query: str) -> bool:
    found = _QUERY.match(query)
    if not found:
        raise ValueError(f"gjson query {query!r} not understood")
    key, op, raw = found["key"].strip(), found["op"], (found["value"] or "").strip()
    left = _get(item, _split(key)) if key else item
    if left is _MISSING:
        return False
    if op is None:
        return True
    try:
        right = json.loads(raw)
    except ValueError:
        right = raw
    if op in ("%", "!%"):
        like = isinstance(left, str) and fnmatch.fnmatchcase(left, str(right))
        return like if op == "%" else not like
    try:
        return (
            {"==": left == right, "!=": left != right}[op]
            if op in ("==", "!=")
            else {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]
        )
    except TypeError:  # gjson compares only like with like
        return False
