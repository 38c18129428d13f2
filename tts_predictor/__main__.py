"""`python -m tts_predictor {serve,transformer,voices,say}`: the one entry point; chooses the mode, lazy imports."""

from __future__ import annotations

import sys

USAGE = """usage: tts-predictor COMMAND [options]

commands:
  serve       serve the model over the V2 protocol (REST :8080, gRPC :8081); `serve --help` for flags
  predictor   same as serve (the name KServe docs use)
  transformer serve the KServe transformer (SSML, normalization, encoding) in front of --predictor_host
  voices      print the voices of the configured model as JSON; `voices pull NAME...` downloads Piper
              catalogue voices into the model cache; `voices list --available` lists the catalogue
  normalize   print the text the engine would speak (numbers, dates... in words): normalize "Call 555-0134" [--json]
  say         synthesize text to a file locally, no server: say "Hello." -o hello.mp3 [--voice V] [--format F]
"""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `tts-predictor` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv else "serve"
    if command in ("serve", "predictor"):
        # The mode is chosen here; the modes share server.py's assembly pieces and never import each other.
        from tts_predictor.settings import load_settings

        if load_settings().ray_mode():  # TTS_RAY_*: replicas on Ray Serve, this process serves the API in front
            from tts_predictor.ray.driver import main as serve
        else:
            from tts_predictor.server.app import serve
        serve(argv)
    elif command == "transformer":
        from tts_predictor.server.app import run_transformer

        run_transformer(argv)
    elif command == "voices":
        from tts_predictor.cli import voices_command

        voices_command(argv)
    elif command == "normalize":
        from tts_predictor.cli import normalize

        normalize(argv)
    elif command == "say":
        from tts_predictor.cli import say

        say(argv)
    elif command in ("-h", "--help", "help"):
        print(USAGE)
    else:
        print(f"unknown command '{command}'\n\n{USAGE}", file=sys.stderr)
        raise SystemExit(2)


if __name__ == "__main__":
    main()
