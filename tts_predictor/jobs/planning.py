"""Chunk plan of a job: chapters -> planned segments -> chunks of whole segments (what is persisted as one unit).

Chunks are cut only between the segments the one-request pipeline would make, so the joined chunk audio is the
audio of the same text synthesized in one go.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from tts_predictor.errors import FieldError
from tts_predictor.jobs.records import Chapter
from tts_predictor.jobs.sources import SourceChapter
from tts_predictor.pipeline.request_plan import NOTHING_TO_SPEAK
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.text.plan import CHUNK_CHARS, lexicon_names, plan_text
from tts_predictor.text.segments import Segment

MP3_MAX_CHAPTERS = 255
"""An ID3v2 CTOC frame counts its entries in one byte."""
CHUNK_PAUSE_S = 60.0
"""Most planned silence per chunk: a chunk's audio (held whole while it is synthesized and encoded) stays bounded
however many breaks the text holds (SSML adds consecutive breaks into one pause: 2000 x 10 s on one segment)."""


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
    """Chunks of segments (a chunk never spans two chapters) and each chapter's chunk range.

    A chunk holds at most `chunk_chars` characters (or one longer segment) and `CHUNK_PAUSE_S` of planned silence;
    a chapter that speaks nothing and pauses nothing (only marks) gets no chunk and no chapter mark."""
    chunks: list[list[Segment]] = []
    marks: list[Chapter] = []
    for number, chapter in enumerate(chapters, start=1):
        first = len(chunks)
        current: list[Segment] = []
        size, pause = 0, 0.0
        planned = plan_text(
            chapter.text,
            language=language,
            ssml=ssml,
            normalize=normalize,
            chunk_chars=segment_chars,
            lexicons=lexicons,
        )
        for segment in (piece for s in planned for piece in _split_pauses(s)):
            seconds = segment.pause_before_s + segment.pause_after_s
            full = size + len(segment.text) > chunk_chars or pause + seconds > CHUNK_PAUSE_S
            if current and full and audible([segment]):  # a lone mark stays with what precedes it
                chunks.append(current)
                current, size, pause = [], 0, 0.0
            current.append(segment)
            size, pause = size + len(segment.text), pause + seconds
        if current and audible(current):
            chunks.append(current)
        elif current and len(chunks) > first:
            chunks[-1] += current
        if len(chunks) > first:
            marks.append(Chapter(chapter.title or f"Chapter {number}", first, len(chunks)))
    return chunks, marks


def _split_pauses(segment: Segment) -> list[Segment]:
    """The segment with any pause longer than `CHUNK_PAUSE_S / 2` moved into pure-pause segments of at most that."""
    piece = CHUNK_PAUSE_S / 2
    if segment.pause_before_s <= piece and segment.pause_after_s <= piece:
        return [segment]
    before = [Segment(pause_after_s=s) for s in _pieces(segment.pause_before_s, piece)]
    after = [Segment(pause_after_s=s) for s in _pieces(segment.pause_after_s, piece)]
    return [*before, replace(segment, pause_before_s=0.0, pause_after_s=0.0), *after]


def _pieces(total: float, piece: float) -> list[float]:
    out = [piece] * int(total // piece)
    rest = total - piece * len(out)
    return out + [rest] if rest > 1e-9 else out


def audible(segments: list[Segment]) -> bool:
    """Whether the segments make any sound (speech or a pause); marks alone make none."""
    return any(s.text.strip() or s.pause_before_s or s.pause_after_s for s in segments)


def spoken_segments(chunks: list[list[Segment]]) -> int:
    """Segments that speak (the job's sentences, the progress unit beside characters)."""
    return sum(1 for chunk in chunks for s in chunk if s.text.strip())


def planned_pause_s(chunks: list[list[Segment]]) -> float:
    """Seconds of planned silence (breaks, paragraph pauses) in a job's chunks."""
    return sum(s.pause_before_s + s.pause_after_s for chunk in chunks for s in chunk)


def dump_chunk(segments: list[Segment]) -> list[dict[str, Any]]:
    """JSON form of a chunk."""
    return [asdict(s) for s in segments]


def stored_plan(chunks: list[list[Segment]], marks: list[Chapter]) -> dict[str, Any]:
    """The plan as the store keeps it (`JobStore.set_plan`)."""
    return {"chunks": [dump_chunk(c) for c in chunks], "chapters": [asdict(m) for m in marks]}


def load_chunk(data: list[dict[str, Any]]) -> list[Segment]:
    """Inverse of `dump_chunk`."""
    return [Segment(**s) for s in data]


def chunk_chars(segments: list[Segment]) -> int:
    """Spoken characters of a chunk (progress unit)."""
    return sum(len(s.text) for s in segments)


def plan_job(
    chapters: list[SourceChapter], params: SynthesisParameters, language: str, settings: Any
) -> tuple[list[list[Segment]], list[Chapter]]:
    """`plan_chunks` with a job's options and the process's chunk sizes (the same plan at submission and in a worker).

    Args:
        chapters: the job's source chapters.
        params: the job's synthesis parameters.
        language: the voice's language (used when the request names none).
        settings: the process settings (TTS_JOB_CHUNK_CHARS, TTS_JOB_SEGMENT_CHARS).
    """
    return plan_chunks(
        chapters,
        language=params.language or language,
        ssml=params.ssml,
        normalize=params.normalize,
        chunk_chars=settings.job_chunk_chars,
        segment_chars=settings.job_segment_chars,
        lexicons=lexicon_names(params.lexicons),
    )


def check_plan(
    chunks: list[list[Segment]],
    marks: list[Chapter],
    params: SynthesisParameters,
    settings: Any,
    field: str = "text",
) -> None:
    """Refuse a plan that speaks nothing, pauses longer than TTS_JOB_MAX_AUDIO_S or has too many chapters.

    Args:
        field: the request field holding the source (text, ssml, markdown, file), named in the errors.

    Raises:
        FieldError: naming `field` (nothing to speak, pauses, chapters) or `options.format` (MP3 chapters); a 400.
    """
    if not chunks:
        raise FieldError(field, f"{field}: {NOTHING_TO_SPEAK.removeprefix('text: ')}")
    pauses = planned_pause_s(chunks)
    if pauses > settings.job_max_audio_s:
        raise FieldError(
            field,
            f"{field}: {pauses:.0f} s of planned pauses alone exceed the job audio limit of "
            f"{settings.job_max_audio_s:.0f} s (TTS_JOB_MAX_AUDIO_S)",
        )
    if len(marks) > settings.job_max_chapters:
        raise FieldError(
            field,
            f"{field}: {len(marks)} chapters; the limit is {settings.job_max_chapters} (TTS_JOB_MAX_CHAPTERS)",
        )
    if params.format == "mp3" and len(marks) > MP3_MAX_CHAPTERS:
        raise FieldError(
            "options.format",
            f"options.format: an MP3 result holds at most {MP3_MAX_CHAPTERS} chapters (ID3 table of contents); "
            f"this job has {len(marks)}: use another format or fewer headings",
        )
