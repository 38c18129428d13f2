"""Markdown job sources -> chapters of plain text, parsed by markdown-it-py (CommonMark, linear time).

Issue 23 (finding 2): the former regex stripper was cubic on a 2 KB heading line and held the GIL for seconds, so
the whole process froze. markdown-it-py's block and inline parsers are linear on adversarial inputs (measured in
tests/unit/test_text_redos.py) and pure Python, so a thread parsing a large document yields the GIL.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

MAX_NESTING = 20
"""Blockquotes and lists nested deeper than this are read as plain text (markdown-it's own guard)."""
_MD = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING})


@dataclass(frozen=True)
class MarkdownChapter:
    """One chapter of a Markdown document."""

    title: str
    """Text of the `#` or `##` heading that starts it ('' for the text before the first heading)."""
    text: str
    """Readable text: the title as a sentence, then the paragraphs separated by blank lines."""


def markdown_chapters(markdown: str) -> list[MarkdownChapter]:
    """Split Markdown into chapters at each `#` / `##` heading; empty chapters are dropped."""
    out = []
    for title, paragraphs in _blocks(markdown):
        body = "\n\n".join(paragraphs)
        if title:
            out.append(MarkdownChapter(title, f"{title}.\n\n{body}" if body else f"{title}."))
        elif body.strip():
            out.append(MarkdownChapter("", body))
    return out


def _blocks(markdown: str) -> list[tuple[str, list[str]]]:
    """[(chapter title, paragraphs)], the first with title '' (text before the first h1/h2)."""
    chapters: list[tuple[str, list[str]]] = [("", [])]
    heading: str | None = None
    for token in _MD.parse(markdown):
        if token.type == "heading_open":
            heading = token.tag
        elif token.type == "inline":
            text = _inline_text(token.children or [])
            if heading in ("h1", "h2"):
                chapters.append((text, []))
            elif text:
                chapters[-1][1].append(text + "." if heading else text)
        elif token.type == "heading_close":
            heading = None
    # Code blocks, raw HTML blocks and thematic breaks have no inline token: they are not read aloud.
    return [c for c in chapters if c[0] or c[1]]


def _inline_text(children: list[Token]) -> str:
    """Visible text of an inline run: text, inline code, image alt texts; line breaks as spaces; HTML dropped."""
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())
