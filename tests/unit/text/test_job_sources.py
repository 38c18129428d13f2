"""Job sources under attack (issue 23): Markdown ReDoS (finding 2), EPUB spine amplification (finding 4), malformed
EPUB zips and XHTML (low), each a 400/413-class error in bounded time, never a 500 or a freeze."""

from __future__ import annotations

import time
import zipfile

import pytest
from epub_builders import GOOD, SECRET, corrupt, epub, with_method, xhtml
from kserve.errors import InvalidInput

from tts_predictor.errors import TextTooLong
from tts_predictor.jobs.sources import BadSource, chapters_of


def _timed(fn, *args):
    start = time.perf_counter()
    try:
        return fn(*args), time.perf_counter() - start
    except (BadSource, TextTooLong) as exc:
        return exc, time.perf_counter() - start


# -- finding 2: Markdown ---------------------------------------------------------------------------------------
MARKDOWN_ATTACKS = {
    "heading-spaces": lambda n: "# a" + " " * n + "b",  # 2 KB of this froze the process for 12.7 s
    "stars": lambda n: "*a " * n,  # 60 KB froze it for 17 s
    "underscores": lambda n: "_a " * n,
    "brackets": lambda n: "[" * n,
    "images": lambda n: "![" * n,
    "quotes": lambda n: ">" * n + " deep",
    "nested-list": lambda n: "".join("  " * (i % 40) + "- x\n" for i in range(n // 10)),
    "backticks": lambda n: "`" * n + "x",
}


@pytest.mark.parametrize("attack", MARKDOWN_ATTACKS.values(), ids=MARKDOWN_ATTACKS.keys())
def test_markdown_parsing_is_linear_on_redos_inputs(attack):
    """Issue 23 finding 2: hostile Markdown parses in time linear in its size (it was cubic/quadratic): 4x the
    input costs well under 16x the time, and 20,000 units stay far below the former seconds per 2 KB."""
    _, small = _timed(chapters_of, "markdown", attack(5000), 1_000_000)
    _, large = _timed(chapters_of, "markdown", attack(20_000), 1_000_000)
    assert large < 10 * small + 0.5 and large < 8.0, (small, large)


def test_markdown_over_the_limit_is_refused_before_parsing(monkeypatch):
    """Issue 23 finding 2: the size is checked before the parser runs (it was checked after, on 32 MiB bodies)."""
    import tts_predictor.jobs.sources as sources

    monkeypatch.setattr(sources, "markdown_chapters", lambda text: pytest.fail("parsed before the size check"))
    with pytest.raises(TextTooLong, match="limit is 1000"):
        chapters_of("markdown", "*a " * 1000, 1000)


def test_unspeakable_sources_are_refused_at_submission():
    """Own attack after issue 23: a Markdown job with a lone surrogate was accepted (202) and failed later."""
    with pytest.raises(InvalidInput, match="surrogate"):
        chapters_of("markdown", "# T\n\na\ud800b", 1000)


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


def test_epub_spine_and_package_sizes_are_bounded():
    """Own attack after issue 23: a 21 KB EPUB whose spine names a chapter 400,000 times cost 8 s (a 200 MiB
    package document would have cost gigabytes as a tree); both are now refused from counts and declared sizes."""
    with pytest.raises(BadSource, match="spine has 100000 entries"):
        chapters_of("epub", epub({"c.xhtml": xhtml("<p>x</p>")}, ["c.xhtml"] * 100_000), 1_000_000)
    big_opf = epub({"c.xhtml": xhtml("<p>x</p>")}, ["c.xhtml"], opf_padding=5 * 2**20)
    with pytest.raises(BadSource, match="package documents exceed"):
        chapters_of("epub", big_opf, 1_000_000)


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
@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (with_method(GOOD, "OEBPS/c.xhtml", 6), "unsupported compression"),  # implode
        (with_method(GOOD, "OEBPS/c.xhtml", 8, flags=0x1), "encrypted"),
        (corrupt(GOOD, "OEBPS/c.xhtml", 5), "corrupt|damaged|truncated"),
        (corrupt(epub({"c.xhtml": xhtml("x")}, ["c.xhtml"], zipfile.ZIP_STORED), "OEBPS/c.xhtml", 3), "damaged"),
        (epub({"c.xhtml": f"<p>{SECRET}<![ x"}, ["c.xhtml"]), "not well-formed XHTML"),
        (b"PK\x03\x04" + SECRET.encode(), "not a readable EPUB"),
    ],
    ids=["implode", "encrypted", "corrupt-deflate", "bad-crc", "marked-section", "truncated-zip"],
)
def test_malformed_epubs_are_bad_source_without_echo(data, problem):
    with pytest.raises(BadSource, match=problem) as caught:
        chapters_of("epub", data, 1_000_000)
    assert SECRET not in str(caught.value.reason) and "<![" not in str(caught.value.reason)
