"""VoiceCatalog: resolve a request's `voice` and `language` against the loaded voices."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from tts_predictor.engines.base import Voice
from tts_predictor.errors import FieldError, UnknownLanguage, UnknownVoice, VoiceConflict, VoiceNotFound
from tts_predictor.voices.access import Ownership, VoiceAccess

_LIST_LIMIT = 40
GENDERS = ("female", "male")
"""Values of the `gender` selection parameter (and of Voice.gender where a model card says)."""
TRANSIENT_VOICES = 32
_DISCOVERABLE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.:")
"""Characters of a voice id worth asking the on-demand hook about (catalogue names such as en_GB-alan-medium)."""
"""Voices made from per-request samples that stay resolvable (unlisted); beyond this many the least recently
used one is dropped."""


def canonical_language(code: str) -> str:
    """Compare language codes case-insensitively with `_` and `-` equal (en_US == en-us)."""
    return code.strip().replace("_", "-").lower()


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_LIST_LIMIT])
    return shown if len(items) <= _LIST_LIMIT else f"{shown}, … ({len(items)} in all; GET /v2/models/<name>/voices)"


class VoiceCatalog:
    """The voices of the loaded model, with the default first."""

    def __init__(self, voices: list[Voice], default: str | None = None):
        if not voices:
            raise ValueError("a model must expose at least one voice")
        self.by_id = {v.id: v for v in voices}
        if default is not None and default not in self.by_id:
            raise UnknownVoice(
                f"default_voice '{default}' is not a voice of this model; valid: {_listing(list(self.by_id))}"
            )
        self.default = self.by_id[default] if default else voices[0]
        self.transient: OrderedDict[str, Voice] = OrderedDict()
        self.owners: dict[str, Ownership] = {}
        """Owner and shared flag of each stored voice (built-in voices have none: everyone's)."""
        self.access = VoiceAccess()
        """Who may use which stored voice (set by the predictor from the configured keys)."""
        self.on_unknown: Callable[[str], list[Voice]] | None = None
        """On-demand hook (the voice pool's `discover`): the voices of a model added for an unknown voice id."""
        self.detect_language = True
        """Detect the language per sentence when a request names none (TTS_DETECT_LANGUAGE)."""
        self.detect_among: tuple[str, ...] = ()
        """Languages detection may choose (TTS_DETECT_CANDIDATES); empty: every language a voice speaks."""

    def __getstate__(self) -> dict[str, object]:
        """Pickled (Ray sends the catalogue to its driver) without the on-demand hook, a bound method of the
        replica's voice pool, whose locks do not pickle: the driver's copy resolves only the voices it lists."""
        return {**self.__dict__, "on_unknown": None}

    def ensure_free(self, voice_id: str) -> None:
        """Raise VoiceConflict if `voice_id` is taken (by a model's voice or a stored one)."""
        if voice_id in self.by_id:
            raise VoiceConflict(f"name: a voice '{voice_id}' exists already; pick another name or DELETE it first")

    def add(self, voice: Voice, ownership: Ownership | None = None) -> None:
        """List a voice made at run time (a stored cloned voice) with its owner."""
        self.ensure_free(voice.id)
        self.by_id[voice.id] = voice
        self.owners[voice.id] = ownership or Ownership()

    def remove(self, voice_id: str) -> Voice:
        """Unlist a run-time voice the caller may manage; the model's own voices stay. Another key's voice is
        'not found' like a voice that does not exist."""
        voice = self.by_id.get(voice_id)
        if voice is None or voice.store is None or not self.access.may_manage(self.owners.get(voice_id)):
            raise VoiceNotFound(f"voice '{voice_id}' is not a stored (cloned) voice")
        self.owners.pop(voice_id, None)
        return self.by_id.pop(voice_id)

    def usable(self, voice_id: str) -> Voice | None:
        """The listed voice `voice_id` if the current caller may use it (`voice_access`), else None."""
        voice = self.by_id.get(voice_id)
        return voice if voice is not None and self.access.may_use(self.owners.get(voice_id)) else None

    def visible(self) -> list[Voice]:
        """The voices the current caller may list and use."""
        return [v for v in self.by_id.values() if self.access.may_use(self.owners.get(v.id))]

    def owned_by(self, owner: str) -> int:
        """How many stored voices `owner` has (per-key quota)."""
        return sum(1 for o in self.owners.values() if o.owner == owner)

    def add_transient(self, voice: Voice) -> Voice | None:
        """Keep a per-request voice resolvable (unlisted); returns the one evicted to stay bounded, if any."""
        self.transient[voice.id] = voice
        self.transient.move_to_end(voice.id)
        return self.transient.popitem(last=False)[1] if len(self.transient) > TRANSIENT_VOICES else None

    @property
    def voices(self) -> list[Voice]:
        """All voices."""
        return list(self.by_id.values())

    def resolve(self, voice_id: str | None, language: str | None, gender: str | None = None) -> tuple[Voice, str]:
        """The voice and language to use; raises UnknownVoice / UnknownLanguage / FieldError listing valid values.

        Without `voice_id` the voice is chosen by `language` and `gender` (`pick`); with one, a `gender` it does
        not have is refused.
        """
        check_gender(gender)
        if voice_id is None:
            voice = self.pick(language, gender) if language or gender else self.default
        elif self.usable(voice_id) is not None:
            voice = self.by_id[voice_id]
        elif voice_id in self.transient:
            voice = self.transient[voice_id]
        elif "+" in voice_id or "*" in voice_id:
            voice = self.blend(voice_id)
        elif (found := self.discover(voice_id)) is not None:
            voice = found
        else:
            raise UnknownVoice(f"voice: unknown voice '{voice_id}'; valid voices: {_listing(self._ids())}")
        if gender is not None and voice.gender is not None and voice.gender != gender:
            raise FieldError("gender", f"gender: voice '{voice.id}' is {voice.gender}, not {gender}; leave out one")
        if language is None:
            return voice, voice.languages[0]
        matched = match_language(language, list(voice.languages))
        if matched is None:
            raise UnknownLanguage(
                f"language: voice '{voice.id}' does not speak '{language}'; supported: {_listing(list(voice.languages))}"
            )
        return voice, matched

    def choose(self, voice_id: str | None, language: str | None, gender: str | None = None) -> VoiceChoice:
        """`resolve`, with what was asked kept beside what was chosen (for the response's quality and variant)."""
        voice, spoken = self.resolve(voice_id, language, gender)
        return VoiceChoice(voice, spoken, language)

    def blend(self, expression: str) -> Voice:
        """A weighted blend such as ``p225*0.7+p226*0.3`` of voices that support mixing (same model)."""
        parts = []
        for term in expression.split("+"):
            name, _, weight = term.strip().partition("*")
            try:
                value = float(weight) if weight else 1.0
            except ValueError:
                raise UnknownVoice(
                    f"voice: bad weight '{weight}' in '{expression}'; use e.g. alice*0.7+bob*0.3"
                ) from None
            if self.usable(name.strip()) is None:
                raise UnknownVoice(
                    f"voice: unknown voice '{name.strip()}' in blend; valid voices: {_listing(self._ids())}"
                )
            if not 0 < value <= 100:
                raise UnknownVoice(f"voice: weight of '{name.strip()}' must be > 0 and <= 100, got {value:g}")
            parts.append((self.by_id[name.strip()], value))
        mixable = {v.id for v, _ in parts if "mixing" in v.capabilities}
        if len(mixable) != len(parts) or len({v.engine for v, _ in parts}) != 1:
            raise UnknownVoice(
                "voice: blends need voices of one model with speaker embeddings (capability 'mixing'); "
                f"mixable voices here: {_listing([v.id for v in self.visible() if 'mixing' in v.capabilities]) or 'none'}"
            )
        total = sum(w for _, w in parts)
        first = parts[0][0]
        return replace(
            first, id=expression, speaker=first.speaker, mix=tuple((v.speaker or v.id, w / total) for v, w in parts)
        )

    def discover(self, voice_id: str) -> Voice | None:
        """Ask the on-demand hook about a plausible unknown id; list the voices it brings."""
        if self.on_unknown is None or not 0 < len(voice_id) <= 128 or not set(voice_id) <= _DISCOVERABLE:
            return None
        if ".." in voice_id:
            return None
        for voice in self.on_unknown(voice_id):
            self.by_id.setdefault(voice.id, voice)
        return self.usable(voice_id)

    def _ids(self) -> list[str]:
        return [v.id for v in self.visible()]

    def pick(self, language: str | None, gender: str | None = None, prefer: Voice | None = None) -> Voice:
        """The voice for `language` (any when None) with `gender` (any when None): `prefer` if it fits, else as
        `_best_for` orders them (neural before formant, exact variant before primary, the default voice first)."""
        pool = [self.default, *(v for v in self.visible() if v.id != self.default.id)]
        pool = [v for v in pool if gender is None or v.gender == gender]
        if prefer is not None and any(v.id == prefer.id for v in pool):
            if language is None or match_language(language, list(prefer.languages)) is not None:
                return prefer
        voice = _best_for(language, pool) if language else next((v for v in pool if not is_formant(v)), None)
        if voice is None and pool and language is None:
            voice = pool[0]
        if voice is None:
            self._refuse_pick(language, gender)
        assert voice is not None
        return voice

    def _default_for(self, language: str) -> Voice:
        """The voice for a request naming only a language (`pick` without gender)."""
        return self.pick(language)

    def _refuse_pick(self, language: str | None, gender: str | None) -> None:
        speaking = [v for v in self.visible() if language is None or match_language(language, list(v.languages))]
        if not speaking:
            raise UnknownLanguage(
                f"language: unsupported language '{language}'; supported: {_listing(self.languages())}"
            )
        have = sorted({v.gender for v in speaking if v.gender})
        raise FieldError(
            "gender",
            f"gender: no {gender} voice" + (f" speaks '{language}'" if language else "") + "; "
            f"genders there: {', '.join(have) or 'none listed'}; allowed values: {', '.join(GENDERS)}",
        )

    def languages(self, *, neural_only: bool = False) -> list[str]:
        """Every language some voice speaks (`neural_only`: some neural voice), in first-seen order."""
        seen: dict[str, None] = {}
        for voice in self.by_id.values():
            if not (neural_only and is_formant(voice)):
                seen.update(dict.fromkeys(voice.languages))
        return list(seen)


def check_gender(gender: str | None) -> None:
    """Refuse a `gender` that is not one of GENDERS (400 naming the field and the allowed values)."""
    if gender is not None and gender not in GENDERS:
        raise FieldError("gender", f"gender: '{str(gender)[:40]}' is not one of: {', '.join(GENDERS)}")


def _best_for(language: str, voices: list[Voice]) -> Voice | None:
    """A neural voice of the exact variant, then one of the same primary language, then a formant (espeak-ng)
    voice of the exact variant, then of the primary language; `voices` in preference order (default first)."""
    for group in ([v for v in voices if not is_formant(v)], [v for v in voices if is_formant(v)]):
        if (voice := _exact_voice(language, group) or _primary_voice(language, group)) is not None:
            return voice
    return None


def is_formant(voice: Voice) -> bool:
    """Whether `voice` is one of espeak-ng's formant fallback voices."""
    return voice.quality == "formant"


def _exact_voice(language: str, voices: list[Voice]) -> Voice | None:
    """The first voice whose own (first) language is `language`, else the first listing it at all."""
    want = canonical_language(language)
    for pool in ([v.languages[:1] for v in voices], [v.languages for v in voices]):
        for voice, langs in zip(voices, pool):
            if any(canonical_language(lang) == want for lang in langs):
                return voice
    return None


def _primary_voice(language: str, voices: list[Voice]) -> Voice | None:
    """A voice of the same primary language (`match_language`), the one whose own language is the bare primary
    first (``es`` before ``es-419`` for ``es-MX``)."""
    fits = [v for v in voices if match_language(language, list(v.languages)) is not None]
    primary = canonical_language(language).split("-")[0]
    return next((v for v in fits if canonical_language(v.languages[0]) == primary), fits[0] if fits else None)


@dataclass(frozen=True)
class VoiceChoice:
    """What a request was answered with, against what it asked: the one place that says so to the caller."""

    voice: Voice
    """The voice that speaks."""
    language: str
    """The language (variant) it speaks, one of `voice.languages`."""
    asked: str | None = None
    """The language the request asked for, if any."""

    @property
    def substituted(self) -> bool:
        """True when another variant than the asked one is spoken (en-GB asked, en-US spoken); asking for a bare
        language (``en``) and getting one of its variants is no substitution."""
        if self.asked is None:
            return False
        asked, spoken = canonical_language(self.asked), canonical_language(self.language)
        return spoken != asked and not spoken.startswith(asked + "-")

    def headers(self) -> dict[str, str]:
        """HTTP headers: ``X-Voice-Quality`` always; ``X-Language-Substituted`` (the variant spoken) when it is not
        the asked one."""
        out = {"X-Voice-Quality": self.voice.quality}
        if self.substituted:
            out["X-Language-Substituted"] = self.language
        return out

    def fields(self) -> dict[str, object]:
        """The same for JSON (timings entries, stream start events)."""
        return {"quality": self.voice.quality, "spoken_language": self.language, "substituted": self.substituted}


def match_language(requested: str, available: list[str]) -> str | None:
    """Exact match first, then a unique primary-subtag match (en -> en-US, en-GB -> en)."""
    want = canonical_language(requested)
    for lang in available:
        if canonical_language(lang) == want:
            return lang
    primary = want.split("-")[0]
    candidates = [lang for lang in available if canonical_language(lang).split("-")[0] == primary]
    return candidates[0] if len(candidates) == 1 else None
