"""Voices chosen by content: per-sentence language detection and the voice of each span (docs/voices.md).

Planning (`request_plan.plan_request`) asks `detection` which languages a request's sentences may be detected
in, `text.language_id` tags the sentences, and `choose_voices` gives segments a voice where the request's voice
cannot speak them. Everything downstream (SSML ``<voice>``/``xml:lang`` spans included) resolves per segment with
`resolve_segment`: one path for every voice switch.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from tts_predictor.engines.base import Voice
from tts_predictor.errors import FieldError
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.text.language_id import LanguageDetection, detection_for, primary
from tts_predictor.text.segments import Segment
from tts_predictor.voices.catalog import VoiceCatalog, match_language


def switchable(params: SynthesisParameters) -> bool:
    """Whether detection may switch voices: no voice asked for, or an OpenAI voice name mapped to one."""
    return params.voice is None or params._voice_alias


def detection(params: SynthesisParameters, catalog: VoiceCatalog | None) -> LanguageDetection | None:
    """The detection for one request, or None: a `language` given, detection off, one language served.

    Without a voice (or with an OpenAI voice name) the candidates are the languages the visible voices speak (of
    the asked `gender`; narrowed by TTS_DETECT_CANDIDATES); with a voice id, the languages of that voice only.
    """
    if params.language or catalog is None or not catalog.detect_language:
        return None
    if switchable(params):
        voices = [v for v in catalog.visible() if params.gender is None or v.gender == params.gender]
    else:
        voice = catalog.usable(params.voice or "")
        voices = [voice] if voice is not None else []
    languages = [lang for v in voices for lang in v.languages]
    if catalog.detect_among:
        wanted = {primary(code) for code in catalog.detect_among}
        languages = [lang for lang in languages if primary(lang) in wanted]
    if not switchable(params) or params.voice is None:
        return detection_for(languages)
    own = catalog.usable(params.voice or "")  # the OpenAI voice's own tag wins for its language (en-GB, not en-US)
    return detection_for([*(own.languages if own else ()), *languages])


def choose_voices(segments: list[Segment], params: SynthesisParameters, catalog: VoiceCatalog) -> list[Segment]:
    """Give a voice to the segments the request's voice cannot speak (a detected language, SSML ``xml:lang``)
    when the request may switch, and to SSML ``<voice gender>`` spans; the others keep None (the request's)."""
    asked = catalog.usable(params.voice) if params.voice else None
    out = []
    for segment in segments:
        if segment.voice is None and segment.text.strip() and _needs_voice(segment, params, asked):
            gender = segment.gender or params.gender or (asked.gender if asked else None)
            segment = replace(
                segment, voice=_pick(catalog, segment.language, gender, asked, strict=bool(segment.gender)).id
            )
        out.append(segment)
    return out


def _needs_voice(segment: Segment, params: SynthesisParameters, asked: Voice | None) -> bool:
    if segment.gender:
        return True
    if asked is None or not params._voice_alias or not segment.language:
        return False
    return match_language(segment.language, list(asked.languages)) is None


def _pick(catalog: VoiceCatalog, language: str | None, gender: str | None, prefer: Voice | None, strict: bool) -> Voice:
    """`catalog.pick`; a gender that only follows the OpenAI voice's is a preference, dropped if nobody has it."""
    try:
        return catalog.pick(language, gender, prefer)
    except FieldError:
        if strict:
            raise
        return catalog.pick(language, None, prefer)


def resolve_segment(catalog: VoiceCatalog, segment: Segment, params: SynthesisParameters) -> tuple[Voice, str]:
    """The voice and language that speak `segment` (its own voice/language/gender, else the request's)."""
    gender = segment.gender if segment.voice else params.gender
    return catalog.resolve(segment.voice or params.voice, segment.language or params.language, gender)


def detection_identity(params: SynthesisParameters, catalog: VoiceCatalog) -> str:
    """What else decides a detected request's voices, for the audio cache key: the voices it may switch among
    (a model loaded or unloaded since changes which voice speaks a language); "" when nothing is detected."""
    if detection(params, catalog) is None:
        return ""
    ids = ",".join(sorted(v.id for v in catalog.visible()))
    return "|detect:" + hashlib.sha256(ids.encode()).hexdigest()[:16]
