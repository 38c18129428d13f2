"""Job sources under attack (issue 23): Markdown ReDoS (finding 2), EPUB spine amplification (finding 4), malformed
EPUB zips and XHTML (low), each a 400/413-class error in bounded time, never a 500 or a freeze."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from tts_predictor.errors import TextTooLong
from tts_predictor.jobs.sources import BadSource, chapters_of

CONTAINER = (
    '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
    '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
    "</container>"
)


def epub(chapters: dict[str, str], spine: list[str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """An EPUB holding `chapters` (file name -> XHTML) read in `spine` order (file names, repeats allowed)."""
    ids = {name: f"c{i}" for i, name in enumerate(chapters)}
    manifest = "".join(f'<item id="{ids[n]}" href="{n}" media-type="application/xhtml+xml"/>' for n in chapters)
    refs = "".join(f'<itemref idref="{ids[n]}"/>' for n in spine)
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        f"<manifest>{manifest}</manifest><spine>{refs}</spine></package>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as book:
        book.writestr("mimetype", "application/epub+zip")
        book.writestr("META-INF/container.xml", CONTAINER)
        book.writestr("OEBPS/content.opf", opf)
        for name, xhtml in chapters.items():
            book.writestr(f"OEBPS/{name}", xhtml)
    return out.getvalue()


def xhtml(body: str) -> str:
    return f'<html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><body>{body}</body></html>'


def _timed(fn, *args):
    start = time.perf_counter()
    try:
        return fn(*args), time.perf_counter() - start
    except (BadSource, TextTooLong) as exc:
        return exc, time.perf_counter() - start


# -- finding 2: Markdown ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "markdown",
    [
        "# a" + " " * 20_000 + "b",  # 2 KB of this froze the process 12.7 s
        "*a " * 20_000,  # froze it 17 s
        "_a " * 20_000,
        "[" * 20_000,
        "![" * 20_000,
        ">" * 20_000 + " deep",
        "".join("  " * i + "- x\n" for i in range(300)),
        "`" * 20_000 + "x",
    ],
    ids=["heading-spaces", "stars", "underscores", "brackets", "images", "quotes", "nested-list", "backticks"],
)
def test_markdown_parsing_is_linear_on_redos_inputs(markdown):
    """Issue 23 finding 2: hostile Markdown of 20-60 KB parses in well under a second (was cubic/quadratic)."""
    _, seconds = _timed(chapters_of, "markdown", markdown, 1_000_000)
    assert seconds < 2.0, seconds


def test_markdown_over_the_limit_is_refused_before_parsing(monkeypatch):
    """Issue 23 finding 2: the size is checked before the parser runs (it was checked after, on 32 MiB bodies)."""
    import tts_predictor.jobs.sources as sources

    monkeypatch.setattr(sources, "markdown_chapters", lambda text: pytest.fail("parsed before the size check"))
    with pytest.raises(TextTooLong, match="limit is 1000"):
        chapters_of("markdown", "*a " * 1000, 1000)


def test_markdown_chapters_keep_reading_text():
    chapters = chapters_of(
        "markdown", "Intro [link](http://x) ![alt](i.png)\n\n```\ncode()\n```\n# One\n### Sub\n- a\n"
    )
    assert [(c.title, c.text) for c in chapters] == [("", "Intro link alt"), ("One", "One.\n\nSub.\n\na")]


# -- finding 4: EPUB spine amplification -----------------------------------------------------------------------
def test_epub_spine_repeating_one_chapter_is_refused_quickly():
    """Issue 23 finding 4: one 1 MiB chapter named 3,000 times in the spine cost 3 GB and 57 s; now each file is
    read once and text is counted as the spine expands."""
    big = xhtml("<p>" + "word " * 200_000 + "</p>")
    data = epub({"big.xhtml": big}, ["big.xhtml"] * 3000)
    result, seconds = _timed(chapters_of, "epub", data, 1_000_000)
    assert not isinstance(result, Exception) and len(result) == 1, result  # read once, not 3,000 times
    assert seconds < 5.0, seconds


def test_epub_text_over_the_limit_stops_at_the_limit():
    data = epub(
        {f"c{i}.xhtml": xhtml("<p>" + "word " * 2000 + "</p>") for i in range(50)}, [f"c{i}.xhtml" for i in range(50)]
    )
    with pytest.raises(TextTooLong, match="over 20000 characters"):
        chapters_of("epub", data, 20_000)


def test_epub_markup_budget_is_checked_before_reading():
    data = epub({"tags.xhtml": xhtml("<b></b>" * 200_000)}, ["tags.xhtml"])
    with pytest.raises(TextTooLong, match="bytes of XHTML"):
        chapters_of("epub", data, 10_000)


def test_epub_xhtml_parsing_is_linear():
    """html.parser took 20 s on 160 KB of `<a`; the expat parser refuses it at once."""
    data = epub({"lt.xhtml": "<a" * 80_000}, ["lt.xhtml"])
    result, seconds = _timed(chapters_of, "epub", data, 1_000_000)
    assert isinstance(result, BadSource) and seconds < 1.0, (result, seconds)


def test_epub_named_html_entities_and_titles():
    data = epub(
        {"c.xhtml": xhtml("<h1>Caf&eacute;</h1><p>one&nbsp;two &amp; three</p><script>x()</script>")}, ["c.xhtml"]
    )
    (chapter,) = chapters_of("epub", data, 1000)
    assert chapter.title == "Café" and chapter.text == "Café\n\none two & three"


# -- low: malformed EPUBs are 400s naming the problem, never echoing the upload ---------------------------------
def _corrupt(data: bytes, name: str, flip: int) -> bytes:
    """`data` with one byte of entry `name`'s compressed data changed."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        info = book.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    out = bytearray(data)
    out[start + flip] ^= 0xFF
    return bytes(out)


def _method(data: bytes, name: str, method: int, flags: int = 0) -> bytes:
    """`data` with entry `name`'s compression method (and general flags) changed in both headers."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        info = book.getinfo(name)
    local = info.header_offset
    out[local + 6 : local + 10] = (flags | info.flag_bits).to_bytes(2, "little") + method.to_bytes(2, "little")
    pos = 0
    while (pos := data.find(b"PK\x01\x02", pos)) >= 0:
        if data[pos + 46 : pos + 46 + len(name)] == name.encode():
            out[pos + 8 : pos + 12] = (flags | info.flag_bits).to_bytes(2, "little") + method.to_bytes(2, "little")
        pos += 4
    return bytes(out)


SECRET = "SECRET-UPLOAD-MARKER"
GOOD = epub({"c.xhtml": xhtml(f"<p>{SECRET} " + "text " * 200 + "</p>")}, ["c.xhtml"])


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (_method(GOOD, "OEBPS/c.xhtml", 6), "unsupported compression"),  # implode
        (_method(GOOD, "OEBPS/c.xhtml", 8, flags=0x1), "encrypted"),
        (_corrupt(GOOD, "OEBPS/c.xhtml", 5), "corrupt|damaged|truncated"),
        (_corrupt(epub({"c.xhtml": xhtml("x")}, ["c.xhtml"], zipfile.ZIP_STORED), "OEBPS/c.xhtml", 3), "damaged"),
        (epub({"c.xhtml": f"<p>{SECRET}<![ x"}, ["c.xhtml"]), "not well-formed XHTML"),
        (b"PK\x03\x04" + SECRET.encode(), "not a readable EPUB"),
    ],
    ids=["implode", "encrypted", "corrupt-deflate", "bad-crc", "marked-section", "truncated-zip"],
)
def test_malformed_epubs_are_bad_source_without_echo(data, problem):
    with pytest.raises(BadSource, match=problem) as caught:
        chapters_of("epub", data, 1_000_000)
    assert SECRET not in str(caught.value.reason) and "<![" not in str(caught.value.reason)
