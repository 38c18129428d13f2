"""SSML parser: vendor-style golden corpus, limits, hostile documents, and hypothesis properties."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tts_predictor.errors import InvalidSSML
from tts_predictor.text.segments import Segment
from tts_predictor.text.ssml import SUPPORTED_ELEMENTS, is_ssml, parse_ssml


def test_is_ssml() -> None:
    assert is_ssml("  \n<speak>hi</speak>")
    assert is_ssml('<?xml version="1.0"?><speak/>')
    assert not is_ssml("Hello <speak>")
    assert not is_ssml("")


def test_break_time_is_planned_as_pause() -> None:
    segs = parse_ssml('<speak>Hello <break time="700ms"/> world</speak>')
    assert segs == [Segment(text="Hello", pause_after_s=0.7), Segment(text="world")]
    assert parse_ssml('<speak>a<break time="1.5s"/>b</speak>')[0].pause_after_s == 1.5
    assert parse_ssml('<speak>a<break time="60s"/>b</speak>')[0].pause_after_s == 10.0  # capped


@pytest.mark.parametrize(
    ("strength", "seconds"), [("x-weak", 0.1), ("weak", 0.2), ("medium", 0.4), ("strong", 0.75), ("x-strong", 1.2)]
)
def test_break_strength(strength: str, seconds: float) -> None:
    assert parse_ssml(f'<speak>a<break strength="{strength}"/>b</speak>')[0].pause_after_s == seconds


def test_leading_break_and_marks() -> None:
    segs = parse_ssml('<speak><break time="1s"/><mark name="a"/><mark name="b"/>Hi<mark name="end"/></speak>')
    assert segs == [Segment(pause_after_s=1.0), Segment(mark="a"), Segment(text="Hi", mark="b"), Segment(mark="end")]


def test_prosody_rate_percent_and_nesting() -> None:
    segs = parse_ssml(
        '<speak><prosody rate="50%">slow <prosody rate="+20%" pitch="+2st" volume="-3dB">'
        "inner</prosody></prosody></speak>"
    )
    assert segs[0].rate == 0.5
    assert segs[1].rate == pytest.approx(0.6)
    assert (segs[1].pitch_semitones, segs[1].volume_db) == (2.0, -3.0)


@pytest.mark.parametrize(
    ("attr", "field", "expected"),
    [
        ('rate="x-slow"', "rate", 0.5),
        ('rate="1.2"', "rate", 1.2),
        ('rate="-25%"', "rate", 0.75),
        ('pitch="x-high"', "pitch_semitones", 4.0),
        ('pitch="-10%"', "pitch_semitones", pytest.approx(-1.824, abs=1e-3)),
        ('pitch="+10Hz"', "pitch_semitones", pytest.approx(1.117, abs=1e-3)),
        ('volume="loud"', "volume_db", 5.0),
        ('volume="+6dB"', "volume_db", 6.0),
        ('volume="silent"', "volume_db", -96.0),
    ],
)
def test_prosody_values(attr: str, field: str, expected: float) -> None:
    assert getattr(parse_ssml(f"<speak><prosody {attr}>x</prosody></speak>")[0], field) == expected


# ---------------------------------------------------------------- golden corpus (vendor-style documents)

POLLY = """<speak>
    Mary had a little lamb <break time="3s"/>Whose fleece was white as snow.
    <prosody rate="x-slow">I speak slowly.</prosody>
    <emphasis level="strong">Really</emphasis> <sub alias="aluminum">Al</sub>.
    <say-as interpret-as="characters">NASA</say-as> <mark name="here"/>done
</speak>"""

GOOGLE = """<speak>
  <p><s>Step one.</s><s>Step <say-as interpret-as="ordinal">2</say-as>.</s></p>
  <p>Call <say-as interpret-as="telephone">+1-800-555-0199</say-as> on
  <say-as interpret-as="date" format="mdy">12/25/2024</say-as> at <say-as interpret-as="time">7:30pm</say-as>.</p>
</speak>"""

AZURE = """<?xml version="1.0" encoding="UTF-8"?>
<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US">
  <voice name="en-US-AvaNeural">Welcome!<break strength="weak"/>
    <lang xml:lang="fr-FR">Bonjour <say-as interpret-as="cardinal">21</say-as></lang>
  </voice>
  <voice name="de-DE-KatjaNeural"><prosody pitch="low" volume="x-soft">Tschüss</prosody></voice>
</speak>"""


def test_golden_polly() -> None:
    assert parse_ssml(POLLY) == [
        Segment(text="Mary had a little lamb", pause_after_s=3.0),
        Segment(text="Whose fleece was white as snow."),
        Segment(text="I speak slowly.", rate=0.5),
        Segment(text="Really", rate=0.9, volume_db=3.0),
        Segment(text="aluminum."),
        Segment(text="N A S A", normalize=False),
        Segment(text="done", mark="here"),
    ]


def test_golden_google() -> None:
    assert parse_ssml(GOOGLE) == [
        Segment(text="Step one.", pause_after_s=0.4),
        Segment(text="Step"),
        Segment(text="second", normalize=False),
        Segment(text=".", pause_after_s=0.75),
        Segment(text="Call"),
        Segment(text="plus one, eight zero zero, five five five, zero one nine nine", normalize=False),
        Segment(text="on"),
        Segment(text="December twenty-fifth, twenty twenty-four", normalize=False),
        Segment(text="at"),
        Segment(text="seven thirty PM", normalize=False),
        Segment(text=".", pause_after_s=0.75),
    ]


def test_golden_azure() -> None:
    ava, katja = "en-US-AvaNeural", "de-DE-KatjaNeural"
    assert parse_ssml(AZURE) == [
        Segment(text="Welcome!", voice=ava, language="en-US", pause_after_s=0.2),
        Segment(text="Bonjour", voice=ava, language="fr-FR"),
        Segment(text="vingt et un", voice=ava, language="fr-FR", normalize=False),
        Segment(text="Tschüss", voice=katja, language="en-US", pitch_semitones=-2.0, volume_db=-10.0),
    ]


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ("<speak><audio src='x.mp3'/></speak>", "<audio> at line 1, column 8"),
        ("<speak>\n  <prosody speed='2'>x</prosody></speak>", "'speed'; allowed: pitch, rate, volume"),
        ("<speak><break strength='huge'/></speak>", "x-strong"),
        ("<speak><break time='soon'/></speak>", '"700ms"'),
        ("<speak><say-as interpret-as='weight'>3</say-as></speak>", "allowed: cardinal"),
        (
            "<speak><say-as interpret-as='unit'>3</say-as></speak>",
            'interpret-as="unit": the text is not a number followed',
        ),
        ("<speak><say-as interpret-as='fraction'>3/0</say-as></speak>", 'interpret-as="fraction"'),
        ("<speak><say-as interpret-as='date' format='qq'>1</say-as></speak>", "mdy"),
        ("<speak><sub>x</sub></speak>", "'alias' is required"),
        ("<speak><voice>x</voice></speak>", "'name' is required"),
        ("<speak><prosody rate='0%'>x</prosody></speak>", "rate"),
        ("<speak>\n<p>unclosed</speak>", "line 2"),
        ("<p>not speak</p>", "root element must be <speak>"),
    ],
)
def test_invalid_documents_name_the_problem(doc: str, needle: str) -> None:
    with pytest.raises(InvalidSSML) as info:
        parse_ssml(doc)
    assert needle in str(info.value)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><speak>&lol3;</speak>"""


@pytest.mark.parametrize(
    "doc",
    [
        BILLION_LAUGHS,
        '<?xml version="1.0"?><!DOCTYPE speak [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><speak>&xxe;</speak>',
        '<!DOCTYPE speak SYSTEM "http://example.com/speak.dtd"><speak>hi</speak>',
        "<!DOCTYPE speak><speak>hi</speak>",
    ],
)
def test_dtds_and_entities_are_refused(doc: str) -> None:
    with pytest.raises(InvalidSSML, match="DTDs/entities are not allowed"):
        parse_ssml(doc)


def test_depth_and_element_caps() -> None:
    deep = "<speak>" + "<prosody>" * 40 + "x" + "</prosody>" * 40 + "</speak>"
    with pytest.raises(InvalidSSML, match="deeper than 32"):
        parse_ssml(deep)
    assert parse_ssml(deep, max_depth=64)[0].text == "x"
    wide = "<speak>" + "<mark name='m'/>" * 2100 + "</speak>"
    with pytest.raises(InvalidSSML, match="more than 2000 elements"):
        parse_ssml(wide)


# ---------------------------------------------------------------- properties

_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_VALUES = {
    "rate": ["x-slow", "medium", "fast", "50%", "+20%", "-20%", "1.2", "0%", "bogus"],
    "pitch": ["x-low", "high", "+2st", "-10%", "+10Hz", "200Hz", "-200%", "loud"],
    "volume": ["silent", "x-loud", "+6dB", "-3dB", "7"],
    "time": ["700ms", "1.5s", "99s", ".5s", "-1s"],
    "strength": ["none", "x-weak", "strong", "x-strong", "huge"],
    "level": ["strong", "moderate", "reduced", "none", "max"],
    "interpret-as": ["cardinal", "ordinal", "characters", "digits", "date", "time", "telephone", "currency", "unit"],
    "format": ["mdy", "dmy", "ymd", "y", "qq"],
    "xml:lang": ["en-US", "fr-FR", "de", "xx", "es"],
}


@st.composite
def _element(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from([t for t in SUPPORTED_ELEMENTS if t != "speak"]))
    names = draw(st.lists(st.sampled_from(sorted(SUPPORTED_ELEMENTS[tag])), unique=True))
    attrs = "".join(f" {n}={quoteattr(draw(st.sampled_from(_VALUES.get(n, ['a', 'v1', '']))))}" for n in names)
    if tag in ("break", "mark"):
        return f"<{tag}{attrs}/>"
    if tag in ("say-as", "sub") or depth >= 3:
        inner = escape(draw(st.sampled_from(["12", "2024-03-05", "$3.50", "7pm", "+1 555 0100", "NASA"]) | _TEXT))
    else:
        inner = "".join(draw(st.lists(_element(depth + 1) | _TEXT.map(escape), max_size=4)))
    return f"<{tag}{attrs}>{inner}</{tag}>"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_element() | _TEXT.map(escape), max_size=5))
def test_well_formed_documents_parse_or_raise_invalid_ssml(body: list[str]) -> None:
    try:
        segments = parse_ssml("<speak>" + "".join(body) + "</speak>")
    except InvalidSSML:
        return
    for seg in segments:
        assert isinstance(seg, Segment)
        assert 0.25 <= seg.rate <= 4.0 and 0.0 <= seg.pause_after_s and seg.pause_before_s >= 0.0
        assert seg.text == seg.text.strip()


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
def test_random_text_only_raises_invalid_ssml(text: str) -> None:
    for doc in (text, "<speak>" + text + "</speak>"):
        try:
            segments = parse_ssml(doc)
        except InvalidSSML:
            continue
        assert isinstance(segments, list)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_raise_invalid_ssml(data: bytes) -> None:
    try:
        segments = parse_ssml(data)  # type: ignore[arg-type]
    except InvalidSSML:
        return
    assert isinstance(segments, list)


@pytest.mark.parametrize(
    ("kind", "fmt", "value", "spoken"),
    [
        ("telephone", None, "555-0134", "five five five, zero one three four"),
        ("characters", None, "AB1", "A B one"),
        ("spell-out", None, "TTS", "T T S"),
        ("cardinal", None, "1,234", "one thousand two hundred and thirty-four"),
        ("ordinal", None, "3", "third"),
        ("digits", None, "2024", "two zero two four"),
        ("fraction", None, "3/4", "three quarters"),
        ("fraction", None, "1 1/2", "one and one half"),
        ("date", "dmy", "15/03/2024", "March fifteenth, twenty twenty-four"),
        ("date", "my", "03/2024", "March, twenty twenty-four"),
        ("time", None, "9 AM", "nine AM"),
        ("time", None, "14:30", "fourteen thirty"),
        ("unit", None, "27 m", "twenty-seven meters"),
        ("unit", None, "1 kg", "one kilogram"),
        ("currency", None, "$3.2 million", "three point two million dollars"),
        ("currency", None, "$12.50", "twelve dollars and fifty cents"),
    ],
)
def test_say_as_forces_a_reading(kind: str, fmt: str | None, value: str, spoken: str) -> None:
    attrs = f' format="{fmt}"' if fmt else ""
    doc = f'<speak><say-as interpret-as="{kind}"{attrs}>{value}</say-as></speak>'
    assert parse_ssml(doc) == [Segment(text=spoken, normalize=False)]
