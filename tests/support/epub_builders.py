"""EPUB documents built in memory for the tests: well-formed ones and ones with damaged zip entries."""

from __future__ import annotations

import io
import zipfile

CONTAINER = (
    '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
    '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
    "</container>"
)


def epub(
    chapters: dict[str, str],
    spine: list[str],
    compression: int = zipfile.ZIP_DEFLATED,
    opf_padding: int = 0,
    metadata: str = "",
) -> bytes:
    """An EPUB holding `chapters` (file name -> XHTML) read in `spine` order (file names, repeats allowed);
    `metadata` is the inside of the OPF's <metadata> element (dc: is declared)."""
    ids = {name: f"c{i}" for i, name in enumerate(chapters)}
    manifest = "".join(f'<item id="{ids[n]}" href="{n}" media-type="application/xhtml+xml"/>' for n in chapters)
    refs = "".join(f'<itemref idref="{ids[n]}"/>' for n in spine)
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">{metadata}</metadata>'
        f"<manifest>{manifest}</manifest><spine>{refs}</spine>{' ' * opf_padding}</package>"
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


def corrupt(data: bytes, name: str, flip: int) -> bytes:
    """`data` with one byte of entry `name`'s compressed data changed."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        info = book.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    out = bytearray(data)
    out[start + flip] ^= 0xFF
    return bytes(out)


def with_method(data: bytes, name: str, method: int, flags: int = 0) -> bytes:
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
