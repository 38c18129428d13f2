"""EPUB title and author (OPF dc:title / dc:creator) and the download file names made from them: read safely from
hostile packages (huge, deeply nested, control characters), bounded, and turned into RFC 6266 file names."""

from __future__ import annotations

import time
from urllib.parse import unquote

import pytest
from epub_builders import epub, xhtml

from tts_predictor.errors import BadSource
from tts_predictor.jobs.metadata import MAX_META_CHARS, content_disposition, download_name
from tts_predictor.jobs.sources import read_document

BODY = {"c.xhtml": xhtml("<p>Some text.</p>")}


def _book(metadata: str, **kwargs) -> bytes:
    return epub(BODY, ["c.xhtml"], metadata=metadata, **kwargs)


def test_title_and_creators_are_read():
    document = read_document(
        "epub",
        _book(
            "<dc:title>  Moby-Dick;\n or, The Whale </dc:title><dc:title>Second title</dc:title>"
            "<dc:creator>Herman Melville</dc:creator><dc:creator>A. N. Editor</dc:creator>"
            "<dc:creator>Herman Melville</dc:creator>"
        ),
        1000,
    )
    assert document.title == "Moby-Dick; or, The Whale"
    assert document.author == "Herman Melville, A. N. Editor"
    assert [c.text for c in document.chapters] == ["Some text."]


def test_missing_metadata_is_none_and_text_sources_have_none():
    assert read_document("epub", _book(""), 1000).title is None
    assert read_document("epub", _book("<dc:title> </dc:title>"), 1000).author is None
    text = read_document("text", "Hello there.", 1000)
    assert (text.title, text.author) == (None, None)


def test_huge_title_and_control_characters_are_bounded_and_dropped():
    document = read_document(
        "epub", _book(f"<dc:title>A\u202e\u200bB{'x' * 100_000}</dc:title><dc:creator>Z\u009b31m\tY</dc:creator>"), 1000
    )
    assert document.title is not None and len(document.title) == MAX_META_CHARS
    assert document.title.startswith("ABxx")  # the bidi override and the zero-width space are gone
    assert document.author == "Z31m Y"  # the C1 escape (CSI) is gone, the tab is a space


def test_deeply_nested_metadata_is_read_in_bounded_time():
    deep = "<x>" * 50_000 + "deep" + "</x>" * 50_000
    start = time.perf_counter()
    try:
        document = read_document("epub", _book(f"<dc:title>T{deep}</dc:title>"), 1000)
        result = document.title
    except BadSource as exc:  # expat may refuse the depth: a 400, never a crash
        result = str(exc.reason)
    assert time.perf_counter() - start < 5.0 and result


def test_oversized_package_document_is_refused_before_parsing():
    with pytest.raises(BadSource, match="package documents exceed"):
        read_document("epub", _book("<dc:title>T</dc:title>", opf_padding=5 * 2**20), 1000)


@pytest.mark.parametrize(
    ("title", "ascii_name", "unicode_name"),
    [
        ("Moby-Dick; or, The Whale", "Moby-Dick-or-The-Whale.mp3", "Moby-Dick; or, The Whale.mp3"),
        ("Les Misérables", "Les-Miserables.mp3", "Les Misérables.mp3"),
        ("../../etc/passwd", "etc-passwd.mp3", ".._.._etc_passwd.mp3"),
        ('a"b\r\nContent-Type: x', "a-b-Content-Type-x.mp3", "a_b Content-Type: x.mp3"),
        ("東京物語", "job_1.mp3", "東京物語.mp3"),
        (None, "job_1.mp3", "job_1.mp3"),
    ],
)
def test_download_names_are_safe(title, ascii_name, unicode_name):
    assert download_name(title, "job_1", ".mp3") == (ascii_name, unicode_name)
    header = content_disposition(title, "job_1", ".mp3")
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert header.startswith(f'attachment; filename="{ascii_name}"')
    if unicode_name != ascii_name:
        assert unquote(header.split("filename*=UTF-8''", 1)[1]) == unicode_name
    else:
        assert "filename*" not in header
