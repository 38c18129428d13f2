"""The one log line per request (logger `tts_predictor.access`, written by the gateway when a request ends).

``POST /synthesize 200 0.412s rid=<request id> route=/synthesize format=mp3 audio_s=2.35``: method, path, status,
duration, request id, the route template, the output format(s) and the seconds of audio the request produced (its
budget's count), when it synthesized. kserve's and uvicorn's per-request lines are shown only at DEBUG
(`logs.quiet_per_request_logs`).
"""

from __future__ import annotations

import logging

from starlette.types import Scope

from tts_predictor import budget, metrics

log = logging.getLogger("tts_predictor.access")


def access_line(scope: Scope, status: int | str, seconds: float, request_id: str, route: str) -> None:
    """Log the request described by `scope`; call it once, in the request's context, when it ends."""
    if not log.isEnabledFor(logging.INFO):
        return
    method = scope.get("method") or ("WS" if scope.get("type") == "websocket" else "-")
    fields = [f"{method} {scope.get('path', '')[:200]}", str(status), f"{seconds:.3f}s", f"rid={request_id}"]
    fields.append(f"route={route}")
    tally = metrics.current_tally()
    formats = sorted({fmt for _, _, fmt in tally.noted if fmt != "-"}) if tally is not None else []
    if formats:
        fields.append(f"format={','.join(formats)}")
    audio_s = budget.current().audio_s
    if audio_s:
        fields.append(f"audio_s={audio_s:.2f}")
    log.info(" ".join(fields))
