"""Job inputs -> chapters of text: plain text, SSML, Markdown (headings start chapters) and EPUB (spine order)."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser

from defusedxml import ElementTree
from kserve.errors import InvalidInput

SOURCE_KINDS = ("text", "ssml", "markdown", "epub")
EPUB_MAX_FILES = 5000
EPUB_MAX_UNPACKED = 200 * 2**20
"""Zip-bomb guard: the summed uncompressed size of an EPUB's entries."""


class BadSource(InvalidInput):
    """The uploaded document cannot be read (400, naming the field)."""


@dataclass(frozen=True)
class SourceChapter:
    """One chapter: a title (may be empty) and its text (SSML when the job's source is ssml)."""

    title: str
    text: str


def chapters_of(kind: str, data: str | bytes) -> list[SourceChapter]:
    """Split a job's input into chapters; raises BadSource for unreadable documents."""
    if kind == "epub":
        return _epub(data if isinstance(data, bytes) else data.encode())
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if kind == "markdown":
        return _markdown(text)
    return [SourceChapter("", text)]


_HEADING = re.compile(r"^(#{1,2})\s+(.+?)\s*#*\s*$", re.M)
_MD_RULES = [
    (re.compile(r"```.*?```", re.S), " "),  # code blocks are not read aloud
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: their text
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"^\s{0,3}(>|[-*+]|\d+[.)])\s+", re.M), ""),
    (re.compile(r"^#{3,6}\s+(.+?)\s*#*$", re.M), r"\1."),
    (re.compile(r"^\s*([-*_]\s*){3,}$", re.M), ""),
]


def markdown_to_text(markdown: str) -> str:
    """Readable text of Markdown: markup removed, link and image texts kept, code blocks dropped."""
    for pattern, repl in _MD_RULES:
        markdown = pattern.sub(repl, markdown)
    return markdown.strip()


def _markdown(text: str) -> list[SourceChapter]:
    matches = list(_HEADING.finditer(text))
    out = []
    if not matches or text[: matches[0].start()].strip():
        out.append(SourceChapter("", markdown_to_text(text[: matches[0].start()] if matches else text)))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        title = markdown_to_text(match.group(2))
        body = markdown_to_text(text[match.end() : end])
        out.append(SourceChapter(title, f"{title}.\n\n{body}" if body else f"{title}."))
    return [c for c in out if c.text.strip()]


class _XhtmlText(HTMLParser):
    """Visible text of an XHTML document, paragraphs separated by blank lines; the first heading as title."""

    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "blockquote", "section"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in ("h1", "h2") and not self.title:
            self._heading = []
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in ("h1", "h2") and self._heading is not None:
            self.title, self._heading = " ".join("".join(self._heading).split()), None
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
            if self._heading is not None:
                self._heading.append(data)

    def text(self) -> str:
        paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", "".join(self.parts)))
        return "\n\n".join(p for p in paragraphs if p)


def _epub(data: bytes) -> list[SourceChapter]:
    try:
        book = zipfile.ZipFile(io.BytesIO(data))
        infos = book.infolist()
        if len(infos) > EPUB_MAX_FILES or sum(i.file_size for i in infos) > EPUB_MAX_UNPACKED:
            raise BadSource(
                f"file: EPUB too large when unpacked (over {EPUB_MAX_UNPACKED} bytes or {EPUB_MAX_FILES} files)"
            )
        container = ElementTree.fromstring(book.read("META-INF/container.xml"))
        opf_path = next(e.get("full-path") for e in container.iter() if e.tag.endswith("rootfile"))
        opf = ElementTree.fromstring(book.read(opf_path))
    except BadSource:
        raise
    except (zipfile.BadZipFile, KeyError, StopIteration, ElementTree.ParseError, ValueError) as exc:
        raise BadSource(
            f"file: not a readable EPUB ({type(exc).__name__}); upload an .epub (zip with META-INF/container.xml)"
        ) from None
    manifest = {e.get("id"): e.get("href") for e in opf.iter() if e.tag.endswith("}item") or e.tag == "item"}
    spine = [e.get("idref") for e in opf.iter() if e.tag.endswith("itemref") or e.tag == "itemref"]
    base = posixpath.dirname(opf_path)
    chapters = []
    for idref in spine:
        href = manifest.get(idref)
        if not href:
            continue
        try:
            raw = book.read(posixpath.normpath(posixpath.join(base, href)))
        except KeyError:
            continue
        parser = _XhtmlText()
        parser.feed(raw.decode("utf-8", "replace"))
        text = parser.text()
        if text:
            chapters.append(SourceChapter(parser.title, text))
    if not chapters:
        raise BadSource("file: the EPUB has no readable text in its spine")
    return chapters
