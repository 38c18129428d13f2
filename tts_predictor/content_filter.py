"""Content filter hook: reject texts containing terms from a configured blocklist file."""

from __future__ import annotations

import re
from pathlib import Path

from kserve.errors import InvalidInput


class ContentRejected(InvalidInput):
    """The text contains a blocked term (400)."""


class Blocklist:
    """Case-insensitive whole-word matching of the phrases in a file (one per line, `#` comments)."""

    def __init__(self, phrases: list[str]):
        self.phrases = [p for p in phrases if p]
        escaped = sorted((re.escape(p) for p in self.phrases), key=len, reverse=True)
        self._pattern = re.compile(r"\b(?:" + "|".join(escaped) + r")\b", re.I) if escaped else None

    @classmethod
    def from_file(cls, path: str | Path) -> Blocklist:
        """Read a blocklist file."""
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return cls([line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")])

    def check(self, text: str, field: str) -> None:
        """Raise ContentRejected naming the field (never echoing the request text beyond the term's rule)."""
        if self._pattern is None:
            return
        match = self._pattern.search(text)
        if match:
            rule = next(i for i, p in enumerate(self.phrases, 1) if p.lower() == match.group(0).lower())
            raise ContentRejected(f"{field}: rejected by the content filter (blocklist entry {rule})")
