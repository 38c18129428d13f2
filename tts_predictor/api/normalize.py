"""POST /v1/normalize: what the engine will speak for a text or SSML document, without synthesizing it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from tts_predictor.api.common import check_text, synth_of
from tts_predictor.api.rest import RestRoute
from tts_predictor.pipeline.front import Front
from tts_predictor.text.preview import preview


class NormalizeRequest(BaseModel):
    """Body of POST /v1/normalize."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(..., description="Plain text or an SSML document (<speak>...).")
    language: str | None = Field(None, description="Language code such as en-US; default: the voice's language.")
    voice: str | None = Field(None, description="Voice id; picks the default language and voice-specific lexicons.")
    ssml: bool | None = Field(None, description="true: text is SSML; false: plain; absent: detect '<speak'.")
    normalize: bool = Field(True, description="false: show the text as the engine gets it without normalization.")
    lexicons: list[str] | None = Field(None, description="Names of loaded PLS lexicons to apply (TTS_LEXICONS).")


def build_router(predictor: Front) -> APIRouter:
    """The /v1/normalize route for `predictor`."""
    router = APIRouter(route_class=RestRoute, tags=["rest"])

    @router.post("/v1/normalize", summary="Preview normalization: per segment, the text the engine will speak")
    async def normalize(body: NormalizeRequest) -> dict[str, Any]:
        check_text(body.text, predictor.settings.max_text_chars)
        voice, language = synth_of(predictor).catalog.resolve(body.voice, body.language)
        segments = preview(
            body.text,
            language=body.language or language,
            ssml=body.ssml,
            normalize=body.normalize,
            voice=body.voice,
            lexicons=body.lexicons,
        )
        return {
            "language": language,
            "text_language": body.language or language,
            "voice": voice.id,
            "segments": segments,
        }

    return router
