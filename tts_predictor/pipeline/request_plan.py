"""Planning one request text: SSML and normalization into segments, optionally one per sentence (streams).

The one planning function of every path: whole responses (`stages.plan`), streams and the WebSocket
(`stream.plan_segments`), jobs per chunk. It refuses a text that leaves nothing to speak or pause (400).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from kserve.errors import InvalidInput

from tts_predictor import metrics, tracing
from tts_predictor.audio import post
from tts_predictor.errors import UnsupportedOption
from tts_predictor.pipeline.voice_choice import choose_voices, detection
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.text.plan import lexicon_names, plan_text
from tts_predictor.text.segments import Segment
from tts_predictor.text.split import split_sentences
from tts_predictor.voices.catalog import VoiceCatalog

NOTHING_TO_SPEAK = "text: nothing to speak after SSML parsing and normalization"
GENDER_NEEDS_VOICES = (
    "ssml: <voice gender> needs the voice list, which a transformer does not hold; name the voice "
    "(<voice name>) or send the request to the predictor"
)


def plan_request(
    text: str,
    params: SynthesisParameters,
    language: str,
    *,
    sentences: bool = False,
    beds_dir: str | None = None,
    catalog: VoiceCatalog | None = None,
) -> list[Segment]:
    """The segments of one request text.

    Args:
        text: Plain text or SSML.
        params: The validated request parameters (ssml, normalize, lexicons, language, bed).
        language: Language for normalization and splitting when neither params nor SSML name one.
        sentences: One segment per sentence (streams send audio sentence by sentence).
        beds_dir: Where stored beds live: an unknown bed is a 400 before any synthesis.
        catalog: The served voices: without a `language`, each sentence's language is detected among theirs and
            spans get the voice that speaks them (`voice_choice`); None (the transformer) plans without.

    Raises:
        InvalidInput: bad SSML, an unknown lexicon or bed, or nothing left to speak or pause.
    """
    lang = params.language or language
    with metrics.STAGE.labels("text").time(), tracing.span("tts.text"):
        planned = plan_text(
            text,
            language=lang,
            ssml=params.ssml,
            normalize=params.normalize,
            lexicons=lexicon_names(params.lexicons),
            detect=detection(params, catalog),
        )
        segments = [s for p in planned for s in split_segment(p, lang)] if sentences else list(planned)
        if catalog is not None:
            segments = choose_voices(segments, params, catalog)
        elif any(s.gender and not s.voice for s in segments):  # the transformer: the voices are the predictor's
            raise UnsupportedOption(GENDER_NEEDS_VOICES)
    if not any(s.text.strip() or s.pause_before_s or s.pause_after_s for s in segments):
        raise InvalidInput(NOTHING_TO_SPEAK)
    if params.language:  # the asked tag (en-GB) stays on each segment: timings say which conventions were read
        segments = [s if s.language else replace(s, language=params.language) for s in segments]
    post.check_bed(params, beds_dir)
    metrics.note_text(" ".join(s.text.strip() for s in segments if s.text.strip()))
    return segments


def split_segment(segment: Segment, language: str) -> Iterator[Segment]:
    """One planned segment as sentence segments (mark and pause-before on the first, pause-after on the last)."""
    if not segment.text.strip():
        yield segment
        return
    parts = split_sentences(segment.text, segment.language or language) or [segment.text]
    for i, part in enumerate(parts):
        first, last = i == 0, i == len(parts) - 1
        yield replace(
            segment,
            text=part,
            mark=segment.mark if first else None,
            pause_before_s=segment.pause_before_s if first else 0.0,
            pause_after_s=segment.pause_after_s if last else 0.0,
        )
