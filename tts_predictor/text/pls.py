"""W3C Pronunciation Lexicon Specification (PLS 1.0) files: parsed with defusedxml, applied after normalization.

A ``<lexeme>`` with an ``<alias>`` replaces its graphemes with the alias text (works with every engine). One with
only a ``<phoneme>`` (``alphabet="ipa"``) is handed to espeak-ng-based voices as ``[[...]]`` phoneme input, the IPA
converted to espeak-ng's phoneme mnemonics (`ipa_to_espeak`); other engines skip it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml
from defusedxml.ElementTree import fromstring

from tts_predictor.errors import InvalidLexicon

PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"
_NS = "{" + PLS_NAMESPACE + "}"
MAX_LEXICON_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Lexeme:
    """One entry: the spellings it matches and what replaces them."""

    graphemes: tuple[str, ...]
    alias: str | None = None
    """Text spoken instead (``<alias>``)."""
    phoneme: str | None = None
    """IPA pronunciation (``<phoneme>``), used when there is no alias and the engine phonemizes with espeak-ng."""


@dataclass(frozen=True)
class Lexicon:
    """A parsed PLS document."""

    name: str
    language: str
    """The lexicon's ``xml:lang`` (it applies to text in this language, region ignored when matching)."""
    lexemes: tuple[Lexeme, ...]
    pattern: re.Pattern[str] = field(compare=False, repr=False)
    """Whole-word alternation of every grapheme, longest first."""
    by_grapheme: dict[str, Lexeme] = field(compare=False, repr=False)


def _local(tag: str) -> str:
    return tag[len(_NS) :] if tag.startswith(_NS) else tag


def parse_pls(document: str | bytes, name: str = "lexicon") -> Lexicon:
    """Parse a PLS document; InvalidLexicon (400) names the problem."""
    if len(document) > MAX_LEXICON_BYTES:
        raise InvalidLexicon(f"lexicon {name!r}: larger than {MAX_LEXICON_BYTES} bytes")
    try:
        root = fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ET.ParseError, defusedxml.DefusedXmlException) as exc:
        raise InvalidLexicon(f"lexicon {name!r}: not a valid PLS document ({type(exc).__name__}: {exc})") from None
    if _local(root.tag) != "lexicon":
        raise InvalidLexicon(f"lexicon {name!r}: the root element must be <lexicon> (namespace {PLS_NAMESPACE})")
    alphabet = root.get("alphabet", "ipa")
    language = root.get("{http://www.w3.org/XML/1998/namespace}lang", "")
    if not language:
        raise InvalidLexicon(f"lexicon {name!r}: <lexicon> needs xml:lang")
    lexemes = [_lexeme(el, alphabet, name) for el in root if _local(el.tag) == "lexeme"]
    by_grapheme = {g: lx for lx in lexemes for g in lx.graphemes}
    words = sorted(by_grapheme, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)" if words else r"(?!x)x")
    return Lexicon(name, language, tuple(lexemes), pattern, by_grapheme)


def _lexeme(el: ET.Element, alphabet: str, name: str) -> Lexeme:
    children = [(_local(c.tag), c) for c in el]
    graphemes = tuple(" ".join((c.text or "").split()) for tag, c in children if tag == "grapheme")
    aliases = [" ".join((c.text or "").split()) for tag, c in children if tag == "alias"]
    phonemes = [c for tag, c in children if tag == "phoneme"]
    if not any(graphemes):
        raise InvalidLexicon(f"lexicon {name!r}: a <lexeme> has no <grapheme>")
    phoneme = None
    if phonemes:
        if phonemes[0].get("alphabet", alphabet) != "ipa":
            raise InvalidLexicon(
                f"lexicon {name!r}: alphabet {phonemes[0].get('alphabet', alphabet)!r}; only 'ipa' is supported"
            )
        phoneme = "".join((phonemes[0].text or "").split())
    if not aliases and not phoneme:
        raise InvalidLexicon(f"lexicon {name!r}: lexeme {graphemes[0]!r} has neither <alias> nor <phoneme>")
    return Lexeme(tuple(g for g in graphemes if g), aliases[0] if aliases else None, phoneme)


def load_pls(path: str | Path) -> Lexicon:
    """Read a PLS file; its name is the file name without extension."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InvalidLexicon(f"lexicon file {str(p)!r} cannot be read: {exc.strerror}") from None
    return parse_pls(data, p.stem)


# IPA → espeak-ng phoneme mnemonics (English set; espeak-ng docs/phonemes.md). Longest sequences first.
_IPA_TO_ESPEAK = sorted(
    {
        "tʃ": "tS",
        "dʒ": "dZ",
        "eɪ": "eI",
        "aɪ": "aI",
        "ɔɪ": "OI",
        "aʊ": "aU",
        "oʊ": "oU",
        "əʊ": "@U",
        "ɪə": "i@",
        "eə": "e@",
        "ʊə": "U@",
        "ɜː": "3:",
        "ɑː": "A:",
        "ɔː": "O:",
        "iː": "i:",
        "uː": "u:",
        "ə": "@",
        "ɚ": "3",
        "æ": "a",
        "ɑ": "A:",
        "ɒ": "0",
        "ɔ": "O:",
        "ɛ": "E",
        "e": "e",
        "ɪ": "I",
        "i": "i",
        "ʊ": "U",
        "u": "u:",
        "ʌ": "V",
        "ɜ": "3:",
        "ɐ": "a#",
        "θ": "T",
        "ð": "D",
        "ʃ": "S",
        "ʒ": "Z",
        "ŋ": "N",
        "ɹ": "r",
        "r": "r",
        "ɾ": "t",
        "ɡ": "g",
        "ʔ": "?",
        "j": "j",
        "ˈ": "'",
        "ˌ": ",",
        "ː": ":",
        "ɫ": "l",
        "x": "x",
        "ç": "C",
        "ø": "Y",
        "y": "y",
        "œ": "W",
        "ʁ": "r",
        "ɲ": "n^",
        **{c: c for c in "pbtdkgfvszhmnlwao"},
    }.items(),
    key=lambda kv: -len(kv[0]),
)


def ipa_to_espeak(ipa: str) -> str:
    """'həˈloʊ' → "h@'loU" (unknown symbols are dropped)."""
    out, i = [], 0
    while i < len(ipa):
        for key, value in _IPA_TO_ESPEAK:
            if ipa.startswith(key, i):
                out.append(value)
                i += len(key)
                break
        else:
            i += 1
    return "".join(out)


def apply_lexicons(text: str, lexicons: list[Lexicon], espeak_phonemes: bool) -> tuple[str, list[dict[str, str]]]:
    """Replace every grapheme of `lexicons` (first lexicon wins) in `text`; returns the text and what was applied."""
    applied: list[dict[str, str]] = []
    for lexicon in lexicons:

        def swap(m: re.Match[str], lexicon: Lexicon = lexicon) -> str:
            entry = lexicon.by_grapheme[m.group(0)]
            if entry.alias is not None:
                spoken = entry.alias
            elif entry.phoneme and espeak_phonemes:
                spoken = f"[[{ipa_to_espeak(entry.phoneme)}]]"
            else:
                return m.group(0)
            applied.append({"lexicon": lexicon.name, "grapheme": m.group(0), "spoken": spoken})
            return spoken

        text = lexicon.pattern.sub(swap, text)
    return text, applied


def _base_language(code: str) -> str:
    return re.split(r"[-_]", code.strip().lower())[0]


class LexiconSet:
    """The lexicons a process loaded (``TTS_LEXICONS``): by name for requests, by language and voice by default."""

    def __init__(self, lexicons: list[tuple[Lexicon, str | None]] | None = None, espeak_phonemes: bool = False):
        self.entries = list(lexicons or [])
        """(lexicon, voice id it is limited to or None)."""
        self.espeak_phonemes = espeak_phonemes
        """Whether phoneme-only lexemes may be given to the engine as espeak-ng ``[[...]]`` input."""

    @classmethod
    def from_spec(cls, spec: str | None) -> LexiconSet:
        """Comma-separated ``path`` (a .pls file or a folder of them) or ``voice=path`` (only for that voice)."""
        entries: list[tuple[Lexicon, str | None]] = []
        for item in (s.strip() for s in (spec or "").split(",")):
            if not item:
                continue
            voice, _, path = item.rpartition("=") if "=" in item else (None, "", item)
            p = Path(path)
            files = sorted(p.glob("*.pls")) if p.is_dir() else [p]
            entries += [(load_pls(f), voice or None) for f in files]
        return cls(entries)

    def names(self) -> list[str]:
        """Names (file stems) of the loaded lexicons."""
        return [lexicon.name for lexicon, _ in self.entries]

    def select(self, language: str, voice: str | None = None, names: list[str] | None = None) -> list[Lexicon]:
        """Lexicons `names` asks for (in that order), then those configured for `language` (and `voice`)."""
        known = {lexicon.name: lexicon for lexicon, _ in self.entries}
        unknown = [n for n in names or () if n not in known]
        if unknown:
            loaded = ", ".join(known) or "none (set TTS_LEXICONS)"
            raise InvalidLexicon(f"lexicons: unknown lexicon {unknown[0]!r}; loaded: {loaded}")
        chosen = [known[n] for n in names or ()]
        base = _base_language(language)
        for lexicon, only_voice in self.entries:
            if lexicon not in chosen and _base_language(lexicon.language) == base and only_voice in (None, voice):
                chosen.append(lexicon)
        return chosen

    def apply(
        self, text: str, language: str, voice: str | None = None, names: list[str] | None = None
    ) -> tuple[str, list[dict[str, str]]]:
        """`text` with the selected lexicons applied."""
        if not self.entries:
            return text, []
        return apply_lexicons(text, self.select(language, voice, names), self.espeak_phonemes)


LEXICONS = LexiconSet()
"""The process's lexicons; `configure` replaces them at start (the predictor calls it with TTS_LEXICONS)."""


def configure(spec: str | None, espeak_phonemes: bool = False) -> LexiconSet:
    """Load the lexicons of `spec` as the process's set."""
    global LEXICONS
    LEXICONS = LexiconSet.from_spec(spec)
    LEXICONS.espeak_phonemes = espeak_phonemes
    return LEXICONS
