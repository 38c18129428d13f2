"""C2PA content credentials: WAV, FLAC and MP3 outputs signed with a manifest declaring AI-generated speech.

On when `TTS_C2PA_CERT_FILE` (PEM chain: signing certificate first, then its issuers) and `TTS_C2PA_KEY_FILE`
(PEM private key) are set; needs the ``c2pa`` extra (`c2pa-python`, MIT/Apache-2.0, the C2PA project's Rust SDK).
The manifest holds one ``c2pa.created`` action whose digitalSourceType is IPTC's ``trainedAlgorithmicMedia``,
the claim generator (tts-predictor) and the title. Of our formats the SDK embeds manifests in WAV, FLAC and MP3
(its Builder lists audio/wav, audio/flac, audio/mpeg, audio/mp4; no Ogg); others are returned unsigned. Signing
is offline unless `TTS_C2PA_TSA_URL` names a time-stamp authority. Readers trust a manifest only if they trust the
certificate's chain (C2PA trust list or their own): a private CA validates as ``signingCredential.untrusted``.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from pathlib import Path
from typing import IO, Any

from tts_predictor.errors import require_extra

SOFTWARE = "tts-predictor"
"""The generator named in tags and manifests."""

log = logging.getLogger(__name__)

MIME = {"wav": "audio/wav", "flac": "audio/flac", "mp3": "audio/mpeg"}
"""Formats signed, with the media type the SDK takes."""
SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


class ContentCredentials:
    """A configured signer: certificate chain, key, algorithm, optional time-stamp authority."""

    def __init__(self, cert_file: str, key_file: str, alg: str = "es256", tsa_url: str | None = None):
        self.c2pa = require_extra("c2pa", "c2pa", "TTS_C2PA_CERT_FILE (content credentials)")
        self.chain, self.key = Path(cert_file).read_bytes(), Path(key_file).read_bytes()
        self.alg, self.tsa_url = alg, tsa_url
        self._lock = threading.Lock()
        self._signer().close()  # a bad certificate or key fails at start, not per request

    def _signer(self) -> Any:
        info = self.c2pa.C2paSignerInfo(
            self.alg.encode(), self.chain, self.key, self.tsa_url.encode() if self.tsa_url else None
        )
        return self.c2pa.Signer.from_info(info)

    def manifest(self, title: str | None) -> str:
        """The manifest definition (JSON) for one output."""

        return json.dumps(
            {
                "claim_generator_info": [{"name": SOFTWARE}],
                "title": title or "AI-generated speech",
                "assertions": [
                    {
                        "label": "c2pa.actions",
                        "data": {
                            "actions": [
                                {
                                    "action": "c2pa.created",
                                    "digitalSourceType": SOURCE_TYPE,
                                    "softwareAgent": {"name": SOFTWARE},
                                }
                            ]
                        },
                    }
                ],
            }
        )

    def sign_stream(self, fmt: str, source: IO[bytes], dest: IO[bytes], title: str | None = None) -> None:
        """Write `source` (a complete file of `fmt`) with an embedded, signed manifest to `dest`."""
        with self._lock:
            signer = self._signer()
            try:
                builder = self.c2pa.Builder(self.manifest(title))
                try:
                    builder.sign(signer, MIME[fmt], source, dest)
                finally:
                    builder.close()
            finally:
                signer.close()

    def sign_bytes(self, data: bytes, fmt: str, title: str | None = None) -> bytes:
        """`data` with an embedded manifest when the format takes one, else unchanged."""
        if fmt not in MIME:
            return data
        out = io.BytesIO()
        self.sign_stream(fmt, io.BytesIO(data), out, title)
        return out.getvalue()

    def sign_file(self, path: Path, fmt: str, title: str | None = None) -> None:
        """Sign a result file in place (through a temporary file next to it) when the format takes a manifest."""
        if fmt not in MIME:
            return
        signed = path.with_suffix(path.suffix + ".c2pa")
        with path.open("rb") as source, signed.open("w+b") as dest:
            self.sign_stream(fmt, source, dest, title)
        signed.replace(path)
