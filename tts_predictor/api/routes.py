"""Install the convenience APIs on kserve's FastAPI app: OpenAI-compatible, REST, WebSocket and the web UI."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, WebSocket
from fastapi.staticfiles import StaticFiles

from tts_predictor.api import beds, rest, voice_store
from tts_predictor.api import normalize as normalize_api
from tts_predictor.api import openai as openai_api
from tts_predictor.api.app_hooks import add_page
from tts_predictor.api.ws import stream_socket
from tts_predictor.pipeline.front import Front

UI_DIR = Path(__file__).with_name("ui")


def install_api(app: FastAPI, predictor: Front) -> None:
    """Add /v1/audio/speech, /v1/models, /synthesize, /batch_synthesize, /voices, /v1/voices (store of cloned
    voices), /v1/normalize, /config, /health, /ready, /live, the WebSocket /v1/stream and the UI at /ui (kserve keeps / as its
    liveness route)."""
    app.include_router(openai_api.build_router(predictor))
    app.include_router(rest.build_router(predictor))
    app.include_router(normalize_api.build_router(predictor))
    app.include_router(voice_store.build_router(predictor))
    app.include_router(beds.build_router(predictor))

    async def stream(websocket: WebSocket) -> None:
        await stream_socket(websocket, predictor)

    app.add_api_websocket_route("/v1/stream", stream)

    add_page(app, "/ui", UI_DIR / "index.html")
    app.mount("/ui/static", StaticFiles(directory=UI_DIR), name="tts-ui")
