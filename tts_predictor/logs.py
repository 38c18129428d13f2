"""Logging setup: kserve's text format by default, or JSON lines rendered by structlog (TTS_LOG_FORMAT=json)."""

from __future__ import annotations

import logging


def configure_logging(log_format: str, level: str) -> None:
    """Set our level; with `json`, render every record (ours, kserve's, uvicorn's) as one JSON object per line."""
    ours = logging.getLogger("tts_predictor")
    ours.setLevel(level)
    if log_format != "json":
        # kserve configures handlers for its own loggers only: without one, our INFO lines (model loaded,
        # device chosen) would reach Python's last-resort handler, which prints WARNING and above.
        if not ours.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter(
                "%(asctime)s.%(msecs)03d %(process)s %(name)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
            ours.addHandler(handler)
            ours.propagate = False
        return
    import structlog

    formatter = structlog.stdlib.ProcessorFormatter(
        processor=structlog.processors.JSONRenderer(),
        foreign_pre_chain=[
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
    )
    for name in ("", "kserve", "kserve.trace", "uvicorn", "uvicorn.error", "uvicorn.access", "tts_predictor"):
        logger = logging.getLogger(name)
        for handler in logger.handlers or ([] if name else [logging.StreamHandler()]):
            handler.setFormatter(formatter)
            if handler not in logger.handlers:
                logger.addHandler(handler)
