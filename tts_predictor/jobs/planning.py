"""Chunk plan of a job: chapters -> planned segments -> chunks of whole segments (what is persisted as one unit).

Chunks are cut only between the segments the one-request pipeline would make, so the joined chunk audio is the
audio of the same text synthesized in one go.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from tts_predictor.jobs.records import Chapter
from tts_predictor.jobs.sources import SourceChapter
from tts_predictor.text.plan import CHUNK_CHARS, plan_text
from tts_predictor.text.segments import Segment


def plan_chunks(
    chapters: list[SourceChapter],
    *,
    language: str,
    ssml: bool | None,
    normalize: bool,
    chunk_chars: int,
    segment_chars: int = CHUNK_CHARS,
    lexicons: list[str] | None = None,
) -> tuple[list[list[Segment]], list[Chapter]]:
    """Chunks of segments (a chunk never spans two chapters) and each chapter's chunk range."""
    chunks: list[list[Segment]] = []
    marks: list[Chapter] = []
    for number, chapter in enumerate(chapters, start=1):
        first = len(chunks)
        current: list[Segment] = []
        size = 0
        for segment in plan_text(
            chapter.text,
            language=language,
            ssml=ssml,
            normalize=normalize,
            chunk_chars=segment_chars,
            lexicons=lexicons,
        ):
            if current and size + len(segment.text) > chunk_chars:
                chunks.append(current)
                current, size = [], 0
            current.append(segment)
            size += len(segment.text)
        if current:
            chunks.append(current)
        if len(chunks) > first:
            marks.append(Chapter(chapter.title or f"Chapter {number}", first, len(chunks)))
    return chunks, marks


def dump_chunk(segments: list[Segment]) -> list[dict[str, Any]]:
    """JSON form of a chunk."""
    return [asdict(s) for s in segments]


def load_chunk(data: list[dict[str, Any]]) -> list[Segment]:
    """Inverse of `dump_chunk`."""
    return [Segment(**s) for s in data]


def chunk_chars(segments: list[Segment]) -> int:
    """Spoken characters of a chunk (progress unit)."""
    return sum(len(s.text) for s in segments)
