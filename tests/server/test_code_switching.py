"""Voices chosen by content on a real server (the embedded English voice + espeak-ng fallback voices): a mixed
English/German paragraph without `language` is spoken sentence by sentence in the right voice, judged by the
multilingual Whisper; gender and the voice object on V2, /synthesize and /v1/audio/speech; hostile texts."""

from __future__ import annotations

import json
import re

import httpx
import numpy as np
import pytest
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow

ENGLISH_VOICE = "en_US-joe-medium"
PARAGRAPH = [  # German sentences that Whisper base hears as German from espeak-ng (p >= 0.95): it judges the voice
    # choice, not espeak-ng's formant German (other sentences were heard at p ~ 0.3-0.6, or as English)
    ("en", "The weather is lovely today, so we are going for a long walk."),
    ("de", "Ich habe mein Buch gestern in der Bibliothek vergessen."),
    ("en", "After the film we will have dinner at a small restaurant."),
    ("de", "Das Museum ist am Montag leider den ganzen Tag geschlossen."),
]


@pytest.fixture(scope="module")
def server():
    process = ServerProcess(env={"TTS_CACHE_MAX_BYTES": "0"}).start()
    yield process
    process.stop()


def _infer(server, texts: list[str], **params) -> httpx.Response:
    return httpx.post(f"{server.url}/v2/models/tts/infer", json=infer_body(texts, **params), timeout=180)


def _audio_and_timings(res: httpx.Response) -> tuple[np.ndarray, int, list[dict]]:
    assert res.status_code == 200, res.text
    outputs = {o["name"]: o for o in res.json()["outputs"]}
    samples, rate = decode_wav(outputs["audio"]["data"][0])
    return samples, rate, json.loads(outputs["timings"]["data"][0])


def _words(text: str) -> list[str]:
    return re.sub(r"[^\w' ]", " ", text.lower()).split()


def _hear(whisper, samples: np.ndarray, rate: int) -> tuple[str, str]:
    """Whisper's detected language and text for one slice (no language given: it must tell)."""
    from scipy.signal import resample_poly

    pcm16k = resample_poly(samples, 16000, rate).astype(np.float32)
    segments, info = whisper.transcribe(pcm16k, beam_size=1, temperature=0.0, condition_on_previous_text=False)
    return info.language, " ".join(s.text for s in segments)


def test_mixed_paragraph_is_spoken_by_the_right_voice_per_sentence(server, whisper_multilingual) -> None:
    """Without `language`: one span per sentence, English by the English voice, German by espeak-de; each span's
    audio slice (cut at the V2 timings) is heard by Whisper in its language, with at least 60% of its words
    (sentences of 8-12 words, heard whole when spoken alone: one misheard word moves the share by about 10%)."""
    text = " ".join(sentence for _, sentence in PARAGRAPH)
    samples, rate, timings = _audio_and_timings(_infer(server, [text], timings=True))
    spans = [t for t in timings if t["text"].strip()]
    assert [(t["language"], t["voice"]) for t in spans] == [
        ("en-US", ENGLISH_VOICE),
        ("de", "espeak-de"),
        ("en-US", ENGLISH_VOICE),
        ("de", "espeak-de"),
    ]
    for (language, sentence), span in zip(PARAGRAPH, spans):
        piece = samples[int(span["start_s"] * rate) : int(span["end_s"] * rate)]
        heard_language, heard = _hear(whisper_multilingual, piece, rate)
        words = _words(sentence)
        share = sum(w in _words(heard) for w in words) / len(words)
        assert heard_language == language and share >= 0.6, (sentence, heard_language, heard)


def test_rest_headers_list_each_language_and_voice(server) -> None:
    """/synthesize answers X-Languages and X-Voices in order of appearance; `language` given keeps one voice."""
    text = " ".join(sentence for _, sentence in PARAGRAPH)
    res = httpx.post(f"{server.url}/synthesize", json={"text": text}, timeout=180)
    assert res.status_code == 200, res.text
    assert res.headers["X-Languages"] == "en-US,de" and res.headers["X-Voices"] == f"{ENGLISH_VOICE},espeak-de"
    fixed = httpx.post(f"{server.url}/synthesize", json={"text": text, "options": {"language": "en"}}, timeout=180)
    assert fixed.status_code == 200 and fixed.headers["X-Voices"] == ENGLISH_VOICE


def test_openai_names_switch_but_voice_ids_do_not(server) -> None:
    """/v1/audio/speech: an OpenAI name switches the German sentences to espeak-de; a real voice id speaks all."""
    text = " ".join(sentence for _, sentence in PARAGRAPH)
    body = {"model": "tts-1", "input": text, "response_format": "wav"}
    named = httpx.post(f"{server.url}/v1/audio/speech", json={**body, "voice": "nova"}, timeout=180)
    assert named.status_code == 200, named.text
    assert named.headers["X-TTS-Voices"] == f"{ENGLISH_VOICE},espeak-de"
    own = httpx.post(f"{server.url}/v1/audio/speech", json={**body, "voice": ENGLISH_VOICE}, timeout=180)
    assert own.status_code == 200 and own.headers["X-TTS-Voices"] == ENGLISH_VOICE


def test_voice_object_chooses_by_language_and_gender_on_every_api(server) -> None:
    """{"language": "de", "gender": "male"} picks espeak-de on V2, /synthesize and /v1/audio/speech."""
    chosen = {"language": "de", "gender": "male"}
    # V2 parameters are scalars (kserve refuses objects): the object travels as a JSON string
    v2 = _infer(server, ["Guten Tag, wie geht es?"], voice=json.dumps(chosen), timings=True)
    _samples, _rate, timings = _audio_and_timings(v2)
    assert timings[0]["voice"] == "espeak-de"
    rest = httpx.post(f"{server.url}/synthesize", json={"text": "Guten Tag.", "options": {"voice": chosen}}, timeout=60)
    assert rest.status_code == 200 and rest.headers["X-Voice"] == "espeak-de"
    body = {"model": "tts-1", "input": "Guten Tag.", "voice": chosen, "response_format": "wav"}
    speech = httpx.post(f"{server.url}/v1/audio/speech", json=body, timeout=60)
    assert speech.status_code == 200 and speech.headers["X-TTS-Voice"] == "espeak-de"


@pytest.mark.parametrize(
    ("options", "field"),
    [({"gender": "robot"}, "gender"), ({"voice": {"language": "de", "gender": "female"}}, "gender")],
)
def test_bad_gender_is_a_400_naming_the_field(server, options: dict, field: str) -> None:
    """An unknown gender, or one no voice of the language has, is a 400 naming `gender` (never a 500)."""
    rest = httpx.post(f"{server.url}/synthesize", json={"text": "Guten Tag.", "options": options}, timeout=60)
    assert rest.status_code == 400 and field in rest.json()["error"] and "male" in rest.json()["error"]
    params = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in options.items()}
    v2 = _infer(server, ["Guten Tag."], **params)
    assert v2.status_code == 400 and field in v2.text


def test_ssml_voice_gender_is_honoured(server) -> None:
    """<voice gender="male" > in German text picks espeak-de for that span (the request names no voice)."""
    ssml = '<speak>Hello there. <voice gender="male"><lang xml:lang="de">Guten Morgen.</lang></voice></speak>'
    _samples, _rate, timings = _audio_and_timings(_infer(server, [ssml], timings=True))
    assert [t["voice"] for t in timings if t["text"].strip()] == [ENGLISH_VOICE, "espeak-de"]


@pytest.mark.parametrize("text", ["😀🎉🚀", "12345 67890", "\u202e\u200b Hello world, this is a test.", "𝕳𝖊𝖑𝖑𝖔"])
def test_hostile_texts_are_spoken_by_the_default_voice(server, text: str) -> None:
    """Emoji, digits, bidi/zero-width controls and math letters: no detection trips, the default voice (or a 400
    for nothing speakable), never a 500."""
    res = httpx.post(f"{server.url}/synthesize", json={"text": text}, timeout=60)
    assert res.status_code in (200, 400), res.text
    if res.status_code == 200:
        assert res.headers["X-Voices"] == ENGLISH_VOICE


def test_a_language_change_every_sentence_is_one_span_each(server) -> None:
    """Twelve sentences alternating English and German: twelve spans, alternating voices, in order."""
    pair = ["We will meet at the station tomorrow morning.", "Wir treffen uns morgen früh am Bahnhof."]
    _samples, _rate, timings = _audio_and_timings(_infer(server, [" ".join(pair * 6)], timings=True))
    assert [t["voice"] for t in timings if t["text"].strip()] == [ENGLISH_VOICE, "espeak-de"] * 6
