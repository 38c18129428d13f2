"""Logging setup: kserve's text format by default, or JSON lines rendered by structlog (TTS_LOG_FORMAT=json)."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_control(value: str) -> str:
    """`value` with control characters (newlines, ANSI escapes, ...) written as escapes: one record, one line."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), value)


def _escaped(value: Any) -> Any:
    return escape_control(value) if isinstance(value, str) else value


def _escape_exception(record: logging.LogRecord) -> None:
    """Pre-format the traceback with the exception's message escaped (it may quote a client's value)."""
    exc = record.exc_info[1]  # type: ignore[index]
    message = str(exc)
    if _CONTROL.search(message):
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")  # type: ignore[misc]
        record.exc_text = text.replace(message, escape_control(message))


def install_log_escaping() -> None:
    """Escape control characters in every log record's message and string arguments (any logger, any handler),
    so a voice name or header with a newline cannot forge log lines; in tracebacks, the exception's message."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "escapes_control", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.msg = _escaped(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_escaped(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _escaped(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[1] is not None:
            _escape_exception(record)
        return record

    factory.escapes_control = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


PER_REQUEST_LOGGERS = ("uvicorn.access", "kserve.trace")
"""uvicorn's access line and kserve's timings (two per request, plus the stage latencies): below our one access line
(`tts_predictor.access`, written by the gateway), shown only at TTS_LOG_LEVEL=DEBUG."""


def quiet_per_request_logs(level: str) -> None:
    """One log line per request by default: kserve's and uvicorn's own per-request lines only at DEBUG.

    Call it after kserve configured its loggers (kserve.ModelServer.__init__ runs its dictConfig, which sets them
    to INFO)."""
    for name in PER_REQUEST_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def configure_logging(log_format: str, level: str) -> None:
    """Set our level; with `json`, render every record (ours, kserve's, uvicorn's) as one JSON object per line."""
    install_log_escaping()
    ours = logging.getLogger("tts_predictor")
    ours.setLevel(level)
    if log_format != "json":
        # kserve configures handlers for its own loggers only: without one, our INFO lines (model loaded,
        # device chosen) would reach Python's last-resort handler, which prints WARNING and above.
        if not ours.handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(
                logging.Formatter(
                    "%(asctime)s.%(msecs)03d %(process)s %(name)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"
                )
            )
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
        handlers: list[logging.Handler] = logger.handlers or ([] if name else [logging.StreamHandler()])
        for each in handlers:
            each.setFormatter(formatter)
            if each not in logger.handlers:
                logger.addHandler(each)
