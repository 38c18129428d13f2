"""Command-line helpers that need no server."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from tts_predictor.engines.registry import load_all
from tts_predictor.schemas import SPEED_RANGE
from tts_predictor.server.app import build_parser, settings_from_args
from tts_predictor.voices.catalog import VoiceCatalog


def print_voices(argv: list[str]) -> None:
    """Load the configured model and print its voices as JSON."""
    settings = settings_from_args(build_parser("tts-predictor voices").parse_args(argv))
    engine = load_all(settings)
    catalog = VoiceCatalog(engine.voices(), settings.default_voice)
    print(json.dumps({"default_voice": catalog.default.id, "voices": [v.to_dict() for v in catalog.voices]}, indent=2))


EXTENSION_FORMATS = {"raw": "pcm", "ulaw": "mulaw", "mulaw": "mulaw", "alaw": "alaw", "oga": "ogg", "m4a": None}
"""File extensions that differ from their format name (None: not supported)."""
PROGRESS_MIN_SEGMENTS = 3
"""Show a progress bar (stderr) when a text has at least this many sentences."""


def say_parser() -> argparse.ArgumentParser:
    """Flags of `tts-predictor say`, plus the settings flags (--model, --device, ...)."""
    from tts_predictor.audio.encode import FORMATS
    from tts_predictor.settings import add_settings_arguments

    parser = argparse.ArgumentParser(
        prog="tts-predictor say",
        description="Synthesize text to an audio file with the local engine (no server).",
    )
    parser.add_argument("text", nargs="?", help="Text or SSML to speak; '-' reads standard input.")
    parser.add_argument("-f", "--file", help="Speak the contents of this UTF-8 text (or SSML) file instead.")
    parser.add_argument(
        "-o", "--output", required=True, help="Output file (format from its extension) or '-' for stdout."
    )
    parser.add_argument("--voice", help="Voice id (see `tts-predictor voices`).")
    parser.add_argument("--language", help="Language code such as en-US.")
    parser.add_argument("--speed", type=float, default=1.0, help=f"Speaking rate, {SPEED_RANGE[0]}-{SPEED_RANGE[1]}.")
    parser.add_argument("--format", choices=FORMATS, help="Audio format (default: from the output extension).")
    parser.add_argument("--sample-rate", dest="sample_rate", type=int, help="Output sample rate in Hz, 8000-48000.")
    parser.add_argument("--no-progress", action="store_true", help="Never show the progress bar.")
    add_settings_arguments(parser)
    return parser


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

    from kserve.errors import InvalidInput

    from tts_predictor.api.common import make_params
    from tts_predictor.audio import dsp
    from tts_predictor.audio.buffer import AudioBuffer
    from tts_predictor.audio.output import OutputConfig, encode_whole
    from tts_predictor.pipeline.stages import LocalSynthesizer
    from tts_predictor.pipeline.stream import plan_segments, stream_plan
    from tts_predictor.server.app import settings_from_args

    args = say_parser().parse_args(argv)
    fmt = infer_format(args.output, args.format)
    text = read_text(args.text, args.file)
    settings = settings_from_args(argparse.Namespace(**{**vars(args), "warmup": "false"}))
    try:
        params = make_params(
            {
                "voice": args.voice,
                "language": args.language,
                "speed": args.speed,
                "format": fmt,
                "sample_rate": args.sample_rate,
            }
        )
        output = OutputConfig.from_settings(settings)
        engine = load_all(settings)
        catalog = VoiceCatalog(engine.voices(), settings.default_voice)
        synth = LocalSynthesizer(engine, catalog)
        language = catalog.resolve(params.voice, params.language)[1]
        segments = [
            s
            for piece in within_limit(text, settings.max_text_chars, language)
            for s in plan_segments(piece, params, synth, language=language)
        ]
    except InvalidInput as exc:
        raise SystemExit(f"tts-predictor say: {exc.reason}") from None
    spoken = sum(1 for s in segments if s.text.strip())

    async def run() -> list[AudioBuffer]:
        bar = _progress(spoken, disabled=args.no_progress or spoken < PROGRESS_MIN_SEGMENTS)
        out = []
        try:
            async for buf, event in stream_plan(segments, params, synth, output=output):
                out.append(buf)
                if event is not None and event["text"] and bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return out

    parts = asyncio.run(run())
    rate = parts[0].sample_rate
    data, audio = encode_whole(AudioBuffer.concat([dsp.resample(p, rate) for p in parts]), params, output)
    if args.output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        with open(args.output, "wb") as handle:
            handle.write(data)
        print(f"wrote {args.output} ({fmt}, {audio.duration_s:.2f} s, {len(data)} bytes)", file=sys.stderr)


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


def within_limit(text: str, max_chars: int, language: str) -> list[str]:
    """`text` in pieces of at most `max_chars` (the server's TTS_MAX_TEXT_CHARS), cut between sentences.

    SSML is one document and cannot be cut: longer than the limit is an error naming it.
    """
    from tts_predictor.text.split import chunk_text

    if len(text) <= max_chars:
        return [text]
    if text.lstrip().startswith("<speak"):
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
