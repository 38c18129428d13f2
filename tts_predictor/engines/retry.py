"""Retrying a model load with backoff: the model may appear after the server starts.

KServe mounts an `oci://` model image (a modelcar) through a sidecar, so /mnt/models exists only some time after
the server starts, and it says so with MODEL_INIT_MODE=async (kserve pkg/utils/storage.go
ConfigureModelcarToContainer). A download or a network volume can fail once and succeed on the next try. Without a
retry, a single failed load leaves the pod unready until its startup probe kills it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from tts_predictor.errors import MissingExtra

log = logging.getLogger(__name__)

T = TypeVar("T")


def model_init_async(mode: str) -> bool:
    """Whether KServe said the model directory may appear later (MODEL_INIT_MODE=async, Settings.model_init_mode)."""
    return mode.strip().lower() == "async"


def retry_load(
    load: Callable[[], T],
    *,
    name: str,
    give_up_after: float | None,
    first_delay: float = 1.0,
    max_delay: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call `load` until it returns, sleeping `first_delay` doubling up to `max_delay` between tries.

    Args:
        load: the load; any exception but MissingExtra (a package will not appear by waiting) counts as a failed try.
        name: the model, for the log.
        give_up_after: seconds after which the last error is raised; None = keep trying.
        first_delay, max_delay: the backoff.
        sleep, clock: injectable for tests.

    Returns:
        What `load` returned.

    Raises:
        Exception: the last try's error, once `give_up_after` has passed.
    """
    started, delay, attempt = clock(), first_delay, 1
    while True:
        try:
            return load()
        except MissingExtra:
            raise
        except Exception as exc:
            elapsed = clock() - started
            if give_up_after is not None and elapsed + delay > give_up_after:
                log.error("model %s: load try %d failed, giving up after %.0f s: %s", name, attempt, elapsed, exc)
                raise
            log.warning("model %s: load try %d failed (%s); retrying in %.0f s", name, attempt, exc, delay)
        sleep(delay)
        delay, attempt = min(delay * 2, max_delay), attempt + 1
