"""Checksums of master files, computed in one read (and, at ingest, while copying)."""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024  # hashlib releases the GIL on buffers this large
_DONE = b""


@dataclass(frozen=True)
class Fixity:
    size: int
    sha256: str
    md5: str


def _read_ahead(path: Path, chunks: queue.Queue, errors: list[BaseException]) -> None:
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                chunks.put(chunk)
    except OSError as exc:  # handed to the consumer, which raises it
        errors.append(exc)
    finally:
        chunks.put(_DONE)


def compute_fixity(path: str | Path, copy_to: str | Path | None = None) -> Fixity:
    """Return size, sha256 and md5 of ``path``, reading it once; optionally copy it too.

    A reader thread keeps the disk busy while this thread hashes (and writes), so a cold
    read and the hashing overlap instead of taking turns (PERFORMANCE.md, "Ingest").
    The copy is flushed to disk before returning: it becomes a master.
    """
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    chunks: queue.Queue = queue.Queue(maxsize=8)
    errors: list[BaseException] = []
    reader = threading.Thread(target=_read_ahead, args=(Path(path), chunks, errors), daemon=True)
    reader.start()
    out = open(copy_to, "wb") if copy_to is not None else None
    try:
        while (chunk := chunks.get()) is not _DONE:
            sha256.update(chunk)
            md5.update(chunk)
            size += len(chunk)
            if out is not None:
                out.write(chunk)
        if out is not None:
            out.flush()
            os.fsync(out.fileno())
    finally:
        if out is not None:
            out.close()
        reader.join()
    if errors:
        raise errors[0]
    return Fixity(size=size, sha256=sha256.hexdigest(), md5=md5.hexdigest())
