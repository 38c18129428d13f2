"""ReDoS property test (issue 23, finding 3 and its class): every regex in the text-processing code runs in time
linear in its input on adversarial strings built from the pattern's own characters.

The patterns are collected, not listed: module-level `re.Pattern` objects of the modules below, the compiled
normalization rules of every language, and the literal patterns passed inline to `re.match` / `re.fullmatch` /
`re.search` / `re.sub` / `re.findall` / `re.split` (found in the source with `ast`). A new regex in these modules
is tested without anyone remembering to add it.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import itertools
import re
import time
from pathlib import Path
from re import _constants as sre_constants
from re import _parser as sre_parse

import pytest

from tts_predictor.text import lexicon, rules

MODULES = [
    *(f"tts_predictor.text.{p.stem}" for p in sorted(Path(rules.__file__).parent.glob("*.py")) if p.stem != "__init__"),
    "tts_predictor.jobs.sources",
    "tts_predictor.jobs.markdown",
    "tts_predictor.jobs.metadata",
    "tts_predictor.server.request_kinds",
    "tts_predictor.plugins.loader",
    "tts_predictor.audio.alignment",
    "tts_predictor.audio.mix",
    "tts_predictor.engines.coqui.engine",
    "tts_predictor.logs",
    *(f"tts_predictor.api.{p.stem}" for p in sorted((Path(rules.__file__).parents[1] / "api").glob("*.py"))),
    "tts_predictor.engines.onnx.espeak",
    "tts_predictor.engines.onnx.espeak_worker",
    "tts_predictor.engines.piper_hub.index",
]
LANGUAGES = ("en", "de", "fr", "es")
BREAKERS = ("\x01", "\n", "!", "a", "1", " ")
"""Appended after a run to make a match fail at its end: the classic backtracking trigger."""
SMALL, LARGE = 1024, 8192
MAX_CHARS = 16
"""Characters per pattern (the common five, then its own literals): 16 make 800 attack strings."""
MS_PER_KB = 5.0
"""Generous: linear patterns take microseconds per KB here; the cubic currency pattern took seconds for 360 bytes."""


def _inline_patterns(module) -> list[tuple[str, str]]:
    """(re function name, literal pattern) for calls like re.fullmatch(r"...", value) in the module's source."""
    found = []
    for node in ast.walk(ast.parse(inspect.getsource(module))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args):
            continue
        func = node.func
        if isinstance(func.value, ast.Name) and func.value.id == "re" and func.attr != "escape":
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.append((func.attr, arg.value))
    return found


def collect() -> list[tuple[str, re.Pattern[str], str]]:
    """(name, compiled pattern, how it is used: 'match', 'fullmatch' or 'scan')."""
    out: dict[tuple[str, int], tuple[str, re.Pattern[str], str]] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, re.Pattern) and isinstance(value.pattern, str):
                out.setdefault((value.pattern, value.flags), (f"{name}.{attr}", value, "scan"))
        for func, pattern in _inline_patterns(module):
            use = func if func in ("match", "fullmatch") else "scan"
            compiled = re.compile(pattern)
            out.setdefault((pattern, compiled.flags), (f"{name}: re.{func}({pattern[:40]!r})", compiled, use))
    for lang in LANGUAGES:
        for rule in rules.rules_for(lang):
            out.setdefault(
                (rule.pattern.pattern, rule.pattern.flags), (f"rules[{lang}].{rule.name}", rule.pattern, "scan")
            )
        for pattern, _ in lexicon.ABBREVIATIONS.get(lang, ()):
            out.setdefault((pattern.pattern, pattern.flags), (f"abbreviations[{lang}]", pattern, "scan"))
    return sorted(out.values(), key=lambda t: t[0])


_CATEGORY = {"CATEGORY_DIGIT": "1", "CATEGORY_SPACE": " ", "CATEGORY_WORD": "a", "CATEGORY_NOT_DIGIT": "a"}


def _chars(pattern: re.Pattern[str]) -> list[str]:
    """Characters the pattern can match: its literals and one representative of each class or range."""
    chars: set[str] = set()

    def walk(parsed) -> None:
        for op, arg in parsed:
            if op is sre_constants.LITERAL:
                chars.add(chr(arg))
            elif op is sre_constants.IN:
                for kind, value in arg:
                    if kind is sre_constants.LITERAL:
                        chars.add(chr(value))
                    elif kind is sre_constants.RANGE:
                        chars.add(chr(value[0]))
                    elif kind is sre_constants.CATEGORY:
                        chars.add(_CATEGORY.get(str(value), "#"))
            elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
                walk(arg[2])
            elif op is sre_constants.SUBPATTERN:
                walk(arg[3])
            elif op is sre_constants.BRANCH:
                for branch in arg[1]:
                    walk(branch)
            elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
                walk(arg[1])
            elif op is sre_constants.ANY:
                chars.add("x")
            elif op is sre_constants.CATEGORY:
                chars.add(_CATEGORY.get(str(arg), "#"))

    walk(sre_parse.parse(pattern.pattern, pattern.flags))
    common = [" ", "1", "a", ".", "\n"]
    return common + sorted(chars - set(common))[: MAX_CHARS - len(common)]


def attacks(pattern: re.Pattern[str], size: int) -> list[str]:
    """Runs of the pattern's characters (single and pairs), each after a literal prefix and before a breaker."""
    chars = _chars(pattern)
    out = []
    for a, b in itertools.product(chars, repeat=2):
        run = (a + b) * (size // 2)
        out += [run + BREAKERS[0], a + b * (size - 1) + BREAKERS[0], a + b * (size - 2) + a + "\n"]
    out += [c * size + breaker for c in chars for breaker in BREAKERS]
    return out


def _time(pattern: re.Pattern[str], use: str, text: str) -> float:
    start = time.perf_counter()
    if use == "match":
        pattern.match(text)
    elif use == "fullmatch":
        pattern.fullmatch(text)
    else:
        for _ in pattern.finditer(text):
            pass
    return time.perf_counter() - start


PATTERNS = collect()


def test_the_collection_finds_the_known_patterns():
    """Guards the collector itself: it must see the currency and Markdown-era patterns and the rules."""
    names = {name for name, _, _ in PATTERNS}
    assert any(n.startswith("tts_predictor.text.verbalize.") for n in names), names
    assert any(n.startswith("rules[en].money") for n in names)
    assert any("fullmatch" in n for n in names)
    assert len(PATTERNS) > 60, len(PATTERNS)


@pytest.mark.parametrize(("name", "pattern", "use"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_pattern_is_linear_on_adversarial_input(name, pattern, use):
    """The worst 1 KB attacks, grown to 8 KB, take under MS_PER_KB milliseconds per KB."""
    timed = sorted(((_time(pattern, use, s), i) for i, s in enumerate(attacks(pattern, SMALL))), reverse=True)
    large = attacks(pattern, LARGE)
    for t_small, i in timed[:4]:
        t_large = min(_time(pattern, use, large[i]) for _ in range(2))
        assert t_large < MS_PER_KB * LARGE / 1024 / 1000, (
            f"{name}: {t_large * 1000:.1f} ms on 8 KB (1 KB: {t_small * 1000:.2f} ms), attack {large[i][:30]!r}..."
        )


@pytest.mark.parametrize("spaces", [300, 3000])
def test_say_as_currency_with_a_run_of_spaces_is_fast(spaces):
    """Issue 23 finding 3: `$1` + 300 spaces + `!` took 4 s in the currency regex (~n^3.8); now microseconds."""
    from tts_predictor.text.verbalize import say_currency

    start = time.perf_counter()
    with pytest.raises(ValueError):
        say_currency("$1" + " " * spaces + "!")
    assert time.perf_counter() - start < 0.1
    assert (
        say_currency("12 EUR") == "twelve euros" and say_currency("$3.2 million") == "three point two million dollars"
    )
