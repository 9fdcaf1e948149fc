"""Checksums of master files, computed in one read."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024  # hashlib releases the GIL on buffers this large


@dataclass(frozen=True)
class Fixity:
    size: int
    sha256: str
    md5: str


def compute_fixity(path: str | Path) -> Fixity:
    """Return size, sha256 and md5 of the file at ``path``, reading it once."""
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
    return Fixity(size=size, sha256=sha256.hexdigest(), md5=md5.hexdigest())
