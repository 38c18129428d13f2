"""Job inputs -> chapters of text: plain text, SSML, Markdown (headings start chapters) and EPUB (spine order).

Sizes are checked before anything is parsed, and every parser here is linear in its input (issue 23): Markdown by
markdown-it-py (jobs/markdown.py), EPUB XHTML by expat through defusedxml with a streaming target (html.parser is
super-linear on inputs such as `<a` repeated), EPUB text counted as the spine is expanded.
"""

from __future__ import annotations

import asyncio
import html.entities
import io
import multiprocessing
import posixpath
import re
import threading
import zipfile
import zlib
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from defusedxml import DefusedXmlException, ElementTree
from defusedxml.ElementTree import DefusedXMLParser

from tts_predictor.errors import BadSource, TextTooLong
from tts_predictor.jobs.markdown import markdown_chapters
from tts_predictor.jobs.metadata import opf_metadata
from tts_predictor.text.guard import check_speakable

SOURCE_KINDS = ("text", "ssml", "markdown", "epub")
EPUB_MAX_FILES = 5000
EPUB_MAX_UNPACKED = 200 * 2**20
"""Zip-bomb guard: the summed uncompressed size of an EPUB's entries."""
EPUB_MAX_PACKAGE_BYTES = 4 * 2**20
"""Largest META-INF/container.xml and OPF package document (parsed into a tree: bounded before reading)."""
EPUB_MAX_SPINE = 2 * EPUB_MAX_FILES
"""Most spine entries: 400,000 itemrefs naming one 1-byte chapter cost 8 s from a 21 KB upload."""
EPUB_MARKUP_RATIO = 8
"""The chapters an EPUB's spine names may hold at most this many bytes of XHTML per character of the job limit."""
PARSE_TIMEOUT_S = 120.0
"""Longest a document may take to parse (linear parsers: a 1M-character job takes seconds); then a 400."""


@dataclass(frozen=True)
class SourceChapter:
    """One chapter: a title (may be empty) and its text (SSML when the job's source is ssml)."""

    title: str
    text: str


@dataclass(frozen=True)
class Document:
    """A parsed job input: its chapters, and the title and author its metadata names (EPUB only)."""

    chapters: list[SourceChapter]
    title: str | None = None
    author: str | None = None


def chapters_of(kind: str, data: str | bytes, max_chars: int | None = None) -> list[SourceChapter]:
    """The chapters of `read_document`."""
    return read_document(kind, data, max_chars).chapters


def read_document(kind: str, data: str | bytes, max_chars: int | None = None) -> Document:
    """Split a job's input into chapters (and an EPUB's title and author).

    Args:
        kind: one of SOURCE_KINDS.
        data: the document (bytes for uploads).
        max_chars: the job's character limit; text, SSML and Markdown sources longer than this (markup included)
            are refused before parsing, and an EPUB's text is counted as its spine is expanded.

    Raises:
        BadSource: unreadable documents (400, never echoing the upload).
        TextTooLong: a source over `max_chars`.
    """
    if kind == "epub":
        return _epub(data if isinstance(data, bytes) else data.encode(), max_chars)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if max_chars is not None and len(text) > max_chars:
        raise TextTooLong(f"{kind}: {len(text)} characters; the limit is {max_chars} (TTS_JOB_MAX_CHARS)")
    check_speakable(text, kind)  # a 400 now, not a job that fails later (lone surrogates, 257+ digit runs)
    if kind == "markdown":
        return Document([SourceChapter(c.title, c.text) for c in markdown_chapters(text)])
    return Document([SourceChapter("", text)])


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


async def parse_source(kind: str, data: str | bytes, max_chars: int | None) -> Document:
    """`read_document` in a worker process. Even linear pure-Python parsing of a large document holds the GIL for
    most of each 5 ms switch interval, which made /live answer in half a second on a worker thread; a process of
    its own keeps the server's event loop free (issue 23, finding 2)."""
    pool = _parser_pool()
    try:
        future = asyncio.get_running_loop().run_in_executor(pool, read_document, kind, data, max_chars)
        return await asyncio.wait_for(future, PARSE_TIMEOUT_S)
    except (TimeoutError, BrokenProcessPool):
        _reset_pool(pool)
        field = "file" if kind == "epub" else kind
        raise BadSource(f"{field}: the document could not be parsed within {PARSE_TIMEOUT_S:g} s") from None


def _parser_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:  # spawn: forking a threaded server is unsafe
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _reset_pool(pool: ProcessPoolExecutor) -> None:
    """Drop a broken or stuck pool (its process is killed); the next parse starts a new one."""
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    for process in list(getattr(pool, "_processes", {}).values()):  # no public API kills a busy worker
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


class _XhtmlText:
    """Expat target: visible text of an XHTML document, paragraphs separated by blank lines; the first h1/h2 as
    title. Streaming (no tree), so neither deep nesting nor size costs more than one pass."""

    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "tr", "blockquote", "section"}
    SKIPPED = {"script", "style", "head"}

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.title = ""
        self._skip = 0
        self._heading: list[str] | None = None

    def start(self, tag: str, attrs: dict) -> None:
        tag = tag.rpartition("}")[2].lower()
        if tag in self.SKIPPED:
            self._skip += 1
        elif tag in ("h1", "h2") and not self.title:
            self._heading = []
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def end(self, tag: str) -> None:
        tag = tag.rpartition("}")[2].lower()
        if tag in self.SKIPPED:
            self._skip = max(0, self._skip - 1)
        elif tag in ("h1", "h2") and self._heading is not None:
            self.title, self._heading = " ".join("".join(self._heading).split()), None
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)
            if self._heading is not None:
                self._heading.append(data)

    def close(self) -> str:
        paragraphs = (" ".join(p.split()) for p in "".join(self.parts).split("\n\n"))
        return "\n\n".join(p for p in paragraphs if p)


_NAMED_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]{0,31});")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}


def _numeric_entities(xhtml: str) -> str:
    """HTML named entities (`&nbsp;`) as numeric references: XML without a DTD knows only its five."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        code = html.entities.name2codepoint.get(name)
        return m.group(0) if name in _XML_ENTITIES or code is None else f"&#{code};"

    return _NAMED_ENTITY.sub(sub, xhtml)


def xhtml_text(xhtml: str) -> tuple[str, str]:
    """(title, text) of an XHTML document; BadSource when it is not well-formed XML."""
    target = _XhtmlText()
    parser = DefusedXMLParser(target=target)
    try:
        parser.feed(_numeric_entities(xhtml))
        text = parser.close()
    except (ElementTree.ParseError, DefusedXmlException) as exc:
        line = getattr(exc, "position", (None,))[0]
        where = f" (line {line})" if line else ""
        raise BadSource(f"file: an EPUB chapter is not well-formed XHTML{where}") from None
    return target.title, text


_ZIP_ERRORS: tuple[tuple[type[BaseException], str], ...] = (
    (NotImplementedError, "an entry uses an unsupported compression method (allowed: stored, deflate, bzip2, lzma)"),
    (RuntimeError, "an entry is encrypted (DRM-protected EPUBs are not supported)"),
    (zlib.error, "an entry's compressed data is corrupt"),
    (EOFError, "an entry's compressed data is truncated"),
    (zipfile.BadZipFile, "the zip archive is damaged (bad header or CRC)"),
)


def _epub(data: bytes, max_chars: int | None) -> Document:
    try:
        return _epub_chapters(data, max_chars)
    except (BadSource, TextTooLong):
        raise
    except tuple(kind for kind, _ in _ZIP_ERRORS) as exc:
        problem = next(text for kind, text in _ZIP_ERRORS if isinstance(exc, kind))
        raise BadSource(f"file: not a readable EPUB: {problem}") from None
    except (KeyError, StopIteration, ElementTree.ParseError, DefusedXmlException, ValueError):
        raise BadSource(
            "file: not a readable EPUB; upload an .epub (zip with META-INF/container.xml naming an OPF package)"
        ) from None


def _epub_chapters(data: bytes, max_chars: int | None) -> Document:
    book = zipfile.ZipFile(io.BytesIO(data))
    infos = book.infolist()
    if len(infos) > EPUB_MAX_FILES or sum(i.file_size for i in infos) > EPUB_MAX_UNPACKED:
        raise BadSource(
            f"file: EPUB too large when unpacked (over {EPUB_MAX_UNPACKED} bytes or {EPUB_MAX_FILES} files)"
        )
    container = ElementTree.fromstring(_read_package(book, "META-INF/container.xml"))
    opf_path = next(e.get("full-path") for e in container.iter() if e.tag.endswith("rootfile"))
    opf = ElementTree.fromstring(_read_package(book, opf_path))
    manifest = {e.get("id"): e.get("href") for e in opf.iter() if e.tag.endswith("}item") or e.tag == "item"}
    spine = [e.get("idref") for e in opf.iter() if e.tag.endswith("itemref") or e.tag == "itemref"]
    if len(spine) > EPUB_MAX_SPINE:
        raise BadSource(f"file: the EPUB's spine has {len(spine)} entries; at most {EPUB_MAX_SPINE} are read")
    base = posixpath.dirname(opf_path)
    sizes = {i.filename: i.file_size for i in infos}
    # Issue 23 (finding 4): a spine naming one 1 MiB chapter 3,000 times cost 3 GB and a minute of CPU before
    # the size check. Each file is read at most once, and text and markup are counted as the spine is expanded.
    paths = dict.fromkeys(posixpath.normpath(posixpath.join(base, manifest[i])) for i in spine if manifest.get(i))
    markup_budget = EPUB_MARKUP_RATIO * max_chars if max_chars is not None else None
    chapters, chars, markup = [], 0, 0
    for path in (p for p in paths if p in sizes):
        markup += sizes[path]  # zipfile never inflates an entry past its declared size
        if markup_budget is not None and markup > markup_budget:
            raise TextTooLong(f"file: the EPUB's chapters exceed {markup_budget} bytes of XHTML (TTS_JOB_MAX_CHARS)")
        raw = book.read(path)
        title, text = xhtml_text(raw.decode("utf-8", "replace"))
        chars += len(text)
        if max_chars is not None and chars > max_chars:
            raise TextTooLong(f"file: the EPUB holds over {max_chars} characters of text (TTS_JOB_MAX_CHARS)")
        if text:
            chapters.append(SourceChapter(title, text))
    if not chapters:
        raise BadSource("file: the EPUB has no readable text in its spine")
    return Document(chapters, *opf_metadata(opf))


def _read_package(book: zipfile.ZipFile, name: str) -> bytes:
    """An EPUB's container or package document, refused from its declared size before it is inflated."""
    if book.getinfo(name).file_size > EPUB_MAX_PACKAGE_BYTES:
        raise BadSource(f"file: the EPUB's package documents exceed {EPUB_MAX_PACKAGE_BYTES} bytes")
    return book.read(name)
