"""AI-speech provenance and chapter marks in the containers' own metadata.

WAV: LIST/INFO (ICMT, ISFT) plus `cue ` points with LIST/adtl labels for chapters; FLAC: a VORBIS_COMMENT block
(COMMENT, AI_GENERATED, CHAPTERnnn/CHAPTERnnnNAME); MP3: an ID3v2.4 tag (COMM, TXXX:AI_GENERATED, TSSE, CHAP/CTOC
frames) written here (no GPL tagging library); Ogg Opus: Vorbis comments in its OpusTags page, rewritten in place (`ogg_comments`), without chapter comments: ffmpeg 5.1 writes
wrong times for Opus (500 ms became 00:00:01.500), so Ogg results offer chapters as files only. Headerless formats (pcm, mulaw, alaw), ADTS aac and Ogg Vorbis (see TAGGED_FORMATS) carry none.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from tts_predictor.audio.credentials import SOFTWARE
from tts_predictor.audio.ogg_comments import with_opus_comments

DECLARATION = "AI-generated speech: synthetic voice produced by tts-predictor (text-to-speech)"
TAGGED_FORMATS = ("wav", "flac", "mp3", "opus")
"""Ogg Vorbis is left untagged: libsndfile encodes it, and ffmpeg's stream copy of libsndfile's Vorbis pages
(the only way to add comments here without re-encoding) breaks the file's duration (ffprobe read 194784 s for 1 s)."""


@dataclass(frozen=True)
class ChapterMark:
    """A chapter: title, start and end in seconds."""

    title: str
    start_s: float
    end_s: float


def tags(title: str | None = None, author: str | None = None) -> dict[str, str]:
    """The declaration as key/value tags (and the work's title and author, when given)."""
    return {"COMMENT": DECLARATION, "AI_GENERATED": "true", "ENCODER": SOFTWARE} | work_tags(title, author)


def work_tags(title: str | None, author: str | None) -> dict[str, str]:
    """TITLE and ARTIST tags (WAV INAM/IART, ID3 TIT2/TPE1, Vorbis TITLE/ARTIST) of the given values."""
    return {k: v for k, v in (("TITLE", title), ("ARTIST", author)) if v}


def declare(data: bytes, fmt: str, values: dict[str, str], chapters: Sequence[ChapterMark] = ()) -> bytes:
    """`data` (a complete file of `fmt`) with `values` and chapter marks in its metadata, where the format allows."""
    if fmt == "wav":
        return wav_with_metadata(data, values, chapters)
    if fmt == "flac":
        return flac_with_comments(data, values, chapters)
    if fmt == "mp3":
        return mp3_with_id3(data, values, chapters)
    if fmt == "opus":  # the OpusTags page rewritten in place; ffmpeg only for an unusual layout
        return with_opus_comments(data, values) or ogg_with_comments(data, values, ())
    return data


def declare_stream_head(head: bytes, fmt: str, values: dict[str, str]) -> bytes:
    """The first bytes of a stream of `fmt` with `values` in its metadata: an ID3 tag before mp3 frames, LIST/INFO
    before a streamed WAV's data chunk, a VORBIS_COMMENT block in FLAC's header, Opus comments in its OpusTags page.
    Unchanged when the format has no header metadata or the head does not hold the whole header."""
    try:
        if fmt == "mp3":
            return id3_tag(values, ()) + head
        if fmt == "wav":
            at = head.find(b"data", 12)
            return head if head[:4] != b"RIFF" or at < 0 else head[:at] + wav_info_chunk(values) + head[at:]
        if fmt == "flac":
            return flac_with_comments(head, values, ())
        if fmt == "opus":
            return with_opus_comments(head, values) or head
    except (IndexError, ValueError, struct.error):  # a header cut short: leave the stream as the encoder wrote it
        return head
    return head


# --- WAV ---------------------------------------------------------------------------------------------------


def _riff_chunk(cid: bytes, payload: bytes) -> bytes:
    return cid + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


def _zstr(text: str) -> bytes:
    return text.encode("utf-8") + b"\0"


def wav_info_chunk(values: dict[str, str]) -> bytes:
    """LIST/INFO (INAM title, IART artist, ICMT declaration, ISFT software, IKEY keywords), before the data chunk."""
    info_ids = {"COMMENT": b"ICMT", "ENCODER": b"ISFT", "TITLE": b"INAM", "ARTIST": b"IART"}
    info = b"".join(_riff_chunk(info_ids[k], _zstr(v)) for k, v in values.items() if k in info_ids)
    if "AI_GENERATED" in values:
        info += _riff_chunk(b"IKEY", _zstr("AI-generated speech; synthetic voice"))
    return _riff_chunk(b"LIST", b"INFO" + info) if info else b""


def wav_cue_chunks(chapters: Sequence[ChapterMark], sample_rate: int) -> bytes:
    """`cue ` points with LIST/adtl `labl` titles for chapters (appended after the data chunk)."""
    if not chapters:
        return b""
    points = b"".join(
        struct.pack("<II4sIII", i + 1, int(c.start_s * sample_rate), b"data", 0, 0, int(c.start_s * sample_rate))
        for i, c in enumerate(chapters)
    )
    labels = b"".join(_riff_chunk(b"labl", struct.pack("<I", i + 1) + _zstr(c.title)) for i, c in enumerate(chapters))
    return _riff_chunk(b"cue ", struct.pack("<I", len(chapters)) + points) + _riff_chunk(b"LIST", b"adtl" + labels)


def wav_with_metadata(data: bytes, values: dict[str, str], chapters: Sequence[ChapterMark]) -> bytes:
    """A RIFF/WAVE file (as the encoder writes it: fmt, then data) with INFO inserted before the data chunk,
    cue points appended after it, and the RIFF size fixed."""
    at = data.find(b"data", 12)
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE" or at < 0:
        return data
    rate = struct.unpack_from("<I", data, 24)[0] if data[12:16] == b"fmt " else 0
    end = min(len(data), at + 8 + struct.unpack_from("<I", data, at + 4)[0])
    body = data[:at] + wav_info_chunk(values) + data[at:end] + (b"\0" if (end - at) % 2 else b"")
    body += wav_cue_chunks(chapters, rate)
    return body[:4] + struct.pack("<I", len(body) - 8) + body[8:]


# --- FLAC --------------------------------------------------------------------------------------------------


def chapter_comments(chapters: Sequence[ChapterMark]) -> dict[str, str]:
    """The Vorbis-comment chapter extension (FLAC, Ogg): ``CHAPTER001=00:00:00.000``, ``CHAPTER001NAME=<title>``."""
    out: dict[str, str] = {}
    for i, c in enumerate(chapters, start=1):
        h, rest = divmod(c.start_s, 3600)
        m, s = divmod(rest, 60)
        out[f"CHAPTER{i:03d}"] = f"{int(h):02d}:{int(m):02d}:{s:06.3f}"
        out[f"CHAPTER{i:03d}NAME"] = c.title
    return out


def _vorbis_comments(values: dict[str, str], chapters: Sequence[ChapterMark]) -> list[str]:
    return [f"{k}={v}" for k, v in (values | chapter_comments(chapters)).items()]


def flac_with_comments(data: bytes, values: dict[str, str], chapters: Sequence[ChapterMark]) -> bytes:
    """A FLAC file whose VORBIS_COMMENT block is replaced by ours (placed right after STREAMINFO)."""
    if data[:4] != b"fLaC":
        return data
    pos, blocks, last = 4, [], False
    while not last:
        header = data[pos]
        last, kind = bool(header & 0x80), header & 0x7F
        size = int.from_bytes(data[pos + 1 : pos + 4], "big")
        if kind != 4:
            blocks.append((kind, data[pos + 4 : pos + 4 + size]))
        pos += 4 + size
    vendor = SOFTWARE.encode()
    comments = [c.encode("utf-8") for c in _vorbis_comments(values, chapters)]
    payload = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
    payload += b"".join(struct.pack("<I", len(c)) + c for c in comments)
    blocks.insert(1, (4, payload))
    out = bytearray(b"fLaC")
    for i, (kind, body) in enumerate(blocks):
        out += bytes([kind | (0x80 if i == len(blocks) - 1 else 0)]) + len(body).to_bytes(3, "big") + body
    return bytes(out) + data[pos:]


# --- MP3 (ID3v2.4) -----------------------------------------------------------------------------------------


def _syncsafe(n: int) -> bytes:
    return bytes([(n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F])


def _frame(fid: bytes, payload: bytes) -> bytes:
    return fid + _syncsafe(len(payload)) + b"\0\0" + payload


def _text_frame(fid: bytes, text: str) -> bytes:
    return _frame(fid, b"\x03" + text.encode("utf-8"))


def id3_tag(values: dict[str, str], chapters: Sequence[ChapterMark]) -> bytes:
    """An ID3v2.4 tag: TIT2, TPE1, TSSE, COMM, TXXX:AI_GENERATED, and CTOC + CHAP frames for chapters."""
    frames = b""
    if "TITLE" in values:
        frames += _text_frame(b"TIT2", values["TITLE"])
    if "ARTIST" in values:
        frames += _text_frame(b"TPE1", values["ARTIST"])
    if "ENCODER" in values:
        frames += _text_frame(b"TSSE", values["ENCODER"])
    if "COMMENT" in values:
        frames += _frame(b"COMM", b"\x03eng\0" + values["COMMENT"].encode("utf-8"))
    if "AI_GENERATED" in values:
        frames += _frame(b"TXXX", b"\x03AI_GENERATED\0" + values["AI_GENERATED"].encode())
    if chapters:
        ids = [f"ch{i}".encode() for i in range(len(chapters))]
        frames += _frame(b"CTOC", b"toc\0" + bytes([0x03, len(ids)]) + b"".join(i + b"\0" for i in ids))
        for cid, c in zip(ids, chapters):
            times = struct.pack(">IIII", int(c.start_s * 1000), int(c.end_s * 1000), 0xFFFFFFFF, 0xFFFFFFFF)
            frames += _frame(b"CHAP", cid + b"\0" + times + _text_frame(b"TIT2", c.title))
    return b"ID3\x04\x00\x00" + _syncsafe(len(frames)) + frames


def mp3_with_id3(data: bytes, values: dict[str, str], chapters: Sequence[ChapterMark]) -> bytes:
    """An MP3 whose leading ID3v2 tag (ffmpeg writes one) is replaced by ours."""
    if data[:3] == b"ID3":
        size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
        data = data[10 + size + (10 if data[5] & 0x10 else 0) :]
    return id3_tag(values, chapters) + data


# --- Ogg (ffmpeg stream copy) ------------------------------------------------------------------------------


def ffmetadata(values: dict[str, str], chapters: Sequence[ChapterMark]) -> str:
    """ffmpeg's FFMETADATA1 text: global tags and chapters in milliseconds."""

    def esc(text: str) -> str:
        return "".join("\\" + ch if ch in "=;#\\\n" else ch for ch in text)

    lines = [";FFMETADATA1", *(f"{k if k.startswith('CHAPTER') else k.lower()}={esc(v)}" for k, v in values.items())]
    for c in chapters:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={int(c.start_s * 1000)}",
            f"END={int(c.end_s * 1000)}",
            f"title={esc(c.title)}",
        ]
    return "\n".join(lines) + "\n"


def ogg_with_comments(data: bytes, values: dict[str, str], chapters: Sequence[ChapterMark]) -> bytes:
    """Remux (stream copy) with ffmpeg, adding Vorbis comments and chapters; `data` unchanged if ffmpeg fails."""
    with tempfile.TemporaryDirectory(prefix="tts-tags-") as tmp:
        src, meta, dst = (os.path.join(tmp, n) for n in ("in.ogg", "meta.txt", "out.ogg"))
        with open(src, "wb") as handle:
            handle.write(data)
        with open(meta, "w", encoding="utf-8") as handle:
            handle.write(ffmetadata(values, chapters))
        return remux(src, meta, dst, "ogg") or data


def remux(src: str, meta: str, dst: str, container: str) -> bytes | None:
    """ffmpeg -c copy with metadata and chapters from an FFMETADATA file; the bytes, or None on failure."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        return None
    command = [
        exe,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-i",
        src,
        "-i",
        meta,
        "-map",
        "0:a",
        "-map_metadata",
        "1",
        "-map_metadata:s:a",
        "1:g",
        "-map_chapters",
        "1",
        "-c",
        "copy",
        "-f",
        container,
        dst,
    ]
    if subprocess.run(command, capture_output=True, timeout=300, check=False).returncode != 0:
        return None
    with open(dst, "rb") as handle:
        return handle.read()
