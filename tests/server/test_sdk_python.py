"""The Python client (clients/python, `tts_predictor_client`) against real servers: synthesize, stream (HTTP and
WebSocket), a job with progress and chapters, voices, normalize, the server's error messages, and Retry-After."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
from sdk_servers import MARKDOWN, SDK_KEY, limited_server, sdk_server  # noqa: F401  (fixtures)
from server_process import ServerProcess, free_port

from tts_predictor_client import (
    APIConnectionError,
    AsyncClient,
    AuthenticationError,
    BadRequestError,
    Client,
    NotFoundError,
    RateLimitError,
    TTSError,
)
from tts_predictor_client._core import RetryPolicy

pytestmark = pytest.mark.slow
VOICE = "en_US-joe-medium"
TEXT = "The first sentence is short. The second one follows it."


def seconds(data: bytes) -> float:
    """Duration of an audio file, decoded by libsndfile (independent of the client)."""
    info = sf.info(io.BytesIO(data))
    return info.frames / info.samplerate


@pytest.fixture()
def client(sdk_server: ServerProcess):
    with Client(sdk_server.url, api_key=SDK_KEY) as tts:
        yield tts


def test_synthesize_bytes_and_file(client: Client, tmp_path):
    speech = client.synthesize("Hello from the Python client.", format="wav", speed=1.1)
    assert speech.audio[:4] == b"RIFF" and speech.audio[8:12] == b"WAVE"
    assert speech.content_type == "audio/wav" and speech.voice == VOICE
    assert seconds(speech.audio) == pytest.approx(speech.duration_s, abs=0.01) and speech.duration_s > 0.5
    saved = client.synthesize_to_file("Saved as FLAC by its suffix.", tmp_path / "out.flac")
    assert saved.content_type == "audio/flac" and (tmp_path / "out.flac").read_bytes()[:4] == b"fLaC"
    assert seconds((tmp_path / "out.flac").read_bytes()) > 0.5


def test_stream_chunks_decode(client: Client):
    chunks = list(client.stream(TEXT, format="pcm"))
    assert len(chunks) >= 2  # sentence by sentence (two sentences)
    samples = np.frombuffer(b"".join(chunks), dtype="<i2")
    assert len(samples) / 22050 > 1.0 and np.abs(samples).max() > 1000  # speech, not silence


def test_websocket_text_in(client: Client):
    tokens = ["Hello", " there", ".", " How", " are", " you", "?"]
    items = list(client.stream_text(tokens, format="pcm"))
    audio = b"".join(i for i in items if isinstance(i, bytes))
    events = [i["type"] for i in items if isinstance(i, dict)]
    assert events[0] == "start" and events[-1] == "end" and events.count("segment") == 2
    assert len(audio) / 2 / 22050 > 0.5


def test_job_with_progress_and_chapters(client: Client):
    job = client.submit_job(markdown=MARKDOWN, title="Harbour", format="wav")
    assert job.state == "queued" and job.progress.chars_total > 0
    seen: list[Any] = []
    done = client.wait_job(job, poll_interval=0.2, timeout=240, on_progress=seen.append)
    assert done.state == "completed" and seen[-1] is done and done.progress.fraction == 1.0
    assert [c.title for c in done.chapters] == ["Harbour", "Market"]
    whole = client.download_job(done)
    assert seconds(whole) == pytest.approx(done.duration_s, abs=0.01)
    second = client.download_job(done.id, chapter=2)
    assert seconds(second) == pytest.approx(done.chapters[1].duration_s, abs=0.01)
    assert job.id in [j.id for j in client.list_jobs()]
    assert client.cancel_job(done) == {"id": job.id, "deleted": True}


def test_voices_and_normalize(client: Client):
    voices = client.voices()
    assert VOICE in voices.ids and voices.default_voice == VOICE and "en-US" in voices.languages
    assert client.voices(language="tlh").ids == []  # a language espeak-ng does not know either
    assert client.voices(language="de").ids == ["espeak-de"]  # German only as the formant fallback voice
    normalized = client.normalize("I have 3 apples.", language="en-US")
    assert "three" in " ".join(s["text"] for s in normalized["segments"]).lower()


def test_errors_carry_the_server_message(client: Client, sdk_server: ServerProcess):
    # REST shape {"error": "..."}: the message is the server's, word for word.
    raw = httpx.post(
        f"{sdk_server.url}/synthesize",
        json={"text": "Hi.", "options": {"voice": "nobody"}},
        headers={"Authorization": f"Bearer {SDK_KEY}"},
    )
    with pytest.raises(BadRequestError) as rest:
        client.synthesize("Hi.", voice="nobody")
    assert rest.value.status == 400 and rest.value.message == raw.json()["error"] and "voice" in rest.value.message
    # OpenAI shape {"error": {"message", "param"}} on /v1 routes.
    with pytest.raises(BadRequestError) as jobs:
        client.submit_job("Hi.", voice="nobody")
    assert "voice" in jobs.value.message and "nobody" in jobs.value.message
    with pytest.raises(BadRequestError, match="speed"):
        client.normalize("Hi.", speed=2)  # an unknown field of /v1/normalize
    with pytest.raises(AuthenticationError) as auth:
        Client(sdk_server.url, api_key="wrong-key").voices()
    assert auth.value.status == 401 and auth.value.message


def test_async_client(sdk_server: ServerProcess):
    async def main() -> tuple[bytes, bytes, list[str], list[Any]]:
        async with AsyncClient(sdk_server.url, api_key=SDK_KEY) as tts:
            speech = await tts.synthesize("Asynchronous hello.", format="wav")
            streamed = b"".join([c async for c in tts.stream(TEXT, format="pcm")])
            voices = await tts.voices()
            sent = ["One sentence", " over the socket."]
            items = [i async for i in tts.stream_text(sent, format="pcm")]
            with pytest.raises(BadRequestError, match="voice"):
                await tts.synthesize("Hi.", voice="nobody")
            return speech.audio, streamed, voices.ids, items

    audio, streamed, ids, items = asyncio.run(main())
    assert seconds(audio) > 0.5 and len(streamed) / 2 / 22050 > 1.0 and VOICE in ids
    assert any(isinstance(i, bytes) for i in items) and items[-1]["type"] == "end"


def test_rate_limit_retry_after(limited_server: ServerProcess):
    with Client(limited_server.url, max_retries=0) as eager:
        eager.voices()
        with pytest.raises(RateLimitError) as limited:
            eager.voices()
    assert limited.value.status == 429 and limited.value.retry_after and limited.value.retry_after >= 1
    assert "TTS_RATE_LIMIT_RPS" in limited.value.message
    retries: list[tuple[int, float]] = []
    with Client(limited_server.url, max_retries=3, on_retry=lambda n, e, wait: retries.append((n, wait))) as patient:
        patient.voices()
        patient.voices()  # limited first, then served after the server's Retry-After
    assert retries and retries[0][0] == 1 and retries[0][1] >= 1
    slept: list[int] = []
    with Client(limited_server.url, max_retries=3, max_retry_wait=0.1, on_retry=lambda *a: slept.append(1)) as brief:
        with pytest.raises(RateLimitError):  # the bucket is empty and Retry-After > max_retry_wait: raised at once
            brief.voices()
    assert slept == []


def test_retry_policy_is_bounded():
    policy = RetryPolicy(max_retries=2, max_wait_s=5)
    limited = RateLimitError("slow down", status=429)
    limited.retry_after = 3
    assert [policy.delay(n, limited) for n in (1, 2, 3)] == [3, 3, None]
    limited.retry_after = 60
    assert policy.delay(1, limited) is None
    assert policy.delay(1, BadRequestError("bad", status=400)) is None


def test_unreachable_server_raises_connection_error():
    with pytest.raises(APIConnectionError) as refused:
        Client(f"http://127.0.0.1:{free_port()}", max_retries=0).voices()
    assert isinstance(refused.value, TTSError) and refused.value.status is None


def test_ids_stay_one_path_segment(client: Client):
    # An id with '/', '?' or '..' is quoted into one segment: a 404, never another route (unquoted, httpx would
    # resolve '../../v1/voices' to GET /v1/voices and answer the voice list).
    for hostile in ("../../v1/voices", "x?chapter=1", "%2e%2e"):
        with pytest.raises(NotFoundError) as missing:
            client.get_job(hostile)
        assert missing.value.status == 404
