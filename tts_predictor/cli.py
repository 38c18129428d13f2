"""Command-line helpers that need no server."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from tts_predictor.engines.loading import load_all, load_first
from tts_predictor.errors import ModelLoadError
from tts_predictor.plugins.loader import load_plugins
from tts_predictor.schemas import PITCH_RANGE, SPEED_RANGE, VOLUME_RANGE
from tts_predictor.server.app import build_parser, settings_from_args
from tts_predictor.voices.catalog import VoiceCatalog


def print_voices(argv: list[str]) -> None:
    """Load the configured model and print its voices as JSON."""
    settings = settings_from_args(build_parser("tts-predictor voices").parse_args(argv))
    load_plugins(settings)
    engine = load_all(settings)
    catalog = VoiceCatalog(engine.voices(), settings.default_voice)
    print(json.dumps({"default_voice": catalog.default.id, "voices": [v.to_dict() for v in catalog.voices]}, indent=2))


def voices_command(argv: list[str]) -> None:
    """`tts-predictor voices`: the configured model's voices; `voices pull NAME...` downloads Piper catalogue
    voices into the model cache; `voices list --available` lists the catalogue (installed ones marked)."""
    if argv[:1] in (["pull"], ["list"]):
        catalogue_command(argv[0], argv[1:])
    else:
        print_voices(argv)


def catalogue_command(action: str, argv: list[str]) -> None:
    """`voices pull NAME...` (exit 1 naming each voice that failed) or `voices list --available`."""
    import logging

    from tts_predictor.engines.piper_hub import available_voices, fetch
    from tts_predictor.errors import VoiceUnavailable
    from tts_predictor.settings import Settings, add_settings_arguments, load_settings

    parser = argparse.ArgumentParser(
        prog=f"tts-predictor voices {action}",
        description="Download voices of Piper's catalogue (TTS_PIPER_VOICES_URL) into the model cache "
        "(TTS_CACHE_DIR), verified by MD5; a server then loads them offline (TTS_MODEL=piper:NAME)."
        if action == "pull"
        else "List the voices of Piper's catalogue as JSON (installed ones marked).",
    )
    if action == "pull":
        parser.add_argument("names", nargs="+", metavar="NAME", help="Catalogue voice, e.g. en_GB-alan-medium.")
    else:
        parser.add_argument("--available", action="store_true", required=True, help="List the catalogue.")
    add_settings_arguments(parser, hidden=True)
    args = parser.parse_args(argv)
    settings = load_settings(**{name: getattr(args, name, None) for name in Settings.model_fields})
    if action == "list":
        print(json.dumps({"voices": available_voices(settings)}, indent=2))
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    failed = 0
    for name in args.names:
        try:
            print(fetch(name, settings))
        except VoiceUnavailable as exc:
            failed += 1
            print(f"tts-predictor voices pull: {exc}", file=sys.stderr)
    if failed:
        raise SystemExit(1)


EXTENSION_FORMATS = {"raw": "pcm", "ulaw": "mulaw", "mulaw": "mulaw", "alaw": "alaw", "oga": "ogg", "m4a": None}
"""File extensions that differ from their format name (None: not supported)."""
PROGRESS_MIN_SEGMENTS = 3
"""Show a progress bar (stderr) when a text has at least this many sentences."""


SAY_EPILOG = """\
Input: the TEXT argument, '-' (standard input) or --file; SSML is detected by '<speak' (or forced with --ssml),
Markdown is read with --markdown or from a --file ending in .md/.markdown (headings become sentences; markup is not read).
Every sentence comes out at the server's loudness (TTS_LOUDNESS_TARGET_LUFS, -19 LUFS); --volume is on top.
Model and engine settings (--model, --device, --voices_dir, ... every TTS_* setting) are accepted as well:
see `tts-predictor serve --help` or docs/settings.md.
"""


def say_parser() -> argparse.ArgumentParser:
    """Flags of `tts-predictor say`; the settings flags (--model, --device, ...) are accepted but not listed."""
    from tts_predictor.audio.encode import FORMATS
    from tts_predictor.schemas import EMOTIONS, STYLES
    from tts_predictor.settings import add_settings_arguments

    parser = argparse.ArgumentParser(
        prog="tts-predictor say",
        description="Synthesize text to an audio file with the local engine (no server).",
        epilog=SAY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("text", nargs="?", help="Text, SSML or Markdown to speak; '-' reads standard input.")
    add("-f", "--file", help="Speak the contents of this UTF-8 file instead (.md/.markdown: read as Markdown).")
    add("-o", "--output", help="Output file (format from its extension) or '-' for stdout.")
    add("--format", choices=FORMATS, help="Audio format (default: from the output extension).")
    add("--voice", help="Voice id (see `tts-predictor voices`).")
    add("--language", help="Language code such as en-US.")
    add("--speed", type=float, default=1.0, help=f"Speaking rate, {_range(SPEED_RANGE)} (default 1.0).")
    add("--pitch", type=float, help=f"Pitch shift in semitones, {_range(PITCH_RANGE)}.")
    add("--volume", type=float, help=f"Gain in dB on top of the output loudness, {_range(VOLUME_RANGE)}.")
    add("--emotion", choices=list(EMOTIONS), help="Emotion preset (speed, pitch and gain).")
    add("--style", choices=list(STYLES), help="Speaking style preset.")
    add("--ssml", action=argparse.BooleanOptionalAction, help="Force SSML (--ssml) or plain text (--no-ssml).")
    add("--markdown", action=argparse.BooleanOptionalAction, help="Read the input as Markdown (default: by .md).")
    add("--sample-rate", dest="sample_rate", type=int, help="Output sample rate in Hz, 8000-48000.")
    add("--print-text", action="store_true", help="Print the text as it would be spoken and exit (no audio).")
    add("--no-progress", action="store_true", help="Never show the progress bar.")
    add_settings_arguments(parser, hidden=True)
    return parser


def _range(bounds: tuple[float, float]) -> str:
    return f"{bounds[0]:g} to {bounds[1]:g}"


def parse_say_args(argv: list[str]) -> argparse.Namespace:
    """Parse and check `say`'s options; out-of-range values exit 2 naming the option and its range."""
    parser = say_parser()
    args = parser.parse_args(argv)
    for option, value, bounds in (
        ("--speed", args.speed, SPEED_RANGE),
        ("--pitch", args.pitch, PITCH_RANGE),
        ("--volume", args.volume, VOLUME_RANGE),
    ):
        if value is not None and not bounds[0] <= value <= bounds[1]:  # also refuses nan
            parser.error(f"argument {option}: {value:g} is out of range; allowed: {_range(bounds)}")
    if args.output is None and not args.print_text:
        parser.error("the following arguments are required: -o/--output (or --print-text)")
    if args.markdown is None:
        args.markdown = bool(args.file) and args.file.lower().endswith((".md", ".markdown"))
    if args.markdown and args.ssml:
        parser.error("argument --markdown: not allowed with --ssml (Markdown is read as plain text)")
    return args


def spoken_input(args: argparse.Namespace) -> str:
    """The text to synthesize: read, and with --markdown turned into sentences by the jobs' Markdown reader."""
    from tts_predictor.jobs.markdown import markdown_chapters

    text = read_text(args.text, args.file)
    if not args.markdown:
        return text
    text = "\n\n".join(chapter.text for chapter in markdown_chapters(text))
    if not text.strip():
        raise SystemExit("tts-predictor say: nothing to speak (the Markdown has no readable text)")
    return text


def print_spoken_text(text: str, args: argparse.Namespace) -> None:
    """--print-text: the text of each segment after SSML, normalization and lexicons, one per line."""
    from tts_predictor.text.preview import preview

    ssml = False if args.markdown else args.ssml
    try:
        segments = preview(text, language=args.language or "en-US", ssml=ssml, voice=args.voice)
    except Exception as exc:  # InvalidSSML and the like: a message, not a traceback
        raise SystemExit(f"tts-predictor say: {getattr(exc, 'reason', exc)}") from None
    print("\n".join(s["text"] for s in segments))


def infer_format(output: str, explicit: str | None) -> str:
    """The audio format: --format, else the output file's extension."""
    from tts_predictor.audio.encode import FORMATS

    if explicit:
        return explicit
    ext = os.path.splitext(output)[1].lower().lstrip(".")
    fmt = EXTENSION_FORMATS.get(ext, ext if ext in FORMATS else None)
    if not fmt:
        raise SystemExit(
            f"tts-predictor say: cannot tell the format from '{output}'; name a file ending in one of "
            f".{', .'.join(FORMATS)} or pass --format"
        )
    return fmt


def say(argv: list[str]) -> None:
    """`tts-predictor say "text" -o out.mp3`: synthesize locally, sentence by sentence, and write one file."""
    import asyncio

    args = parse_say_args(argv)
    text = spoken_input(args)
    if args.print_text:
        print_spoken_text(text, args)
        return
    fmt = infer_format(args.output, args.format)
    data, duration_s = asyncio.run(_synthesize(args, text, fmt))
    if args.output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        with open(args.output, "wb") as handle:
            handle.write(data)
        print(f"wrote {args.output} ({fmt}, {duration_s:.2f} s, {len(data)} bytes)", file=sys.stderr)


async def _synthesize(args: argparse.Namespace, text: str, fmt: str) -> tuple[bytes, float]:
    """Plan (errors as one line, exit 1), synthesize with a progress bar, and encode one file: (bytes, seconds)."""
    from kserve.errors import InvalidInput

    from tts_predictor.api.common import make_params
    from tts_predictor.audio import dsp
    from tts_predictor.audio.buffer import AudioBuffer
    from tts_predictor.audio.output import OutputConfig, encode_whole
    from tts_predictor.pipeline.stages import LocalSynthesizer
    from tts_predictor.pipeline.stream import plan_segments, stream_plan
    from tts_predictor.server.app import settings_from_args

    settings = settings_from_args(argparse.Namespace(**{**vars(args), "warmup": "false"}))
    load_plugins(settings)  # a plugin's engine, format or normalizer may be named below
    options = {"voice": args.voice, "language": args.language, "speed": args.speed, "pitch": args.pitch}
    options |= {"volume_db": args.volume, "emotion": args.emotion, "style": args.style, "format": fmt}
    options |= {"ssml": False if args.markdown else args.ssml, "sample_rate": args.sample_rate}
    try:
        params = make_params(options)
        output = OutputConfig.from_settings(settings)
        engine = load_all(settings)
        load_first(engine)  # the default voice's model now: a missing extra or a bad path fails here, in one line
        catalog = VoiceCatalog(engine.voices(), settings.default_voice)
        synth = LocalSynthesizer(engine, catalog)
        language = catalog.resolve(params.voice, params.language, params.gender)[1]
        pieces = within_limit(text, settings.max_text_chars, language, ssml=params.ssml)
        segments = [s for piece in pieces for s in plan_segments(piece, params, synth, language=language)]
    except InvalidInput as exc:
        raise SystemExit(f"tts-predictor say: {exc.reason}") from None
    except ModelLoadError as exc:  # a missing extra, a bad model path: one line, not a traceback
        raise SystemExit(f"tts-predictor say: {exc}") from None
    spoken = sum(1 for s in segments if s.text.strip())
    bar = _progress(spoken, disabled=args.no_progress or spoken < PROGRESS_MIN_SEGMENTS)
    parts = []
    try:
        async for buf, event in stream_plan(segments, params, synth, output=output):
            parts.append(buf)
            if event is not None and event["text"] and bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    rate = parts[0].sample_rate
    data, audio = encode_whole(AudioBuffer.concat([dsp.resample(p, rate) for p in parts]), params, output)
    return data, audio.duration_s


def read_text(text: str | None, path: str | None) -> str:
    """The text to speak: the argument, standard input ('-') or --file; warns when the argument names a file."""
    if (text is None) == (path is None):
        raise SystemExit("tts-predictor say: give the text to speak or --file PATH (one of them)")
    if path is not None:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise SystemExit(f"tts-predictor say: cannot read --file {path}: {exc}") from None
    elif text == "-":
        text = sys.stdin.read()
    elif text is not None and os.path.isfile(text):
        print(
            f"warning: '{text}' is the name of an existing file; speaking the name itself "
            f"(use --file {text} to speak its contents)",
            file=sys.stderr,
        )
    assert text is not None
    if not text.strip():
        raise SystemExit("tts-predictor say: nothing to speak (empty text)")
    return text


def within_limit(text: str, max_chars: int, language: str, *, ssml: bool | None = None) -> list[str]:
    """`text` in pieces of at most `max_chars` (the server's TTS_MAX_TEXT_CHARS), cut between sentences.

    SSML is one document and cannot be cut: longer than the limit is an error naming it.
    """
    from tts_predictor.text.split import chunk_text

    if len(text) <= max_chars:
        return [text]
    if ssml or (ssml is None and text.lstrip().startswith("<speak")):
        raise SystemExit(
            f"tts-predictor say: the SSML document has {len(text)} characters; the limit is "
            f"{max_chars} (TTS_MAX_TEXT_CHARS); split it into several documents"
        )
    return list(chunk_text(text, language, max_chars))


def _progress(total: int, *, disabled: bool) -> Any:
    if disabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="sentence", desc="synthesizing", file=sys.stderr)


def normalize(argv: list[str]) -> None:
    """`tts-predictor normalize TEXT`: print what the engine would speak (no model is loaded)."""
    from tts_predictor.text import pls
    from tts_predictor.text.preview import preview

    parser = argparse.ArgumentParser(
        prog="tts-predictor normalize",
        description="Show the text the engine speaks for TEXT (plain or SSML), per segment.",
    )
    parser.add_argument("text", help="Text or SSML; '-' reads standard input.")
    parser.add_argument("--language", default="en-US", help="Language code (default en-US).")
    parser.add_argument(
        "--ssml",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="Force SSML or plain text (default: detect '<speak').",
    )
    parser.add_argument(
        "--lexicon",
        action="append",
        default=[],
        metavar="PLS",
        help="A W3C PLS file (or folder of them) to apply after normalization; repeatable.",
    )
    parser.add_argument("--json", action="store_true", help="Print segments, rewrites and offsets as JSON.")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if args.text == "-" else args.text
    try:
        pls.configure(",".join(args.lexicon))
        segments = preview(text, language=args.language, ssml=args.ssml)
    except Exception as exc:  # InvalidSSML / InvalidLexicon: a message, not a traceback
        raise SystemExit(f"tts-predictor normalize: {getattr(exc, 'reason', exc)}") from None
    if args.json:
        print(json.dumps({"language": args.language, "segments": segments}, ensure_ascii=False, indent=2))
    else:
        print("\n".join(s["text"] for s in segments))
