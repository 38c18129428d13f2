"""The one output chain: loudness per sentence (`leveler`, applied as segments are assembled) -> voice DSP (pitch,
gain, plugin effects) -> watermark -> post-processing -> resample -> encode -> tags.

Every path that produces audio for a caller goes through here: whole responses (`render_whole`), streams over HTTP
and WebSocket (`stream_dsp` per chunk, `OutputConfig.tag_head` on the first bytes), jobs (`voice_dsp` and
`post_process` per chunk, `OutputConfig.tag_values`/`sign_file` on the result) and `tts-predictor say`.
What a process adds to every output (beds, the AI-speech declaration, a watermark, content credentials) is one
`OutputConfig`, built from the settings at start and passed down; no module keeps it in a global.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tts_predictor import metrics
from tts_predictor.audio import post, provenance, quality
from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.audio.credentials import ContentCredentials
from tts_predictor.audio.dsp import apply_gain_db, pitch_shift, resample
from tts_predictor.audio.effects import EffectChain, parse_effects
from tts_predictor.audio.encode import encode, output_rate
from tts_predictor.audio.loudness import Leveler
from tts_predictor.audio.watermark import Watermarker

log = logging.getLogger(__name__)

DEFAULT_LOUDNESS_LUFS = -19.0
"""The output loudness (BS.1770 integrated) of every sentence when neither the settings nor the request name one:
the podcast norm for mono files (AES TD1004: -16 LUFS stereo, which a mono file played on two speakers matches at
-19). The embedded voice measures -23.7 to -27.8 LUFS raw with peaks 17-22 dB above its loudness (docs/audio.md)."""
DEFAULT_PEAK_DBFS = -1.0
"""Sample-peak ceiling of the loudness step; the limiter takes peaks above it down smoothly."""


class VoiceOptions(Protocol):
    """The request fields the chain reads (`SynthesisParameters` has them all)."""

    @property
    def pitch(self) -> float | None: ...

    @property
    def loudness_lufs(self) -> float | None: ...

    @property
    def volume_db(self) -> float | None: ...

    @property
    def format(self) -> str: ...

    @property
    def sample_rate(self) -> int | None: ...

    @property
    def bitrate(self) -> str | None: ...

    @property
    def effects(self) -> str | None: ...


@dataclass(frozen=True)
class OutputConfig:
    """What this process adds to every output, whatever the route."""

    beds_dir: str | None = None
    """TTS_BEDS_DIR: where stored background beds live (None: no beds)."""
    provenance_tags: bool = True
    """TTS_PROVENANCE_TAGS: the AI-speech declaration in the container's metadata."""
    watermarker: Watermarker | None = None
    """The mounted watermark model (TTS_WATERMARK_MODEL), or None."""
    signer: ContentCredentials | None = None
    """C2PA content credentials (TTS_C2PA_CERT_FILE + TTS_C2PA_KEY_FILE), or None."""
    loudness_lufs: float | None = DEFAULT_LOUDNESS_LUFS
    """TTS_LOUDNESS_TARGET_LUFS: every sentence's loudness unless the request names one (None: the voice's own)."""
    peak_dbfs: float = DEFAULT_PEAK_DBFS
    """TTS_LOUDNESS_PEAK_DBFS: the sample-peak ceiling of the loudness step."""

    @classmethod
    def from_settings(cls, settings: Any) -> OutputConfig:
        """Load the watermark model and the signer the settings name; raises when a configured one cannot load."""
        marker = None
        if settings.watermark_model:
            marker = Watermarker(settings.watermark_model, settings.watermark_sample_rate, settings.watermark_strength)
            log.info("watermark model %s loaded (%d Hz)", settings.watermark_model, settings.watermark_sample_rate)
        if bool(settings.c2pa_cert_file) != bool(settings.c2pa_key_file):
            raise ValueError("TTS_C2PA_CERT_FILE and TTS_C2PA_KEY_FILE must be set together")
        signer = None
        if settings.c2pa_cert_file:
            signer = ContentCredentials(
                settings.c2pa_cert_file, settings.c2pa_key_file, settings.c2pa_alg, settings.c2pa_tsa_url
            )
            log.info("C2PA content credentials on (%s, certificate %s)", settings.c2pa_alg, settings.c2pa_cert_file)
        return cls(
            settings.beds_dir,
            settings.provenance_tags,
            marker,
            signer,
            settings.loudness_target_lufs,
            settings.loudness_peak_dbfs,
        )

    def tag_values(self, title: str | None = None, author: str | None = None) -> dict[str, str]:
        """The key/value tags of an output: the declaration (when on), the title and the author (ARTIST)."""
        values = provenance.tags() if self.provenance_tags else {}
        return values | provenance.work_tags(title, author)

    def tag(self, data: bytes, fmt: str, *, title: str | None = None, chapters: Sequence[Any] = ()) -> bytes:
        """A complete file with the declaration and chapter marks (where the format allows), then signed."""
        values = self.tag_values(title)
        if values or chapters:
            data = provenance.declare(data, fmt, values, chapters)
        return self.sign(data, fmt, title)

    def tag_head(self, head: bytes, fmt: str) -> bytes:
        """The first bytes of a stream with the declaration (mp3, wav, flac, opus); other formats unchanged.

        Streams are never signed: a C2PA manifest hashes the whole file."""
        if not self.provenance_tags:
            return head
        return provenance.declare_stream_head(head, fmt, self.tag_values())

    def sign(self, data: bytes, fmt: str, title: str | None = None) -> bytes:
        """`data` with content credentials when a signer is configured and the format takes them."""
        return data if self.signer is None else self.signer.sign_bytes(data, fmt, title)

    def sign_file(self, path: Path, fmt: str, title: str | None = None) -> None:
        """Sign a result file in place when a signer is configured."""
        if self.signer is not None:
            self.signer.sign_file(path, fmt, title)


DEFAULT_OUTPUT = OutputConfig()
"""No beds, declaration tags on, no watermark, no signature: the output of a process with default settings."""


def leveler(params: VoiceOptions, config: OutputConfig = DEFAULT_OUTPUT) -> Leveler | None:
    """The loudness step for a request: the request's `loudness_lufs`, else the process's target (None: off).

    It runs per sentence as segments are assembled (`Assembly(rate, level)`), before SSML volume and before the
    request's pitch and `volume_db`, so whole files, streams and jobs reach the same level and volume stays relative
    to it. BS.1770 gating leaves pauses out, so a text of sentences at the target measures at the target too."""
    target = params.loudness_lufs if params.loudness_lufs is not None else config.loudness_lufs
    return None if target is None else Leveler(target, config.peak_dbfs)


def effect_chain(params: VoiceOptions) -> EffectChain:
    """The plugin effects a request asked for (``effects``), opened once per output: streams and jobs pass the same
    chain with every chunk, so the effects' state carries over."""
    return EffectChain(parse_effects(getattr(params, "effects", None)))


def voice_dsp(
    buf: AudioBuffer, params: VoiceOptions, config: OutputConfig = DEFAULT_OUTPUT, chain: EffectChain | None = None
) -> AudioBuffer:
    """A request's voice DSP in its fixed order: pitch shift, gain (each only when asked), the plugin effects
    (`chain`, else a fresh one for a whole buffer), then the watermark when a model is mounted. Streams and jobs
    apply it per chunk (the loudness step came before, see `leveler`).

    NaN and infinite samples (an engine fault) are counted and replaced by silence first, so no step after it and
    no encoder sees them."""
    buf = finite(buf)
    if params.pitch:
        buf = pitch_shift(buf, params.pitch)
    if params.volume_db:
        buf = apply_gain_db(buf, params.volume_db)
    buf = (chain or effect_chain(params))(buf)
    return buf if config.watermarker is None else config.watermarker.apply(buf)


def finite(buf: AudioBuffer) -> AudioBuffer:
    """`buf` with non-finite samples replaced by silence, counted in tts_output_nonfinite_samples_total."""
    samples, bad = quality.sanitize(buf.samples)
    if not bad:
        return buf
    metrics.OUTPUT_NONFINITE.inc(bad)
    log.warning("%d non-finite samples in an engine's output replaced by silence", bad)
    return AudioBuffer(samples, buf.sample_rate)


def post_process(
    buf: AudioBuffer,
    params: post.PostOptions,
    config: OutputConfig = DEFAULT_OUTPUT,
    *,
    first: bool = True,
    last: bool = True,
    offset: int = 0,
) -> AudioBuffer:
    """The post-processing chain (trims, effects, bed, fades) with this process's beds."""
    return post.apply(buf, params, config.beds_dir, first=first, last=last, offset=offset)


def stream_dsp(
    buf: AudioBuffer,
    params: VoiceOptions,
    config: OutputConfig = DEFAULT_OUTPUT,
    chain: EffectChain | None = None,
    watch: quality.OutputWatch | None = None,
) -> AudioBuffer:
    """One streamed chunk: voice DSP (with the stream's effect `chain`), then the asked output rate (streams take
    no post-processing); `watch` takes the chunk for the output's quality checks (the caller finishes it when the
    stream ends)."""
    buf = voice_dsp(buf, params, config, chain)
    if watch is not None:
        watch.add(buf.samples, buf.sample_rate)
    if params.sample_rate and params.sample_rate != buf.sample_rate:
        buf = resample(buf, params.sample_rate)
    return buf


def render_whole(
    audio: AudioBuffer,
    params: Any,
    config: OutputConfig = DEFAULT_OUTPUT,
    watch: quality.OutputWatch | None = None,
) -> tuple[bytes, AudioBuffer]:
    """A whole response: voice DSP, post-processing, quality checks (with a `watch`), output rate, encoding and
    tags; (file bytes, final audio)."""
    audio = post_process(voice_dsp(audio, params, config), params, config)
    if watch is not None:
        watch.whole(audio.samples, audio.sample_rate)
    return encode_whole(audio, params, config)


def encode_whole(
    audio: AudioBuffer, params: VoiceOptions, config: OutputConfig = DEFAULT_OUTPUT
) -> tuple[bytes, AudioBuffer]:
    """The tail of the chain for audio that already had its DSP (per chunk, as `stream_dsp` does): output rate,
    encoding and tags; (file bytes, final audio)."""
    audio = resample(audio, output_rate(params.format, params.sample_rate or audio.sample_rate))
    return config.tag(encode(audio, params.format, bitrate=params.bitrate), params.format), audio
