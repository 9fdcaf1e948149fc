"""Format identification with PRONOM ids (opf-fido), cross-checked with exiftool.

The PRONOM signature version and fido's version are kept with every result, so that a later
re-identification knows what the first one used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fido
from fido.fido import Fido
from fido.versions import get_local_versions

#: What a master may be, by MIME type (PRONOM's), with the kind of file it makes.
ACCEPTED: dict[str, str] = {
    "image/tiff": "image",
    "image/jpeg": "image",
    "image/png": "image",
    "image/jp2": "image",
    "audio/x-wav": "audio",
    "audio/wav": "audio",
    "audio/flac": "audio",
    "audio/x-flac": "audio",
    "audio/mpeg": "audio",
    "application/pdf": "document",  # transcripts and translations of recordings and texts
}
#: exiftool's MIME types that mean the same as PRONOM's.
SAME_MIME = {"audio/x-wav": "audio/wav", "audio/x-flac": "audio/flac"}


class FormatError(ValueError):
    """The file is not a format we accept as a master, or its identification is inconsistent."""


@dataclass(frozen=True)
class Identification:
    puid: str
    name: str
    version: str
    mimetype: str
    kind: str  # "image" or "audio"
    tool: str  # "fido 1.6.1"
    signature_version: str  # "PRONOM v109"
    other_matches: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "puid": self.puid,
            "name": self.name,
            "version": self.version,
            "mimetype": self.mimetype,
            "kind": self.kind,
            "tool": self.tool,
            "signature_version": self.signature_version,
            "other_matches": list(self.other_matches),
        }


def _text(element: Any, tag: str) -> str:
    found = element.find(tag)
    return (found.text or "") if found is not None else ""


class Identifier:
    """One fido instance for a batch (it loads its signatures once, in about 0.1 s)."""

    def __init__(self) -> None:
        versions = get_local_versions(fido.CONFIG_DIR)
        self.tool = f"fido {fido.__version__}"
        self.signature_version = f"PRONOM v{versions.pronom_version}"
        self._matches: list[tuple[Any, str]] = []
        self._fido = Fido(
            quiet=True,
            handle_matches=self._collect,
            format_files=[versions.pronom_signature, versions.fido_extension_signature],
        )

    def _collect(self, fullname: str, matches: list, delta_t: float, matchtype: str) -> None:
        self._matches = [(fmt, matchtype) for fmt, _sig in matches]

    def identify(self, path: Path, *, exiftool_mime: str | None = None) -> Identification:
        """Return the identification of ``path``, or raise FormatError saying why not.

        Identification is by content only (``extension=False``): a text file named
        ``.tif`` is not a TIFF.
        """
        if path.stat().st_size == 0:
            raise FormatError("the file is empty (0 bytes)")
        self._matches = []
        self._fido.identify_file(str(path), extension=False)
        if not self._matches:
            raise FormatError(
                "not a recognised format: no PRONOM signature matches its content "
                f"(we take {', '.join(sorted({m.split('/')[1] for m in ACCEPTED}))})"
            )
        formats = [
            (_text(f, "puid"), _text(f, "name"), _text(f, "version"), _text(f, "mime"))
            for f, _ in self._matches
        ]
        accepted = [f for f in formats if f[3] in ACCEPTED]
        if not accepted:
            puid, name, _, _ = formats[0]
            raise FormatError(f"{name} ({puid}) is not a format we keep as a master")
        puid, name, version, mime = accepted[0]
        if exiftool_mime and SAME_MIME.get(exiftool_mime, exiftool_mime) != SAME_MIME.get(
            mime, mime
        ):
            raise FormatError(
                f"identification disagrees: fido says {name} ({mime}), exiftool says "
                f"{exiftool_mime}; the file may be damaged or mislabelled"
            )
        return Identification(
            puid=puid,
            name=name,
            version=version,
            mimetype=mime,
            kind=ACCEPTED[mime],
            tool=self.tool,
            signature_version=self.signature_version,
            other_matches=tuple(f[0] for f in formats if f[0] != puid),
        )
