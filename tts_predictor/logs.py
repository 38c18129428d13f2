"""Logging setup: kserve's text format by default, or JSON lines rendered by structlog (TTS_LOG_FORMAT=json)."""

from __future__ import annotations

import logging


def configure_logging(log_format: str, level: str) -> None:
    """Set our level; with `json`, render every record (ours, kserve's, uvicorn's) as one JSON object per line."""
    logging.getLogger("tts_predictor").setLevel(level)
    if log_format != "json":
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
