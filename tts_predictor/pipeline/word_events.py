"""Word entries of the segment events and timings: engine word times placed in the stream and tied to the
caller's original text (character offsets, see `text.offsets`)."""

from __future__ import annotations

from typing import Any

from tts_predictor.audio.alignment import text_words
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.text.offsets import Span, merge_words, source_spans
from tts_predictor.text.segments import Segment


class WordEvents:
    """Per-segment word lists for one request whose planned `segments` came from `original`."""

    def __init__(self, original: str | None, segments: list[Segment]):
        self.original = original
        self.spans: dict[int, list[Span | None]] = {}
        if original is None:
            return
        per_segment = [(i, text_words(s.text)) for i, s in enumerate(segments) if s.text.strip()]
        flat = source_spans(original, [w for _, words in per_segment for w in words])
        at = 0
        for i, words in per_segment:
            self.spans[i] = flat[at : at + len(words)]
            at += len(words)

    def words(self, index: int, speech: AudioBuffer | None, start_s: float) -> list[dict[str, Any]]:
        """Words of segment `index` whose speech starts at `start_s` in the stream ([] if the engine gave none)."""
        timed = getattr(speech, "words", ())
        if not timed:
            return []
        spans = self.spans.get(index, [])
        if len(spans) != len(timed):
            spans = [None] * len(timed)  # the engine counted words differently: times only
        out = []
        for word, span in zip(timed, spans):
            entry: dict[str, Any] = {
                "text": word.text,
                "spoken": word.text,
                "start_s": round(start_s + word.start_s, 4),
                "end_s": round(start_s + word.end_s, 4),
                "char_start": None,
                "char_end": None,
            }
            if span is not None and self.original is not None:
                entry.update(text=self.original[span[0] : span[1]], char_start=span[0], char_end=span[1])
            out.append(entry)
        return merge_words(out)


def add_words(
    timings: list[dict[str, Any]], segments: list[Segment], audios: list[AudioBuffer], original: str | None
) -> None:
    """Add ``words`` to each timings entry of an assembled request (entries: its spoken segments, in order)."""
    spoken = [i for i, s in enumerate(segments) if s.text.strip()]
    if len(spoken) != len(audios) or len(timings) != len(audios):
        return  # a segment came back silent: no entry to attach its words to
    events = WordEvents(original, segments)
    for entry, index, audio in zip(timings, spoken, audios):
        entry["words"] = events.words(index, audio, float(entry["start_s"]))
