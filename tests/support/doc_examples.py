"""The fenced examples of the Markdown docs: found, classified by their marker, and run against a real server.

The marker is an HTML comment on the line just before the opening fence (docs/development.md, "Docs as tests"):

- ``<!-- example: run -->``: run by tests/server/test_doc_examples.py; options after commas:
  ``needs: me.wav text.txt`` (files created in the run's directory first, see `FIXTURES`);
- ``<!-- example: not run here: <reason> -->``: needs what the tests cannot have (a cluster, Docker, ...);
- ``<!-- example: payload -->``: a body, an output or a file, not a command; ``payload, file: my.pls`` also
  offers the block as a file to the examples of the same document that need it.

Blocks in a command language (`COMMAND_LANGUAGES`, and fences without a language) must carry a marker;
JSON, YAML, XML and other data blocks are payloads by their language and need none.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from server_process import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "charts" / "tts-predictor" / "README.md"]
COMMAND_LANGUAGES = frozenset({"", "bash", "sh", "shell", "console", "zsh", "python", "py", "js", "javascript", "ts"})
SHELL_LANGUAGES = frozenset({"bash", "sh", "shell"})
PYTHON_LANGUAGES = frozenset({"python", "py"})
JS_LANGUAGES = frozenset({"js", "javascript"})
CLIENTS = REPO / "clients"
"""The client SDKs (docs/clients.md): Python's package is importable, TypeScript's (compiled dist/) resolves as
``tts-predictor-client`` from the examples' directory."""
AUDIO_SUFFIXES = frozenset({".wav", ".mp3", ".flac", ".opus", ".ogg", ".m4a", ".aac"})

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<lang>[\w+-]*)")
_MARKER = re.compile(r"^\s*<!--\s*example:\s*(?P<body>.*?)\s*-->\s*$")
_KINDS = ("run", "payload")
_NOT_RUN = "not run here:"


@dataclass(frozen=True)
class Example:
    """One fenced block of a Markdown document."""

    path: Path
    """The document."""
    line: int
    """1-based line of the opening fence."""
    language: str
    """The fence's info string (lower case, "" when none)."""
    code: str
    """The block's text, without the fences."""
    marker: str | None
    """The marker comment's body (after ``example:``), None when the line before the fence is no marker."""

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def kind(self) -> str | None:
        """``run``, ``not run``, ``payload``, or None (no marker, or one the grammar does not know)."""
        if self.marker is None:
            return "payload" if self.language not in COMMAND_LANGUAGES else None
        if self.marker.startswith(_NOT_RUN) and self.reason:
            return "not run"
        head = self.marker.split(",")[0].strip()
        return head if head in _KINDS else None

    @property
    def reason(self) -> str:
        """Why a ``not run`` example cannot run here."""
        return self.marker.removeprefix(_NOT_RUN).strip() if self.marker and self.marker.startswith(_NOT_RUN) else ""

    def option(self, name: str) -> str:
        """An option of a ``run`` or ``payload`` marker (``needs: a b``, ``file: name``), "" when absent."""
        if self.marker is None or self.marker.startswith(_NOT_RUN):
            return ""
        for part in self.marker.split(",")[1:]:
            key, _, value = part.partition(":")
            if key.strip() == name:
                return value.strip()
        return ""

    @property
    def needs(self) -> list[str]:
        return self.option("needs").split()


def examples(path: Path) -> Iterator[Example]:
    """The fenced blocks of one document, in order."""
    lines = path.read_text().splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, body, j = opening["fence"], [], i + 1
        while j < len(lines) and not lines[j].lstrip().startswith(fence):
            body.append(lines[j][len(opening["indent"]) :])
            j += 1
        marker = _MARKER.match(lines[i - 1]) if i else None
        yield Example(path, i + 1, opening["lang"].lower(), "\n".join(body) + "\n", marker and marker["body"])
        i = j + 1


def all_examples() -> list[Example]:
    """Every fenced block of every document in `DOCS`."""
    return [example for path in DOCS for example in examples(path)]


def with_ports(code: str, http_port: int, grpc_port: int) -> str:
    """The documented ports (8080 REST, 8081 gRPC on localhost) replaced by the test server's."""
    code = re.sub(r"\b(localhost|127\.0\.0\.1):8080\b", f"127.0.0.1:{http_port}", code)
    return re.sub(r"\b(localhost|127\.0\.0\.1):8081\b", f"127.0.0.1:{grpc_port}", code)


def run(example: Example, workdir: Path, http_port: int, grpc_port: int, timeout_s: float = 300) -> str:
    """Run a shell or Python example in `workdir`; its combined output. Raises AssertionError on a failure.

    Shell blocks run with ``bash -euo pipefail``, Python blocks with this interpreter, both with the venv's bin
    first on PATH and the repository and the Python client importable; JavaScript blocks run as ES modules with
    Node, the TypeScript client linked in as ``tts-predictor-client``. curl runs with ``--fail-with-body --show-error`` (a
    ``.curlrc``), so an HTTP error fails the example as a reader would notice it.
    """
    code = with_ports(example.code, http_port, grpc_port)
    curl_home = workdir / ".curl"
    curl_home.mkdir(exist_ok=True)
    (curl_home / ".curlrc").write_text("fail-with-body\nshow-error\n")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(CLIENTS / "python"), os.environ.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        ),
        "CURL_HOME": str(curl_home),
    }
    if example.language in SHELL_LANGUAGES:
        script, command = workdir / ".example.sh", ["bash", "-euo", "pipefail", ".example.sh"]
    elif example.language in PYTHON_LANGUAGES:
        script, command = workdir / ".example.py", [sys.executable, ".example.py"]
    elif example.language in JS_LANGUAGES:
        script, command = workdir / ".example.mjs", ["node", ".example.mjs"]
        (workdir / "node_modules").mkdir(exist_ok=True)
        link = workdir / "node_modules" / "tts-predictor-client"
        if not link.exists():
            link.symlink_to(CLIENTS / "typescript", target_is_directory=True)
    else:
        raise AssertionError(f"{example.id}: no runner for language {example.language!r}")
    script.write_text(code)
    done = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL
    )
    output = f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{example.id} exited with {done.returncode}:\n{code}\n{output}{_small_files(workdir)}"
    return output


def _small_files(workdir: Path) -> str:
    """The short files an example wrote (curl -o puts an error body there), for the failure message."""
    small = [p for p in sorted(workdir.iterdir()) if p.is_file() and not p.name.startswith(".")]
    return "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')}" for p in small if p.stat().st_size < 1000)


def decode_audio(path: Path) -> float:
    """Seconds of audio in a file, decoded to the end by ffmpeg; AssertionError if it does not decode."""
    done = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", "16000", "-"],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0 and not done.stderr.strip(), f"{path.name}: {done.stderr.decode(errors='replace')}"
    seconds = len(done.stdout) / 2 / 16000
    assert seconds > 0, f"{path.name}: no audio"
    return seconds


def audio_files(workdir: Path) -> list[Path]:
    """The audio files an example left in its directory."""
    return sorted(p for p in workdir.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
