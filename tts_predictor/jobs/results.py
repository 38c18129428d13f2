"""Result files of jobs: chunks joined (post-processing applied across chunk edges), encoded, tagged with the
AI-speech declaration and chapter marks; one file for the whole job or one per chapter, kept on local disk and
rebuilt from the stored chunks by whichever replica is asked for them."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from tts_predictor.audio import dsp, provenance, quality
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.encode import encode, encode_stream, output_rate, wav_stream_header
from tts_predictor.audio.output import DEFAULT_OUTPUT, OutputConfig, effect_chain, post_process, voice_dsp
from tts_predictor.jobs.records import Chapter, JobRecord
from tts_predictor.jobs.store.base import JobStore
from tts_predictor.protocol.v2 import SynthesisParameters

EXTENSIONS = {"opus": "ogg", "mulaw": "ulaw", "alaw": "alaw"}


@dataclass
class Rendered:
    """A written result file."""

    path: Path
    size: int
    duration_s: float
    sample_rate: int
    chapters: list[Chapter] = field(default_factory=list)


def _decode(flac: bytes) -> AudioBuffer:
    samples, rate = sf.read(io.BytesIO(flac), dtype="float32")
    return AudioBuffer(samples, int(rate))


class ResultFiles:
    """Rendered results under `<jobs_dir>/results/<job id>/`."""

    def __init__(self, directory: str, output: OutputConfig = DEFAULT_OUTPUT):
        self.output = output
        """What every result carries (beds, tags, watermark, credentials)."""
        self.root = Path(directory) / "results"
        self.root.mkdir(parents=True, exist_ok=True)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def path(self, job: JobRecord, chapter: int | None) -> Path:
        fmt = job.params.get("format", "wav")
        name = "all" if chapter is None else f"chapter-{chapter + 1:03d}"
        return self.root / job.id / f"{name}.{EXTENSIONS.get(fmt, fmt)}"

    def ensure(self, store: JobStore, job: JobRecord, chapter: int | None) -> Path:
        """The result file, rendered from the stored chunks if this replica has none yet."""
        path = self.path(job, chapter)
        with self._guard:
            lock = self._locks.setdefault(str(path), threading.Lock())
        with lock:
            if not path.is_file():
                self.render(store, job, chapter)
        return path

    def render(
        self, store: JobStore, job: JobRecord, chapter: int | None, watch: quality.OutputWatch | None = None
    ) -> Rendered:
        """Write the whole result (chapter None) or one chapter, atomically (temp file, then rename); `watch` takes
        the chunks for the output's quality checks (the worker's first render of a job, not a re-render)."""
        params = SynthesisParameters(**job.params)
        chapters = job.chapters if chapter is None else [job.chapters[chapter]]
        first, end = chapters[0].first_chunk, chapters[-1].end_chunk
        path = self.path(job, chapter)
        path.parent.mkdir(parents=True, exist_ok=True)
        spans: list[tuple[int, int]] = []  # (start, end) sample of each chapter
        state = {"rate": 0, "samples": 0}
        chain = effect_chain(params)  # one for the whole result: the effects' state carries across chunks

        def buffers() -> Iterator[AudioBuffer]:
            for ch in chapters:
                start = state["samples"]
                for index in range(ch.first_chunk, ch.end_chunk):
                    stored = store.chunk(job.id, index)
                    if stored is None:
                        raise RuntimeError(f"job {job.id}: chunk {index} is missing")
                    audio = voice_dsp(_decode(stored.audio), params, self.output, chain)
                    audio = post_process(
                        audio,
                        params,
                        self.output,
                        first=index == first,
                        last=index == end - 1,
                        offset=state["samples"],
                    )
                    if watch is not None:
                        watch.add(audio.samples, audio.sample_rate)
                    rate = state["rate"] or output_rate(params.format, params.sample_rate or audio.sample_rate)
                    state["rate"] = rate
                    audio = dsp.resample(audio, rate)
                    state["samples"] += len(audio.samples)
                    yield audio
                spans.append((start, state["samples"]))

        tmp = path.with_suffix(path.suffix + ".part")
        _write(buffers(), params, tmp, provenance.wav_info_chunk(self.output.tag_values(job.title, job.author)))
        rate = state["rate"] or 22050
        marks = [provenance.ChapterMark(c.title, s / rate, e / rate) for c, (s, e) in zip(chapters, spans)]
        _finalize(tmp, path, params.format, job, marks if chapter is None and len(marks) > 1 else [], rate, self.output)
        tmp.unlink(missing_ok=True)
        if watch is not None:
            watch.finish()
        out = [
            replace(c, start_s=round(s / rate, 3), duration_s=round((e - s) / rate, 3))
            for c, (s, e) in zip(chapters, spans)
        ]
        return Rendered(path, path.stat().st_size, state["samples"] / rate, rate, out)

    def sweep(self, store: JobStore) -> int:
        """Delete expired jobs from the store and their files from this replica; returns how many."""
        import time

        ids = store.expired(time.time())
        for job_id in ids:
            store.delete(job_id)
            self.forget(job_id)
        return len(ids)

    def forget(self, job_id: str) -> None:
        """Remove this replica's files of a job."""
        shutil.rmtree(self.root / job_id, ignore_errors=True)


def _write(buffers: Iterator[AudioBuffer], params: SynthesisParameters, path: Path, info: bytes) -> None:
    """Encode the chunk stream into `path` (WAV: `info` before the data chunk; sizes fixed up afterwards)."""
    with path.open("wb") as out:
        if params.format == "wav":
            for audio in buffers:
                if out.tell() == 0:
                    header = wav_stream_header(audio.sample_rate)
                    out.write(header[:36] + info + header[36:])
                out.write(audio.to_int16().astype("<i2").tobytes())
        elif params.format == "flac":  # soundfile seeks back to fill in STREAMINFO (ffmpeg cannot on a pipe)
            flac: sf.SoundFile | None = None
            for audio in buffers:
                if flac is None:
                    flac = sf.SoundFile(out, "w", audio.sample_rate, 1, "PCM_16", format="FLAC")
                flac.write(audio.to_int16())
            if flac is not None:
                flac.close()
        elif params.format in ("pcm", "mulaw", "alaw"):
            for audio in buffers:
                out.write(encode(audio, params.format))
        else:
            for data in encode_stream(buffers, params.format, bitrate=params.bitrate):
                out.write(data)


def _finalize(
    tmp: Path,
    path: Path,
    fmt: str,
    job: JobRecord,
    marks: list[provenance.ChapterMark],
    rate: int,
    output: OutputConfig,
) -> None:
    """Add the declaration, the job's title and author and the chapter marks in the container's own way, then move
    into place."""
    values = output.tag_values(job.title, job.author)
    if fmt == "wav":
        _finish_wav(tmp, marks, rate)
    elif fmt in ("ogg", "opus") and (values or marks):
        # Chapters as the Vorbis-comment chapter extension (CHAPTERnnn, CHAPTERnnnNAME), not ffmpeg's [CHAPTER]
        # sections: ffmpeg 5.1 writes none for Vorbis and wrong times for Opus from those.
        meta = tmp.with_suffix(".meta")
        meta.write_text(provenance.ffmetadata(values | provenance.chapter_comments(marks), ()), encoding="utf-8")
        done = provenance.remux(str(tmp), str(meta), str(path) + ".tagged", "ogg")
        meta.unlink(missing_ok=True)
        if done is not None:
            Path(str(path) + ".tagged").replace(tmp)
    elif fmt in ("mp3", "flac") and (values or marks):
        _retag_head(tmp, fmt, values, marks)
    output.sign_file(tmp, fmt, job.title)  # last: the manifest's hash covers the tags and chapter marks
    tmp.replace(path)


def _finish_wav(tmp: Path, marks: list[provenance.ChapterMark], rate: int) -> None:
    """Fix the RIFF and data sizes of a streamed WAV and append its cue points."""
    size = tmp.stat().st_size
    with tmp.open("r+b") as handle:
        at = handle.read(1 << 16).find(b"data", 12)
        data_bytes = size - at - 8
        pad = b"\0" if data_bytes % 2 else b""
        trailer = pad + provenance.wav_cue_chunks(marks, rate)
        handle.seek(4)
        handle.write(np.uint32(size - 8 + len(trailer)).tobytes())
        handle.seek(at + 4)
        handle.write(np.uint32(data_bytes).tobytes())
        handle.seek(0, 2)
        handle.write(trailer)


def _retag_head(tmp: Path, fmt: str, values: dict[str, str], marks: list[provenance.ChapterMark]) -> None:
    """Replace the leading tag/metadata of a large file without loading the audio: new head + copied rest."""
    with tmp.open("rb") as src:
        head = src.read(1 << 20)
        if fmt == "mp3":
            new_head = provenance.mp3_with_id3(head, values, marks)
        else:
            new_head = provenance.flac_with_comments(head, values, marks)
        dst_path = tmp.with_suffix(".retag")
        with dst_path.open("wb") as dst:
            dst.write(new_head)
            shutil.copyfileobj(src, dst)
    dst_path.replace(tmp)
