"""Model-load retry with backoff (tts_predictor/engines/retry.py)."""

from __future__ import annotations

import pytest

from tts_predictor.engines.retry import model_init_async, retry_load


class FakeTime:
    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def flaky(failures: int) -> tuple[list[int], object]:
    calls: list[int] = []

    def load() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise FileNotFoundError("/mnt/models not found")
        return "engine"

    return calls, load


def test_retries_with_doubling_backoff_and_logs_each_try(caplog: pytest.LogCaptureFixture) -> None:
    t = FakeTime()
    calls, load = flaky(7)
    with caplog.at_level("WARNING", logger="tts_predictor.engines.retry"):
        assert retry_load(load, name="tts", give_up_after=None, sleep=t.sleep, clock=lambda: t.now) == "engine"
    assert len(calls) == 8 and t.sleeps == [1, 2, 4, 8, 16, 30, 30]
    assert [r.getMessage() for r in caplog.records][0] == (
        "model tts: load try 1 failed (/mnt/models not found); retrying in 1 s"
    )
    assert len(caplog.records) == 7


def test_gives_up_after_the_budget() -> None:
    t = FakeTime()
    calls, load = flaky(100)
    with pytest.raises(FileNotFoundError):
        retry_load(load, name="tts", give_up_after=20, sleep=t.sleep, clock=lambda: t.now)
    assert t.sleeps == [1, 2, 4, 8] and len(calls) == 5  # 15 s slept; the next 16 s wait would pass 20 s
    t0 = FakeTime()
    calls, load = flaky(1)
    with pytest.raises(FileNotFoundError):
        retry_load(load, name="tts", give_up_after=0, sleep=t0.sleep, clock=lambda: t0.now)
    assert len(calls) == 1 and t0.sleeps == []


@pytest.mark.parametrize(("value", "expected"), [("async", True), ("ASYNC", True), ("sync", False), (None, False)])
def test_model_init_mode(value: str | None, expected: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """KServe's own variable (no TTS_ prefix) reaches Settings.model_init_mode."""
    from tts_predictor.settings import Settings, env_name

    if value is None:
        monkeypatch.delenv("MODEL_INIT_MODE", raising=False)
    else:
        monkeypatch.setenv("MODEL_INIT_MODE", value)
    assert model_init_async(Settings().model_init_mode) is expected
    assert env_name("model_init_mode") == "MODEL_INIT_MODE"


def test_a_missing_extra_is_not_retried() -> None:
    """A package that is not installed will not appear by waiting: the first MissingExtra is raised at once."""
    from tts_predictor.errors import MissingExtra, require_extra

    t, calls = FakeTime(), []

    def load() -> None:
        calls.append(1)
        require_extra("tts_predictor_no_such_module", "coqui", "the Coqui model 'x'")

    with pytest.raises(MissingExtra, match=r"pip install 'tts-predictor\[coqui\]'"):
        retry_load(load, name="tts", give_up_after=None, sleep=t.sleep, clock=lambda: t.now)
    assert calls == [1] and t.sleeps == []
