"""Normalization preview: per segment, the exact text the engine will speak and the input spans rewritten."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from tts_predictor.text.guard import check_speakable, escape_phoneme_input
from tts_predictor.text.plan import CHUNK_CHARS, speakable
from tts_predictor.text.segments import Segment
from tts_predictor.text.split import chunk_text
from tts_predictor.text.ssml import is_ssml, parse_ssml


def preview(
    text: str,
    *,
    language: str,
    ssml: bool | None = None,
    normalize: bool = True,
    voice: str | None = None,
    lexicons: list[str] | None = None,
    chunk_chars: int = CHUNK_CHARS,
) -> list[dict[str, Any]]:
    """One entry per spoken segment, as `plan_text` would synthesize it.

    Each entry has `source` (the segment's text: the request text for plain text, the text of an SSML span),
    `text` (what the engine speaks, the chunks joined), `chunks` (the engine calls), `language`, `voice`,
    `say_as` (True when an SSML ``<say-as>`` already fixed the reading), `rewrites` (normalizer spans with
    `start`/`end` offsets into `source`) and `lexicon` (PLS entries applied).
    """
    check_speakable(text)  # as planning does: lone surrogates are a 400 here too (they made the JSON answer a 500)
    use_ssml = is_ssml(text) if ssml is None else ssml
    segments = parse_ssml(text, default_language=language) if use_ssml else [Segment(text=text)]
    out = []
    for segment in segments:
        if not segment.text.strip():
            continue
        lang = segment.language or language
        spoken = speakable(
            escape_phoneme_input(segment.text),  # length-preserving: the rewrites' offsets still hold
            lang,
            normalize=normalize and segment.normalize,
            voice=segment.voice or voice,
            lexicons=lexicons,
        )
        chunks = list(chunk_text(spoken.text, lang, max_chars=chunk_chars)) or [spoken.text]
        out.append(
            {
                "source": segment.text,
                "text": " ".join(chunks),
                "chunks": chunks,
                "language": lang,
                "voice": segment.voice or voice,
                "say_as": not segment.normalize,
                "rewrites": [asdict(r) for r in spoken.rewrites],
                "lexicon": spoken.lexicon,
            }
        )
    return out
