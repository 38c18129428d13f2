"""Audio-quality metrics over a real server: a deliberately clipped output (volume_db +20 on top of the loudness
target) and a silent one (SSML prosody volume="silent") land in the right buckets of the quality histograms, and
the shipped alert rules, evaluated by promtool on the values the server exported, fire on them.

The ground for the buckets is the audio the client received: its share of full-scale samples and its level are
measured here with numpy, independently of the server's checks."""

from __future__ import annotations

from pathlib import Path

import httpx
import numpy as np
import pytest
from jobs_helpers import wait_job
from prometheus_client.parser import text_string_to_metric_families
from promtool import expected, run_rule_tests
from server_process import ServerProcess
from v2_helpers import decode_wav, infer_body

pytestmark = pytest.mark.slow
TEXT = "The boats came home at noon, and the harbour filled with voices."
SILENT = f'<speak><prosody volume="silent">{TEXT}</prosody></speak>'
VOICE = "default"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"TTS_CACHE_MAX_BYTES": "0", "TTS_JOBS_DIR": str(tmp_path_factory.mktemp("jobs"))}
    process = ServerProcess(env=env).start()
    yield process
    process.stop()


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every tts_output_* sample of the default voice: (name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics", timeout=30).text):
        for sample in family.samples:
            if sample.name.startswith("tts_output_") and sample.labels.get("voice", VOICE) == VOICE:
                found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted({"voice": VOICE, **labels}.items()))), 0.0)


def speak(url: str, text: str, **params: object) -> np.ndarray:
    body = infer_body([text], format="wav", **params)
    response = httpx.post(f"{url}/v2/models/tts/infer", json=body, timeout=120)
    assert response.status_code == 200, response.text
    audio = next(o for o in response.json()["outputs"] if o["name"] == "audio")
    return decode_wav(audio["data"][0])[0]


def test_clipped_and_silent_outputs_move_the_histograms_and_fire_the_alerts(server, tmp_path: Path):
    before = scrape(server.url)
    plain, clipped, silent = speak(server.url, TEXT), speak(server.url, TEXT, volume_db=20.0), speak(server.url, SILENT)
    after = scrape(server.url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # the client's ground: the loud output clips a lot, the plain one not at all, the silent one is silent
    clip_share = float(np.mean(np.abs(clipped) >= 0.999))
    assert clip_share > 0.01 and float(np.mean(np.abs(plain) >= 0.999)) == 0.0
    assert float(np.max(np.abs(silent))) < 10 ** (-50 / 20)
    assert moved("tts_output_clipped_ratio_count") == 3
    assert moved("tts_output_clipped_ratio_bucket", le="0.0") == 2  # plain and silent: no full-scale sample
    upper = next(b for b in (0.05, 0.1, 0.25, 0.5, 1.0) if clip_share <= b)
    assert moved("tts_output_clipped_ratio_bucket", le="0.01") == 2  # the loud one is above 1 %...
    assert moved("tts_output_clipped_ratio_bucket", le=str(upper)) == 3  # ...in the bucket of the client's share
    assert moved("tts_output_silence_ratio_bucket", le="0.99") == 2  # only the silent one is over 99 % silence
    assert moved("tts_output_silence_ratio_bucket", le="1.0") == 3
    assert moved("tts_output_loudness_lufs_bucket", le="-70.0") == 1  # the silent one
    assert moved("tts_output_seconds_per_char_count") == 3

    # the same traffic each minute for half an hour, from the exported values: the rules must fire on it
    series = []
    for (name, labels), now in after.items():
        if name.endswith(("_bucket", "_count")) and (
            "le" not in dict(labels) or dict(labels)["le"] in ("0.001", "0.99")
        ):
            then = before.get((name, labels), 0.0)
            selector = ",".join(f'{k}="{v}"' for k, v in labels)
            series.append({"series": f"{name}{{{selector}}}", "values": f"{then:g}+{now - then:g}x30"})
    checks = [
        {"eval_time": "20m", "alertname": a, "exp_alerts": [expected(a, voice=VOICE)]}
        for a in ("TTSClippedOutput", "TTSSilentOutput")
    ]
    result = run_rule_tests(tmp_path, series, checks)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_clipped_job_result_is_measured_once(server):
    before = scrape(server.url)
    loud = f'<speak><prosody volume="+20dB">{TEXT} {TEXT}</prosody></speak>'  # jobs take volume through SSML
    body = {"text": loud, "options": {"format": "wav"}}
    response = httpx.post(f"{server.url}/v1/jobs", json=body, timeout=60)
    assert response.status_code == 202, response.text
    job = wait_job(server.url, response.json()["id"], timeout_s=120)
    assert job["state"] == "completed"
    result = httpx.get(f"{server.url}/v1/jobs/{job['id']}/audio", timeout=60)
    assert result.status_code == 200
    after = scrape(server.url)
    samples = decode_wav(result.content)[0]
    assert float(np.mean(np.abs(samples) >= 0.999)) > 0.01  # the client's ground: the result clips
    assert value(after, "tts_output_clipped_ratio_count") - value(before, "tts_output_clipped_ratio_count") == 1
    moved = value(after, "tts_output_clipped_ratio_bucket", le="0.01") - value(
        before, "tts_output_clipped_ratio_bucket", le="0.01"
    )
    assert moved == 0  # over 1 % of its samples at full scale
