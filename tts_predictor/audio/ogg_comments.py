"""Vorbis comments in an Ogg Opus file, rewritten in place (no process, no re-encoding).

RFC 7845 §3 makes the OpusTags packet (the comment header) end its page, so only its page(s) change: the new
packet is written as one page with the same sequence number when the old one held it in one page (what
libsndfile writes), and the audio pages after it are kept byte for byte.
"""

from __future__ import annotations

import struct

_CAPTURE = b"OggS"
_HEADER = struct.Struct("<4sBBqIIIB")  # capture, version, flags, granule, serial, sequence, crc, segments
_MAX_ONE_PAGE = 255 * 255 - 1


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
        table.append(crc & 0xFFFFFFFF)
    return table


_TABLE = _crc_table()


def ogg_crc(page: bytes) -> int:
    """Ogg's CRC-32 (polynomial 0x04C11DB7, no reflection, initial 0) of a page whose CRC field is zero."""
    crc = 0
    for byte in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _TABLE[(crc >> 24) ^ byte]
    return crc


def _page_at(data: bytes, pos: int) -> tuple[tuple, bytes, int]:
    """(header fields, lacing values, end offset) of the page starting at `pos`."""
    if data[pos : pos + 4] != _CAPTURE:
        raise ValueError("not an Ogg page")
    fields = _HEADER.unpack_from(data, pos)
    lacing = data[pos + _HEADER.size : pos + _HEADER.size + fields[7]]
    return fields, lacing, pos + _HEADER.size + fields[7] + sum(lacing)


def _tags_packet(vendor: bytes, comments: list[bytes]) -> bytes:
    out = [b"OpusTags", struct.pack("<I", len(vendor)), vendor, struct.pack("<I", len(comments))]
    for comment in comments:
        out += [struct.pack("<I", len(comment)), comment]
    return b"".join(out)


def _parse_tags(packet: bytes) -> tuple[bytes, list[bytes]]:
    (vendor_len,) = struct.unpack_from("<I", packet, 8)
    vendor = packet[12 : 12 + vendor_len]
    pos = 12 + vendor_len
    (count,) = struct.unpack_from("<I", packet, pos)
    pos += 4
    comments = []
    for _ in range(count):
        (size,) = struct.unpack_from("<I", packet, pos)
        comments.append(packet[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return vendor, comments


def with_opus_comments(data: bytes, values: dict[str, str]) -> bytes | None:
    """`data` (a whole Ogg Opus file) with `values` as its comments (replacing the same keys), or None when the
    file is not laid out as expected (the caller then keeps or remuxes it)."""
    try:
        _head, _lacing, tags_start = _page_at(data, 0)
        fields, lacing, tags_end = _page_at(data, tags_start)
    except (ValueError, struct.error):
        return None
    body = data[tags_end - sum(lacing) : tags_end]
    if not body.startswith(b"OpusTags") or not lacing or lacing[-1] == 255:
        return None  # the comment header spans pages: leave it to the remux
    vendor, comments = _parse_tags(body)
    keys = {key.upper().encode() for key in values}
    kept = [c for c in comments if c.split(b"=", 1)[0].upper() not in keys]
    packet = _tags_packet(vendor, kept + [f"{k}={v}".encode() for k, v in values.items()])
    if len(packet) > _MAX_ONE_PAGE:
        return None
    new_lacing = bytes([255] * (len(packet) // 255) + [len(packet) % 255])
    capture, version, flags, granule, serial, sequence, _crc, _n = fields
    page = bytearray(_HEADER.pack(capture, version, flags, granule, serial, sequence, 0, len(new_lacing)))
    page += new_lacing + packet
    struct.pack_into("<I", page, 22, ogg_crc(bytes(page)))
    return data[:tags_start] + bytes(page) + data[tags_end:]
