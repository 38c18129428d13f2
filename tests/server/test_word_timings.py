"""Word timings from the Piper voice's duration predictor, tied to the caller's original text: V2 `timings`,
WebSocket segment events and OpenAI SSE, over the real server; plus the pure alignment units."""

from __future__ import annotations

import difflib
import json
import re

import httpx
import numpy as np
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body
from ws_helpers import stream_messages

from tts_predictor.audio.alignment import ipa_word_frames, word_timings
from tts_predictor.text.offsets import merge_words, source_spans

TEXT = "Dr. Smith paid $42 on Monday.  Then he left, quickly!"
"""Normalization expands "Dr." and "$42"; the double space checks that offsets are the original's."""


def test_spoken_words_map_to_original_spans() -> None:
    spoken = "Doctor Smith paid forty two dollars on Monday Then he left quickly".split()
    spans = source_spans(TEXT, spoken)
    assert [TEXT[s:e] for s, e in spans] == [
        "Dr",
        "Smith",
        "paid",
        "$42",
        "$42",
        "$42",
        "on",
        "Monday",
        "Then",
        "he",
        "left",
        "quickly",
    ]
    ssml = '<speak>Hello <break time="300ms"/> world</speak>'
    assert [ssml[s:e] for s, e in source_spans(ssml, ["Hello", "world"])] == ["Hello", "world"]


def test_merge_joins_one_original_word() -> None:
    words = [
        {"spoken": "forty", "start_s": 1.0, "end_s": 1.2, "char_start": 3, "char_end": 5},
        {"spoken": "two", "start_s": 1.2, "end_s": 1.5, "char_start": 3, "char_end": 5},
    ]
    assert merge_words(words) == [{"spoken": "forty two", "start_s": 1.0, "end_s": 1.5, "char_start": 3, "char_end": 5}]


def test_ipa_frames_to_words() -> None:
    id_map = {"^": [1], "$": [2], "_": [0], " ": [3], "a": [4], "b": [5], ".": [6]}
    # ids: ^ _ a _ b _ " " _ a _ . _ $   -> frames per id
    frames = np.array([2, 0, 3, 1, 2, 1, 4, 1, 5, 1, 6, 1, 0], dtype=np.float32)
    assert ipa_word_frames("ab a.", id_map, frames) == [(2.0, 9.0), (14.0, 20.0)]
    timed = word_timings("Ab, a.", [(2.0, 9.0), (14.0, 20.0)], 0.5)
    assert [(w.text, w.start_s, w.end_s) for w in timed] == [("Ab", 1.0, 4.5), ("a", 7.0, 10.0)]


def _check_words(words: list[dict], text: str, duration_s: float) -> None:
    assert words, "no words"
    starts = [w["start_s"] for w in words]
    assert starts == sorted(starts) and all(w["start_s"] < w["end_s"] for w in words)
    assert all(a["end_s"] <= b["start_s"] + 1e-3 for a, b in zip(words, words[1:]))  # no overlap
    assert words[0]["start_s"] >= 0 and words[-1]["end_s"] <= duration_s + 1e-3
    assert words[-1]["end_s"] - words[0]["start_s"] > 0.7 * duration_s  # the words cover the audio
    for w in words:
        assert text[w["char_start"] : w["char_end"]] == w["text"]
    assert [w["text"] for w in words] == re.findall(r"\$?\w+", text.replace("Dr.", "Dr"))
    money = next(w for w in words if w["text"] == "$42")
    assert money["spoken"] == "forty two dollars"


@pytest.mark.slow
def test_v2_timings_have_words(embedded_server: ServerProcess) -> None:
    body = infer_body([TEXT], timings=True)
    r = httpx.post(f"{embedded_server.url}/v2/models/tts/infer", json=body, timeout=60)
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o for o in r.json()["outputs"]}
    timings = json.loads(outputs["timings"]["data"][0])
    samples, rate = decode_wav(outputs["audio"]["data"][0])
    words = [w for entry in timings for w in entry["words"]]
    _check_words(words, TEXT, len(samples) / rate)


@pytest.mark.slow
def test_openai_sse_sends_segment_words(embedded_server: ServerProcess) -> None:
    body = {"model": "tts-1", "input": TEXT, "voice": "alloy", "response_format": "pcm", "stream_format": "sse"}
    r = httpx.post(f"{embedded_server.url}/v1/audio/speech", json=body, timeout=60)
    events = [json.loads(line[6:]) for line in r.text.splitlines() if line.startswith("data: ")]
    segments = [e for e in events if e["type"] == "speech.audio.segment"]
    assert len(segments) == 2 and events[-1]["type"] == "speech.audio.done"
    first_segment = events.index(segments[0])
    assert events[first_segment - 1]["type"] == "speech.audio.delta"  # words follow their audio
    _check_words([w for s in segments for w in s["words"]], TEXT, segments[-1]["end_s"])


@pytest.mark.slow
def test_websocket_words_index_all_text_sent(embedded_server: ServerProcess) -> None:
    # split mid-word: offsets still count every character sent
    messages = stream_messages(embedded_server.url, (TEXT[:20], TEXT[20:]))
    segments = [m for m in messages if m["type"] == "segment"]
    end = next(m for m in messages if m["type"] == "end")
    _check_words([w for s in segments for w in s["words"]], TEXT, end["duration_s"])


ALIGNED_TEXT = (
    "The old lighthouse keeper climbed the winding stairs every evening. "
    "He polished the great lamp until it shone across the dark water. "
    "Sailors far away would see the beam and steer their boats safely home."
)
"""About 10 s of plain words (nothing normalized), so Whisper's words and ours pair up one to one."""


def _whisper_words(whisper, samples: np.ndarray, rate: int) -> list[tuple[str, float, float]]:
    """(word, start_s, end_s) from faster-whisper's own alignment (cross-attention + DTW), decoded greedily."""
    from scipy.signal import resample_poly

    segments, _ = whisper.transcribe(
        resample_poly(samples, 16000, rate).astype(np.float32),
        language="en",
        beam_size=1,
        temperature=0.0,
        condition_on_previous_text=False,
        word_timestamps=True,
    )
    return [(re.sub(r"[^a-z']", "", w.word.lower()), w.start, w.end) for s in segments for w in s.words]


@pytest.mark.slow
def test_word_times_agree_with_an_independent_aligner(embedded_server: ServerProcess, whisper) -> None:
    """Our word times against Whisper's word timestamps on the same audio.

    Measured over four renders of this text: 91-94 % of our word midpoints fall inside Whisper's span for the
    same word (29-34 % with every time shifted by 0.2 s, 6-11 % by -0.2 s), midpoints differ by a median of
    0.05 s, and a straight line through the pairs has slope 1.00. The bounds (70 % inside, median within 0.15 s,
    slope 0.93-1.07 over 10 s, i.e. 0.7 s at the end) leave room for Whisper's own error on any CPU, and still
    fail a 0.2 s shift or a 20 % scale error.
    """
    body = infer_body([ALIGNED_TEXT], timings=True)
    r = httpx.post(f"{embedded_server.url}/v2/models/tts/infer", json=body, timeout=120)
    assert r.status_code == 200, r.text
    outputs = {o["name"]: o for o in r.json()["outputs"]}
    samples, rate = decode_wav(outputs["audio"]["data"][0])
    ours = [w for entry in json.loads(outputs["timings"]["data"][0]) for w in entry["words"]]
    theirs = _whisper_words(whisper, samples, rate)
    names = [re.sub(r"[^a-z']", "", w["text"].lower()) for w in ours]
    assert names == re.sub(r"[^a-z' ]", "", ALIGNED_TEXT.lower()).split()
    # pair the words both sides agree on, in order (Whisper may mishear, split or merge a word)
    matcher = difflib.SequenceMatcher(a=names, b=[w for w, _, _ in theirs], autojunk=False)
    pairs = [
        (ours[i + k]["start_s"], ours[i + k]["end_s"], theirs[j + k][1], theirs[j + k][2])
        for i, j, size in matcher.get_matching_blocks()
        for k in range(size)
    ]
    assert len(pairs) >= 0.6 * len(ours), (len(pairs), [w for w, _, _ in theirs])
    start, end, whisper_start, whisper_end = np.array(pairs).T
    mine, reference = (start + end) / 2, (whisper_start + whisper_end) / 2
    assert np.mean((mine >= whisper_start) & (mine <= whisper_end)) >= 0.7
    assert abs(float(np.median(mine - reference))) < 0.15
    slope, _ = np.polyfit(reference, mine, 1)
    assert 0.93 < slope < 1.07
