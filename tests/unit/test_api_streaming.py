"""streaming.py with a stand-in synthesizer: sentence-level events, pauses, marks, cancellation, encoders."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
import soundfile as sf
from decode_helpers import decode_audio
from kserve.errors import InvalidInput

from tts_predictor.audio.buffer import AudioBuffer
from tts_predictor.engines.base import Voice
from tts_predictor.pipeline.stages import LocalSynthesizer
from tts_predictor.pipeline.stream import ChunkEncoder, encode_chunks, plan_segments, stream_segments
from tts_predictor.protocol.v2 import SynthesisParameters
from tts_predictor.voices.catalog import VoiceCatalog

RATE = 16000


class ToneEngine:
    """0.1 s of tone per character-less segment; counts calls."""

    kind, device = "tone", "cpu"

    def __init__(self) -> None:
        self.calls: list[str] = []

    def voices(self) -> list[Voice]:
        return [Voice("tone", ("en-US",), "tone", RATE)]

    def synthesize(self, request) -> AudioBuffer:
        self.calls.append(request.text)
        t = np.arange(int(0.1 * RATE)) / RATE
        return AudioBuffer((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), RATE)

    def close(self) -> None:
        pass


@pytest.fixture
def synth() -> LocalSynthesizer:
    engine = ToneEngine()
    return LocalSynthesizer(engine, VoiceCatalog(engine.voices()))


def collect(text: str, synth: LocalSynthesizer, **params) -> list[tuple[AudioBuffer, dict]]:
    async def run():
        return [item async for item in stream_segments(text, SynthesisParameters(**params), synth, language="en-US")]

    return asyncio.run(run())


def test_one_event_per_sentence_with_contiguous_times(synth: LocalSynthesizer) -> None:
    items = collect("First one. Second one! Third?", synth)
    assert [e["text"] for _, e in items] == ["First one.", "Second one!", "Third?"]
    assert synth.engine.calls == ["First one.", "Second one!", "Third?"]  # one engine call per sentence
    assert items[0][1]["start_s"] == 0.0
    for (_, a), (_, b) in zip(items, items[1:]):
        assert a["end_s"] == b["start_s"]
    total = sum(buf.duration_s for buf, _ in items)
    assert items[-1][1]["end_s"] == pytest.approx(total, abs=1e-3)


def test_ssml_pauses_and_marks(synth: LocalSynthesizer) -> None:
    items = collect('<speak><break time="500ms"/><mark name="m1"/>Hello. <break time="200ms"/>World.</speak>', synth)
    (pause, pause_event), (hello, hello_event), (_world, world_event) = items
    assert pause_event["text"] == "" and pause.duration_s == pytest.approx(0.5, abs=0.01)
    assert not np.any(pause.samples)
    assert hello_event["text"] == "Hello."
    assert hello_event["marks"] == [{"name": "m1", "time_s": pytest.approx(0.5, abs=0.01)}]
    assert hello.duration_s == pytest.approx(0.3, abs=0.01)  # speech plus the 200 ms break after it
    assert world_event["start_s"] == pytest.approx(0.8, abs=0.01)


def test_request_dsp_and_output_rate(synth: LocalSynthesizer) -> None:
    loud = collect("Hello.", synth)[0][0]
    quiet = collect("Hello.", synth, volume_db=-20, sample_rate=8000)[0][0]
    assert quiet.sample_rate == 8000
    assert np.abs(quiet.samples).max() < np.abs(loud.samples).max() / 5


def test_bad_input_raises_before_any_audio(synth: LocalSynthesizer) -> None:
    with pytest.raises(InvalidInput, match="voice"):
        plan_segments("Hello.", SynthesisParameters(voice="nope"), synth, language="en-US")
    with pytest.raises(InvalidInput, match="nothing to speak"):
        plan_segments("<speak></speak>", SynthesisParameters(), synth, language="en-US")
    assert synth.engine.calls == []


def test_consumer_leaving_stops_synthesis(synth: LocalSynthesizer) -> None:
    async def run():
        stream = stream_segments("One. Two. Three. Four. Five. Six.", SynthesisParameters(), synth, language="en-US")
        async for _buf, _event in stream:
            break
        await stream.aclose()

    asyncio.run(run())
    assert synth.engine.calls == ["One."]


@pytest.mark.parametrize("fmt", ["wav", "pcm", "mp3", "opus", "flac"])
def test_encoded_stream_is_one_valid_file(synth: LocalSynthesizer, fmt: str) -> None:
    async def run():
        async def buffers():
            async for buf, _ in stream_segments("One. Two. Three.", SynthesisParameters(), synth, language="en-US"):
                yield buf

        return [chunk async for chunk in encode_chunks(buffers(), fmt)]

    chunks = asyncio.run(run())
    data = b"".join(chunks)
    if fmt == "pcm":
        assert len(data) == 2 * 3 * int(0.1 * RATE)
        return
    if fmt == "wav":
        assert len(chunks) == 3  # header + first sentence, then one chunk per sentence
    samples, rate = decode_audio(data) if fmt == "flac" else sf.read(io.BytesIO(data), dtype="float32")
    assert rate == 16000
    assert abs(len(samples) / rate - 0.3) < 0.1


def test_chunk_encoder_inline_returns_each_chunk_at_once() -> None:
    async def run():
        enc = ChunkEncoder("pcm")
        one = await enc.feed(AudioBuffer(np.zeros(100, np.float32), RATE))
        two = await enc.feed(AudioBuffer(np.zeros(50, np.float32), 8000))  # resampled to the first rate
        return one, two, await enc.finish()

    one, two, rest = asyncio.run(run())
    assert (len(one), len(two), rest) == (200, 200, b"")
