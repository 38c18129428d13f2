"""A real local mirror of Piper's catalogue (rhasspy/piper-voices' layout) on 127.0.0.1, for the catalogue tests.

It serves ``/voices.json`` and the voice files it lists from disk, counts requests per path, and can misbehave
per path: serve other bytes than the index's MD5 (`corrupt`), close the connection after some bytes (`drop_after`)
or send some bytes and then stall until released (`stall_after`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def md5_of(path: Path) -> str:
    """The hex MD5 of a file, as voices.json lists it."""
    digest = hashlib.md5()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class PiperMirror:
    """A ThreadingHTTPServer serving a voices.json and voice files; `url` is TTS_PIPER_VOICES_URL."""

    def __init__(self) -> None:
        self.index: dict[str, Any] = {}
        self.files: dict[str, Path] = {}
        self.requests: Counter[str] = Counter()
        self.corrupt: set[str] = set()
        self.drop_after: dict[str, int] = {}
        self.stall_after: dict[str, int] = {}
        self.stalled = threading.Event()
        """Set when a stalled response has sent its bytes."""
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/piper-voices"

    def add_voice(self, key: str, model: Path, config: Path) -> dict[str, str]:
        """List `key` in the index with these files (their real sizes and MD5s); returns its two catalogue paths."""
        language, _rest = key.split("-", 1)
        speaker, quality = key.split("-")[1], key.split("-")[2]
        base = f"{language.split('_')[0]}/{language}/{speaker}/{quality}/{key}"
        paths = {"model": f"{base}.onnx", "config": f"{base}.onnx.json"}
        self.files[paths["model"]], self.files[paths["config"]] = model, config
        self.index[key] = {
            "key": key,
            "name": speaker,
            "language": {"code": language, "family": language.split("_")[0], "region": language.split("_")[1]},
            "quality": quality,
            "num_speakers": 1,
            "speaker_id_map": {},
            "files": {
                p: {"size_bytes": self.files[p].stat().st_size, "md5_digest": md5_of(self.files[p])}
                for p in paths.values()
            },
            "aliases": [],
        }
        return paths

    def count(self, suffix: str) -> int:
        """Requests for paths ending with `suffix`."""
        with self._lock:
            return sum(n for path, n in self.requests.items() if path.endswith(suffix))

    def start(self) -> PiperMirror:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path.removeprefix("/piper-voices/")
                with mirror._lock:
                    mirror.requests[path] += 1
                if path == "voices.json":
                    return self._send(json.dumps(mirror.index).encode())
                if path not in mirror.files:
                    self.send_error(404)
                    return None
                data = mirror.files[path].read_bytes()
                if path in mirror.corrupt:
                    data = bytes(b ^ 0xFF for b in data[:64]) + data[64:]
                return self._send(data, path)

            def _send(self, data: bytes, path: str = "") -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                cut = mirror.drop_after.get(path, mirror.stall_after.get(path))
                if cut is None:
                    self.wfile.write(data)
                    return
                self.wfile.write(data[:cut])
                self.wfile.flush()
                if path in mirror.stall_after:
                    mirror.stalled.set()
                    mirror.release.wait(60)
                self.close_connection = True

        return Handler
