"""SegmentPlan: accumulates SSML text, pauses and marks into a merged list of Segments."""

from __future__ import annotations

from dataclasses import dataclass, replace

from tts_predictor.text.segments import Segment


@dataclass(frozen=True)
class Prosody:
    """Voice and prosody in scope at a point of the SSML tree."""

    voice: str | None = None
    language: str | None = None
    gender: str | None = None
    rate: float = 1.0
    pitch: float = 0.0
    volume: float = 0.0


class SegmentPlan:
    """Accumulates segments; breaks become pauses on the previous segment, marks attach to the next one."""

    def __init__(self) -> None:
        self.segments: list[Segment] = []
        self.mark: str | None = None
        self.pause = 0.0
        self.cut = True

    def text(self, raw: str, v: Prosody, normalize: bool = True) -> None:
        last = self.segments[-1] if self.segments else None
        if (
            last is not None
            and not self.cut
            and self.mark is None
            and self.pause == 0.0
            and last.normalize == normalize
            and (last.voice, last.language, last.gender, last.rate, last.pitch_semitones, last.volume_db)
            == (v.voice, v.language, v.gender, v.rate, v.pitch, v.volume)
        ):
            self.segments[-1] = replace(last, text=last.text + raw)
            return
        if not raw.strip():
            return
        self.segments.append(
            Segment(
                text=raw,
                voice=v.voice,
                language=v.language,
                gender=v.gender,
                rate=v.rate,
                pitch_semitones=v.pitch,
                volume_db=v.volume,
                pause_before_s=self.pause,
                mark=self.mark,
                normalize=normalize,
            )
        )
        self.mark, self.pause, self.cut = None, 0.0, False

    def add_pause(self, seconds: float, structural: bool = False) -> None:
        self.cut = True
        if self.segments and self.mark is None and self.pause == 0.0:
            last = self.segments[-1]
            total = max(last.pause_after_s, seconds) if structural else last.pause_after_s + seconds
            self.segments[-1] = replace(last, pause_after_s=total)
        elif not structural:
            self.pause += seconds

    def add_mark(self, name: str) -> None:
        if self.mark is not None or self.pause:  # flush what came before this mark, in order
            self.segments.append(Segment(mark=self.mark, pause_after_s=self.pause))
        self.mark, self.pause, self.cut = name, 0.0, True

    def finish(self) -> list[Segment]:
        if self.mark is not None or self.pause:
            self.segments.append(Segment(mark=self.mark, pause_after_s=self.pause))
        out = []
        for seg in self.segments:
            seg = replace(seg, text=" ".join(seg.text.split()))
            if seg.text or seg.mark is not None or seg.pause_before_s or seg.pause_after_s:
                out.append(seg)
        return out
