"""The request budget (tts_predictor/budget.py) and the decode bounds it backs (issue 23, findings 5 and 9):
header-declared rates, channels and lengths are refused before any sample is decoded."""

from __future__ import annotations

import tracemalloc

import pytest
from hostile_audio import flac_declaring, silence, speech_like, vorbis_declaring

from tts_predictor import budget
from tts_predictor.audio.decode import decode_audio
from tts_predictor.budget import RequestBudget
from tts_predictor.errors import BudgetExceeded
from tts_predictor.settings import Settings


def test_limits_come_from_the_settings():
    spend = RequestBudget.from_settings(
        Settings(max_request_text_chars=10, max_request_audio_seconds=5, max_upload_channels=2)
    )
    assert (spend.max_text_chars, spend.max_audio_s, spend.max_channels) == (10, 5.0, 2)


@pytest.mark.parametrize(
    ("charge", "setting"),
    [
        (lambda b: b.charge_text(60, "text[1]"), "TTS_MAX_REQUEST_TEXT_CHARS"),
        (lambda b: b.charge_audio(60), "TTS_MAX_REQUEST_AUDIO_SECONDS"),
        (lambda b: b.charge_output(60), "TTS_MAX_REQUEST_OUTPUT_BYTES"),
        (lambda b: b.charge_decoded("audio", 4, 4), "TTS_MAX_REQUEST_DECODED_BYTES"),
    ],
)
def test_charges_add_up_and_the_error_names_the_limit(charge, setting):
    spend = RequestBudget(max_text_chars=100, max_audio_s=100, max_output_bytes=100, max_decoded_bytes=100)
    charge(spend)  # 60 of 100 (decoded: 4 x 4 x 4 = 64 bytes)
    with pytest.raises(BudgetExceeded) as err:
        charge(spend)
    assert setting in str(err.value) and "100" in str(err.value)


def test_a_budget_is_shared_by_everything_in_its_scope():
    with budget.scoped(RequestBudget(max_audio_s=10)):
        budget.current().charge_audio(6)
        with pytest.raises(BudgetExceeded):
            budget.current().charge_audio(6)
    budget.current().charge_audio(6)  # outside a request: a fresh default budget per call


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (flac_declaring(silence("FLAC", 1, 48000, 8), rate=1_048_575), "1048575 Hz"),
        (vorbis_declaring(silence("OGG", 1, 48000, 1, "VORBIS"), 1_000_000_000), "1000000000 Hz"),
        (flac_declaring(silence("FLAC", 1, 16000, 2), channels=8), None),
    ],
)
def test_absurd_header_rates_are_refused_before_decoding(data, named):
    with budget.scoped(RequestBudget(max_channels=4)):
        with pytest.raises(BudgetExceeded) as err:
            decode_audio(data, "speaker_wav", max_s=30)
    message = str(err.value)
    assert message.startswith("speaker_wav:")
    if named is not None:
        assert named in message and "TTS_MAX_UPLOAD_SAMPLE_RATE" in message
    else:
        assert "8 channels" in message and "TTS_MAX_UPLOAD_CHANNELS" in message


def test_decoded_size_is_charged_from_the_header_before_decoding():
    """25 s of 192 kHz x 8 channels: a 30 KB FLAC that decodes to 154 MB of float32 is refused from its header."""
    bomb = silence("FLAC", 25, 192_000, 8)
    assert len(bomb) < 100_000
    tracemalloc.start()
    try:
        with budget.scoped(RequestBudget(max_decoded_bytes=64 * 2**20)):
            with pytest.raises(BudgetExceeded) as err:
                decode_audio(bomb, "audio", max_s=30)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "TTS_MAX_REQUEST_DECODED_BYTES" in str(err.value) and "8 channels" in str(err.value)
    assert peak < 20e6, f"nothing was decoded (peak {peak / 1e6:.0f} MB)"


def test_decodes_within_the_budget_count_against_it():
    sample = speech_like("WAV", 5, 16000)  # 80,000 frames = 320,000 float32 bytes
    with budget.scoped(RequestBudget(max_decoded_bytes=500_000)):
        assert decode_audio(sample, "audio", max_s=30).duration_s == pytest.approx(5)
        with pytest.raises(BudgetExceeded, match="TTS_MAX_REQUEST_DECODED_BYTES"):
            decode_audio(sample, "audio", max_s=30)
