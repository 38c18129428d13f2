"""SSML subset → list[Segment]: a pure, hardened parser (defusedxml; no DTDs, entities or external references)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace

import defusedxml
from defusedxml.ElementTree import DefusedXMLParser

from tts_predictor.errors import InvalidSSML
from tts_predictor.text import normalize as nz
from tts_predictor.text.segments import Segment
from tts_predictor.text.ssml_plan import Prosody, SegmentPlan
from tts_predictor.text.ssml_values import (
    BREAK_STRENGTH_S,
    EMPHASIS_LEVELS,
    MAX_BREAK_S,
    PARAGRAPH_PAUSE_S,
    PITCH_KEYWORDS_ST,
    PITCH_RANGE_ST,
    RATE_KEYWORDS,
    RATE_RANGE,
    SENTENCE_PAUSE_S,
    VOLUME_KEYWORDS_DB,
    VOLUME_RANGE_DB,
    parse_pitch,
    parse_rate,
    parse_time,
    parse_volume,
)

__all__ = [
    "BREAK_STRENGTH_S",
    "EMPHASIS_LEVELS",
    "MAX_BREAK_S",
    "PITCH_KEYWORDS_ST",
    "RATE_KEYWORDS",
    "SAY_AS_TYPES",
    "SUPPORTED_ELEMENTS",
    "VOLUME_KEYWORDS_DB",
    "InvalidSSML",
    "is_ssml",
    "parse_ssml",
]

SSML_NAMESPACE = "http://www.w3.org/2001/10/synthesis"
_XML_NS = "{http://www.w3.org/XML/1998/namespace}"
SSML_GENDERS = ("female", "male")
"""Values of ``<voice gender>`` (the same as the `gender` request parameter)."""

SUPPORTED_ELEMENTS: dict[str, frozenset[str]] = {
    "speak": frozenset({"xml:lang", "version"}),
    "p": frozenset({"xml:lang"}),
    "s": frozenset({"xml:lang"}),
    "break": frozenset({"time", "strength"}),
    "prosody": frozenset({"rate", "pitch", "volume"}),
    "emphasis": frozenset({"level"}),
    "say-as": frozenset({"interpret-as", "format"}),
    "sub": frozenset({"alias"}),
    "voice": frozenset({"name", "gender"}),
    "lang": frozenset({"xml:lang"}),
    "mark": frozenset({"name"}),
}
"""Supported SSML elements → the attributes each accepts (anything else is refused with InvalidSSML)."""

_SAY_AS: dict[str, Callable[[str, str, str | None], str]] = {
    "cardinal": lambda v, lang, fmt: nz.say_cardinal(v, lang),
    "number": lambda v, lang, fmt: nz.say_cardinal(v, lang),
    "ordinal": lambda v, lang, fmt: nz.say_ordinal(v, lang),
    "characters": lambda v, lang, fmt: nz.say_characters(v, lang),
    "spell-out": lambda v, lang, fmt: nz.say_characters(v, lang),
    "digits": lambda v, lang, fmt: nz.say_digits(v, lang),
    "date": lambda v, lang, fmt: nz.say_date(v, fmt or _default_date_format(v, lang), lang),
    "time": lambda v, lang, fmt: nz.say_time(v, lang),
    "telephone": lambda v, lang, fmt: nz.say_telephone(v, lang),
    "currency": lambda v, lang, fmt: nz.say_currency(v, lang),
    "fraction": lambda v, lang, fmt: nz.say_fraction(v, lang),
    "unit": lambda v, lang, fmt: nz.say_unit(v, lang),
}
SAY_AS_TYPES = tuple(_SAY_AS)


def _default_date_format(value: str, language: str) -> str:
    if re.match(r"\s*\d{4}\D", value):
        return "ymd"
    return "mdy" if language.lower().startswith("en") else "dmy"


def is_ssml(text: str) -> bool:
    """True when `text` looks like an SSML document (starts with ``<speak`` or ``<?xml``)."""
    head = text.lstrip("\ufeff \t\r\n")
    return head.startswith("<speak") or head.startswith("<?xml")


class _Builder(ET.TreeBuilder):
    """TreeBuilder that records element positions and enforces the depth and element-count caps."""

    def __init__(self, max_depth: int, max_elements: int) -> None:
        super().__init__()
        self.parser: DefusedXMLParser | None = None
        self.positions: dict[int, tuple[int, int]] = {}
        self.max_depth, self.max_elements, self.depth, self.count = max_depth, max_elements, 0, 0

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:  # type: ignore[override]
        self.depth += 1
        self.count += 1
        if self.depth > self.max_depth:
            raise InvalidSSML(f"SSML nesting deeper than {self.max_depth} elements{self._where()}")
        if self.count > self.max_elements:
            raise InvalidSSML(f"SSML has more than {self.max_elements} elements{self._where()}")
        elem = super().start(tag, attrs)
        if self.parser is not None:
            expat = self.parser.parser
            self.positions[id(elem)] = (expat.CurrentLineNumber, expat.CurrentColumnNumber + 1)
        return elem

    def end(self, tag: str) -> ET.Element:  # type: ignore[override]
        self.depth -= 1
        return super().end(tag)

    def _where(self) -> str:
        if self.parser is None:
            return ""
        return f" (line {self.parser.parser.CurrentLineNumber}, column {self.parser.parser.CurrentColumnNumber + 1})"


def _parse_xml(
    document: str | bytes, max_depth: int, max_elements: int
) -> tuple[ET.Element, dict[int, tuple[int, int]]]:
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidSSML(f"SSML must be UTF-8 text (bad byte at offset {exc.start})") from None
    builder = _Builder(max_depth, max_elements)
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    builder.parser = parser
    try:
        parser.feed(document)
        root = parser.close()
    except InvalidSSML:
        raise
    except ET.ParseError as exc:
        line, column = getattr(exc, "position", (0, -1))
        reason = str(exc).split(":")[0]
        raise InvalidSSML(f"malformed SSML at line {line}, column {column + 1}: {reason}") from None
    except defusedxml.DefusedXmlException:
        raise InvalidSSML("DTDs/entities are not allowed in SSML") from None
    except (UnicodeError, ValueError) as exc:
        raise InvalidSSML(f"SSML could not be read: {type(exc).__name__}") from None
    return root, builder.positions


def _local(tag: str) -> str:
    if tag.startswith("{" + SSML_NAMESPACE + "}"):
        return tag[len(SSML_NAMESPACE) + 2 :]
    return tag


def _attr_name(name: str) -> str:
    return "xml:" + name[len(_XML_NS) :] if name.startswith(_XML_NS) else name


class _Walker:
    def __init__(self, positions: dict[int, tuple[int, int]], default_language: str) -> None:
        self.positions, self.default_language, self.plan = positions, default_language, SegmentPlan()

    def fail(self, elem: ET.Element, detail: str) -> InvalidSSML:
        line, column = self.positions.get(id(elem), (0, 0))
        return InvalidSSML(f"<{_local(elem.tag)}> at line {line}, column {column}: {detail}")

    def attrs(self, elem: ET.Element) -> tuple[str, dict[str, str]]:
        tag = _local(elem.tag)
        if tag not in SUPPORTED_ELEMENTS:
            raise self.fail(elem, f"unsupported element; supported: {', '.join(SUPPORTED_ELEMENTS)}")
        attrs = {_attr_name(k): val for k, val in elem.attrib.items()}
        allowed = SUPPORTED_ELEMENTS[tag]
        for name in attrs:
            if name not in allowed:
                raise self.fail(
                    elem, f"unsupported attribute {name!r}; allowed: {', '.join(sorted(allowed)) or 'none'}"
                )
        return tag, attrs

    def required(self, elem: ET.Element, attrs: dict[str, str], name: str) -> str:
        if not attrs.get(name, "").strip():
            raise self.fail(elem, f"attribute {name!r} is required")
        return attrs[name].strip()

    def empty(self, elem: ET.Element, what: str = "text or child elements") -> None:
        if len(elem) or (elem.text or "").strip():
            raise self.fail(elem, f"must not contain {what}")

    def walk(self, elem: ET.Element, v: Prosody) -> None:
        tag, attrs = self.attrs(elem)
        handler = getattr(self, "on_" + tag.replace("-", "_"))
        handler(elem, attrs, v)

    def children(self, elem: ET.Element, v: Prosody) -> None:
        self.plan.text(elem.text or "", v)
        for child in elem:
            self.walk(child, v)
            self.plan.text(child.tail or "", v)

    def on_speak(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        self.children(elem, replace(v, language=attrs.get("xml:lang", v.language)))

    def on_lang(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        self.children(elem, replace(v, language=self.required(elem, attrs, "xml:lang")))

    def on_voice(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        """``<voice name>`` names a voice; ``<voice gender>`` (female, male) has the pipeline pick one."""
        gender = attrs.get("gender", "").strip() or None
        if gender is not None and gender not in SSML_GENDERS:
            raise self.fail(elem, f"gender={gender[:40]!r}; allowed: {', '.join(SSML_GENDERS)}")
        if gender is None or "name" in attrs:
            inner = replace(v, voice=self.required(elem, attrs, "name"), gender=gender)
        else:
            inner = replace(v, voice=None, gender=gender)
        self.plan.cut = True
        self.children(elem, inner)
        self.plan.cut = True

    def on_p(self, elem: ET.Element, attrs: dict[str, str], v: Prosody, pause: float = PARAGRAPH_PAUSE_S) -> None:
        self.plan.add_pause(0.0, structural=True)
        self.children(elem, replace(v, language=attrs.get("xml:lang", v.language)))
        self.plan.add_pause(pause, structural=True)

    def on_s(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        self.on_p(elem, attrs, v, SENTENCE_PAUSE_S)

    def on_break(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        self.empty(elem)
        if "time" in attrs:
            seconds = self.value(elem, "time", attrs["time"], parse_time)
        else:
            strength = attrs.get("strength", "medium")
            if strength not in BREAK_STRENGTH_S:
                raise self.fail(elem, f"strength={strength!r}; allowed: {', '.join(BREAK_STRENGTH_S)}")
            seconds = BREAK_STRENGTH_S[strength]
        if seconds > 0:
            self.plan.add_pause(min(seconds, MAX_BREAK_S))

    def on_mark(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        self.empty(elem)
        self.plan.add_mark(self.required(elem, attrs, "name"))

    def on_prosody(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        rate = self.value(elem, "rate", attrs["rate"], parse_rate) if "rate" in attrs else 1.0
        pitch = self.value(elem, "pitch", attrs["pitch"], parse_pitch) if "pitch" in attrs else 0.0
        volume = self.value(elem, "volume", attrs["volume"], parse_volume) if "volume" in attrs else 0.0
        self.children(elem, _adjust(v, rate, pitch, volume))

    def on_emphasis(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        level = attrs.get("level", "moderate")
        if level not in EMPHASIS_LEVELS:
            raise self.fail(elem, f"level={level!r}; allowed: {', '.join(EMPHASIS_LEVELS)}")
        rate, volume = EMPHASIS_LEVELS[level]
        self.children(elem, _adjust(v, rate, 0.0, volume))

    def on_sub(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        alias = self.required(elem, attrs, "alias")
        if len(elem):
            raise self.fail(elem, "must contain only text")
        self.plan.text(alias, v)

    def on_say_as(self, elem: ET.Element, attrs: dict[str, str], v: Prosody) -> None:
        kind = self.required(elem, attrs, "interpret-as")
        if kind not in _SAY_AS:
            raise self.fail(elem, f"interpret-as={kind!r}; allowed: {', '.join(SAY_AS_TYPES)}")
        if len(elem):
            raise self.fail(elem, "must contain only text")
        language = v.language or self.default_language
        try:
            spoken = _SAY_AS[kind](elem.text or "", language, attrs.get("format"))
        except ValueError as exc:  # the normalizers quote the value: request text stays out of errors and logs
            detail = (
                str(exc).replace(repr(elem.text or ""), "the text").replace(repr((elem.text or "").strip()), "the text")
            )
            raise self.fail(elem, f'interpret-as="{kind}": {detail}') from None
        except ArithmeticError:  # decimal.InvalidOperation: more digits than Decimal's precision
            raise self.fail(elem, f'interpret-as="{kind}": number out of range') from None
        self.plan.cut = True
        self.plan.text(f" {spoken} ", v, normalize=False)
        self.plan.cut = True

    def value(self, elem: ET.Element, name: str, raw: str, parse: Callable[[str], float]) -> float:
        try:
            return parse(raw.strip())
        except ValueError as exc:
            raise self.fail(elem, f"{name}={raw!r}: {exc}") from None


def _adjust(v: Prosody, rate: float, pitch: float, volume: float) -> Prosody:
    clamp = lambda x, lo_hi: min(max(x, lo_hi[0]), lo_hi[1])  # noqa: E731
    return replace(
        v,
        rate=clamp(v.rate * rate, RATE_RANGE),
        pitch=clamp(v.pitch + pitch, PITCH_RANGE_ST),
        volume=clamp(v.volume + volume, VOLUME_RANGE_DB),
    )


def parse_ssml(
    document: str, *, max_depth: int = 32, max_elements: int = 2000, default_language: str = "en"
) -> list[Segment]:
    """Parse an SSML document into segments; raise InvalidSSML (HTTP 400) for anything malformed or unsupported.

    `default_language` is only used by ``<say-as>`` when no ``xml:lang`` is in scope; segments keep language=None then.
    """
    root, positions = _parse_xml(document, max_depth, max_elements)
    walker = _Walker(positions, default_language)
    if _local(root.tag) != "speak":
        raise walker.fail(root, "the root element must be <speak>")
    walker.walk(root, Prosody())
    return walker.plan.finish()
