"""Quality feedback (POST /v1/feedback): the body's checks, each failure a 400 naming the field and what is allowed."""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from tts_predictor.errors import FieldError
from tts_predictor.usage.recorder import RecentRequest
from tts_predictor.usage.records import FeedbackRecord

TAGS = ("mispronunciation", "wrong_number_reading", "audio_glitch", "wrong_language", "other")
"""The tags a rating may carry; `mispronunciation` may name a character span of the request text."""
MAX_COMMENT_CHARS = 1000
MAX_TAGS = len(TAGS) * 4
MAX_REQUEST_ID_CHARS = 128
FIELDS = ("request_id", "rating", "tags", "comment")


def parse_feedback(body: Any) -> tuple[str, int, list[dict[str, Any]], str]:
    """(request id, rating, tags, comment) of a feedback body.

    Raises:
        FieldError: an unknown field, a missing or malformed request id, a rating outside 1-5, a tag outside
            `TAGS`, a bad span, a comment over `MAX_COMMENT_CHARS` or with control characters.
    """
    if not isinstance(body, dict):
        raise FieldError("body", "the body must be a JSON object with request_id, rating, tags and comment")
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise FieldError(str(unknown[0])[:64], f"unknown field {str(unknown[0])[:64]!r}; allowed: {', '.join(FIELDS)}")
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= MAX_REQUEST_ID_CHARS or not _printable(request_id):
        raise FieldError(
            "request_id",
            f"request_id: the X-Request-Id of a synthesis (1-{MAX_REQUEST_ID_CHARS} printable ASCII characters)",
        )
    rating = body.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise FieldError("rating", "rating: an integer from 1 (bad) to 5 (good)")
    return request_id, rating, _tags(body.get("tags", [])), _comment(body.get("comment", ""))


def _printable(text: str) -> bool:
    return text.isascii() and text.isprintable()


def _tags(tags: Any) -> list[dict[str, Any]]:
    allowed = ", ".join(TAGS)
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise FieldError("tags", f"tags: a list of at most {MAX_TAGS} tags; allowed tags: {allowed}")
    out = []
    for i, item in enumerate(tags):
        tag, span = (item, None) if isinstance(item, str) else _tag_object(item, i, allowed)
        if tag not in TAGS:
            raise FieldError(f"tags[{i}]", f"tags[{i}]: unknown tag {str(tag)[:40]!r}; allowed tags: {allowed}")
        out.append({"tag": tag, **({"span": span} if span else {})})
    return out


def _tag_object(item: Any, i: int, allowed: str) -> tuple[Any, dict[str, int] | None]:
    if not isinstance(item, dict) or set(item) - {"tag", "span"}:
        raise FieldError(
            f"tags[{i}]", f'tags[{i}]: a tag name or {{"tag": ..., "span": {{"start", "end"}}}}; {allowed}'
        )
    span = item.get("span")
    if span is None:
        return item.get("tag"), None
    if item.get("tag") != "mispronunciation":
        raise FieldError(f"tags[{i}].span", f"tags[{i}].span: only a mispronunciation names a character span")
    start: Any = span.get("start") if isinstance(span, dict) else None
    end: Any = span.get("end") if isinstance(span, dict) else None
    if not (_offset(start) and _offset(end) and start < end):
        raise FieldError(f"tags[{i}].span", f"tags[{i}].span: {{start, end}} character offsets, 0 <= start < end")
    return "mispronunciation", {"start": start, "end": end}


def _offset(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10**9


def _comment(comment: Any) -> str:
    if not isinstance(comment, str):
        raise FieldError("comment", f"comment: a string of at most {MAX_COMMENT_CHARS} characters")
    if len(comment) > MAX_COMMENT_CHARS:
        raise FieldError("comment", f"comment: {len(comment)} characters; at most {MAX_COMMENT_CHARS}")
    try:
        comment.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError("comment", "comment: not valid Unicode (a lone surrogate)") from None
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in comment):
        raise FieldError("comment", "comment: control characters other than newline and tab are not allowed")
    return comment


def check_spans(tags: list[dict[str, Any]], request: RecentRequest) -> None:
    """400 when a span reaches past the rated request's text."""
    for i, tag in enumerate(tags):
        span = tag.get("span")
        if span and span["end"] > request.characters:
            raise FieldError(
                f"tags[{i}].span",
                f"tags[{i}].span: end {span['end']} is past the request's {request.characters} characters",
            )


def feedback_record(request_id: str, key: str, rating: int, tags: list[dict[str, Any]], comment: str,
                    request: RecentRequest) -> FeedbackRecord:  # fmt: skip
    """The record stored for a rating of `request`."""
    return FeedbackRecord(
        request_id,
        time.time(),
        key,
        rating,
        tags,
        comment,
        request.route,
        request.voice,
        request.format,
        request.text_sha256,
        request.text_chars,
        request.text,
    )
