"""A job's book metadata: the title and author of an EPUB (its OPF package's dc:title and dc:creator), cleaned and
bounded, and the download file name made from them (an ASCII slug plus the RFC 6266 / RFC 5987 UTF-8 form)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import quote

MAX_META_CHARS = 300
"""Longest title or author kept (the same bound as the request's `title` field)."""
MAX_CREATORS = 8
"""Most dc:creator entries joined into the author."""
MAX_SLUG_CHARS = 80
"""Longest ASCII file name stem of a download."""
_DC = "{http://purl.org/dc/elements/1.1/}"
_NOT_SLUG = re.compile(r"[^A-Za-z0-9]+")  # one character class, one quantifier: linear
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\"]')  # control characters, path separators, quotes


def clean_meta(value: str | None) -> str | None:
    """Whitespace collapsed, control and format characters dropped, at most `MAX_META_CHARS`; None when empty."""
    if not value:
        return None
    text = "".join(ch for ch in value[: 4 * MAX_META_CHARS] if unicodedata.category(ch)[0] != "C" or ch in " \t\n")
    text = " ".join(text.split())[:MAX_META_CHARS].strip()
    return text or None


def opf_metadata(opf: Any) -> tuple[str | None, str | None]:
    """(title, author) of a parsed OPF package: the first dc:title, the dc:creator entries joined with ", ".

    Args:
        opf: the package's ElementTree root (parsed by defusedxml, size bounded by the caller).
    """
    title: str | None = None
    creators: list[str] = []
    for element in opf.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag == f"{_DC}title" and title is None:
            title = clean_meta("".join(element.itertext()))
        elif tag == f"{_DC}creator" and len(creators) < MAX_CREATORS:
            name = clean_meta("".join(element.itertext()))
            if name and name not in creators:
                creators.append(name)
    return title, clean_meta(", ".join(creators))


def slug(text: str) -> str:
    """An ASCII file name stem: accents folded, every other run of non-alphanumerics one '-', bounded."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", folded)[:MAX_SLUG_CHARS].strip("-")


def download_name(stem: str | None, fallback: str, suffix: str) -> tuple[str, str]:
    """(ASCII file name, Unicode file name) of a download: `stem` (a title) or `fallback` (the job id), + suffix."""
    ascii_stem = slug(stem or "") or fallback
    unicode_stem = _UNSAFE_NAME.sub("_", clean_meta(stem) or "")[:MAX_META_CHARS] or ascii_stem
    return f"{ascii_stem}{suffix}", f"{unicode_stem}{suffix}"


def content_disposition(stem: str | None, fallback: str, suffix: str) -> str:
    """An `attachment` Content-Disposition (RFC 6266): `filename="<ascii>"` for every client, and
    `filename*=UTF-8''<percent-encoded>` (RFC 5987) when the title holds more than the slug keeps."""
    plain, full = download_name(stem, fallback, suffix)
    header = f'attachment; filename="{plain}"'
    if full != plain:
        header += f"; filename*=UTF-8''{quote(full, safe='')}"
    return header
