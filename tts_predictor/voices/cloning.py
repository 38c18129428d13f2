"""VoiceCloner: voices made from a sample of someone's speech, on models that can clone.

Two kinds, one mechanism (the model's own `clone_voice`, which stores `<dir>/<id>.pth`):
- stored voices (POST /v1/voices): named, listed, persisted under `cloned_voices_dir/<model>/`, bounded in number,
  restored at start; DELETE removes them;
- per-request samples (V2 input `speaker_wav`): named `sample-<sha256>`, so the embedding of a sample sent again
  is not recomputed and cached audio stays keyed by the sample; kept unlisted in a small LRU in a temp directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tts_predictor.audio.decode import reference_from_bytes
from tts_predictor.engines.base import Engine, Voice
from tts_predictor.errors import UnsupportedOption, VoiceConflict, VoiceNotFound
from tts_predictor.settings import Settings
from tts_predictor.voices.access import Ownership
from tts_predictor.voices.catalog import VoiceCatalog

log = logging.getLogger(__name__)


def engines_by_name(engine: Engine) -> dict[str, Engine]:
    """The loaded models by name (one, or the loaded members of a VoicePool)."""
    named = getattr(engine, "by_name", None)
    return dict(named) if named is not None else {getattr(engine, "name", engine.kind): engine}


class VoiceCloner:
    """Creates, restores and deletes cloned voices and keeps the catalogue in step."""

    def __init__(self, engine: Engine, catalog: VoiceCatalog, settings: Settings):
        self.catalog = catalog
        self.settings = settings
        self.root = Path(settings.cloned_voices_dir)
        self.models = {name: e for name, e in engines_by_name(engine).items() if getattr(e, "can_clone", False)}
        self._tmp = tempfile.TemporaryDirectory(prefix="tts-voice-samples-")  # removed at close or exit
        self._samples = Path(self._tmp.name)
        self._lock = threading.Lock()  # create/delete/sample bookkeeping (engine calls hold the engine's own lock)

    # -- stored voices -------------------------------------------------------------------------------
    def restore(self) -> int:
        """List the stored voices of every loaded cloning model (after a restart); returns how many."""
        count = 0
        for name, engine in self.models.items():
            folder = self.root / name
            for meta in sorted(folder.glob("*.json")) if folder.is_dir() else []:
                if (folder / f"{meta.stem}.pth").is_file() and meta.stem not in self.catalog.by_id:
                    stored = getattr(engine, "cloned_voice")(meta.stem, folder)  # cloning engines only
                    self.catalog.add(stored, _ownership(meta))
                    count += 1
        if count:
            log.info("restored %d stored voice(s) from %s", count, self.root)
        return count

    def stored(self) -> list[Voice]:
        """The stored (listed) cloned voices."""
        return [v for v in self.catalog.voices if v.store is not None]

    def create(
        self,
        name: str,
        data: bytes,
        model: str | None = None,
        consent: dict[str, Any] | None = None,
        shared: bool = False,
    ) -> dict[str, Any]:
        """Make and store a voice from `data` (audio file bytes), with its consent record, owned by the caller's
        key (`voice_access`); blocking (a thread)."""
        engine, model_name = self._engine(model, None, "model")
        self.catalog.ensure_free(name)  # before the costly clone; add() checks again under the lock
        owner = Ownership(self.catalog.access.caller(), shared)
        self._check_quota(owner.owner)
        reference = reference_from_bytes(
            data, "audio", min_s=self.settings.clone_min_seconds, max_s=self.settings.clone_max_seconds
        )
        folder = self.root / model_name
        started = time.perf_counter()
        voice = engine.clone(reference, name, folder)
        meta = {
            **voice.to_dict(),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "sample_seconds": round(reference.duration_s, 3),
            "sample_rate_in": reference.sample_rate,
            "clone_seconds": round(time.perf_counter() - started, 3),
            "consent": consent,
            "owner": owner.owner,
            "shared": owner.shared,
        }
        with self._lock:
            self._check_quota(owner.owner)  # again: concurrent uploads of one key
            self.catalog.add(voice, owner)  # VoiceConflict if a concurrent upload of the same name got here first
            (folder / f"{name}.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        log.info("stored cloned voice %s of model %s (%.1f s sample)", name, model_name, reference.duration_s)
        return meta

    def _check_quota(self, owner: str) -> None:
        """409 when the store (TTS_MAX_CLONED_VOICES) or, for a non-admin key, its share of it
        (TTS_MAX_CLONED_VOICES_PER_KEY) is full."""
        if len(self.stored()) >= self.settings.max_cloned_voices:
            raise VoiceConflict(
                f"the voice store is full ({self.settings.max_cloned_voices} voices, TTS_MAX_CLONED_VOICES); "
                "DELETE /v1/voices/<id> some first"
            )
        limit = self.settings.max_cloned_voices_per_key
        if not self.catalog.access.is_admin() and self.catalog.owned_by(owner) >= limit:
            raise VoiceConflict(
                f"this API key has {limit} stored voices, the most one key may have (TTS_MAX_CLONED_VOICES_PER_KEY); "
                "DELETE /v1/voices/<id> some first"
            )

    def describe(self, name: str) -> dict[str, Any]:
        """The stored metadata of a cloned voice the caller may use (404 if there is none, or it is another key's);
        the owner id only to its owner and admins."""
        voice = self.catalog.usable(name)
        if voice is None or voice.store is None:
            raise VoiceNotFound(f"no stored voice '{name}'; GET /v1/voices lists them")
        meta = Path(voice.store) / f"{name}.json"
        data = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else voice.to_dict()
        if not self.catalog.access.may_manage(self.catalog.owners.get(name)):
            data.pop("owner", None)  # a shared voice seen by another key: its owner id is the owner's business
        return data

    def delete(self, name: str) -> None:
        """Remove a stored voice: unlisted at once, its files deleted."""
        with self._lock:
            voice = self.catalog.remove(name)
        for suffix in (".pth", ".json"):
            (Path(voice.store or "") / f"{name}{suffix}").unlink(missing_ok=True)
        log.info("deleted stored voice %s", name)

    # -- per-request samples -------------------------------------------------------------------------
    def from_sample(self, data: bytes, voice_id: str | None, field: str = "speaker_wav") -> str:
        """A voice id for a per-request sample (cloned once per distinct sample); blocking."""
        engine, model_name = self._engine(None, voice_id, field)
        # through voice conversion the request's voice speaks before conversion: part of the sample voice's identity
        source = {"source": voice_id} if getattr(engine, "converts_voices", False) and voice_id else {}
        key = f"{model_name}|{voice_id}" if source else model_name
        name = f"sample-{hashlib.sha256(key.encode() + b'|' + data).hexdigest()[:24]}"
        if name in self.catalog.transient:
            self.catalog.add_transient(self.catalog.transient[name])  # most recently used again
            return name
        reference = reference_from_bytes(
            data, field, min_s=self.settings.clone_min_seconds, max_s=self.settings.clone_max_seconds
        )
        voice = engine.clone(reference, name, self._samples / model_name, **source)
        with self._lock:
            evicted = self.catalog.add_transient(voice)
        if evicted is not None and evicted.store:
            (Path(evicted.store) / f"{evicted.id}.pth").unlink(missing_ok=True)
        return name

    def close(self) -> None:
        """Delete the per-request samples (stored voices stay)."""
        self._tmp.cleanup()

    def _engine(self, model: str | None, voice_id: str | None, field: str) -> tuple[Any, str]:
        if not self.models:
            raise UnsupportedOption(
                f"{field}: no loaded model can clone voices (it needs a Coqui model with a speaker encoder, such as "
                "YourTTS, or XTTS, or a voice-conversion model in TTS_VC_MODEL); voices here can only be picked "
                "(GET /v1/voices) or blended"
            )
        if model is not None:
            if model not in self.models:
                raise UnsupportedOption(
                    f"model: '{model}' cannot clone voices here; models that can: {', '.join(self.models)}"
                )
            return self.models[model], model
        if voice_id is not None:
            owner = next((name for name, e in self.models.items() if voice_id in {v.id for v in e.voices()}), None)
            voice = self.catalog.by_id.get(voice_id)
            owner = owner or (voice.model if voice is not None and voice.model in self.models else None)
            if owner is None:
                raise UnsupportedOption(
                    f"voice: '{voice_id}' belongs to a model that cannot clone; with {field} name a voice of: "
                    f"{', '.join(self.models)} (or none)"
                )
            return self.models[owner], owner
        name = next(iter(self.models))
        return self.models[name], name


def _ownership(meta_file: Path) -> Ownership:
    """Owner and shared flag from a stored voice's metadata (voices stored before ownership: 'anonymous')."""
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    owner = meta.get("owner") if isinstance(meta, dict) else None
    return Ownership(
        owner if isinstance(owner, str) and owner else Ownership().owner,
        isinstance(meta, dict) and meta.get("shared") is True,
    )
