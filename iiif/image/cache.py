"""A disk cache of computed image responses, bounded in size, least recently used out.

Entries are files named by the request's canonical path below the image's folder, written
as a temporary file + ``os.replace``; reading one touches its mtime, and eviction removes
the oldest mtimes first. Several processes may share it: a missing file is just a miss.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from pathlib import Path

#: Scan for eviction after this many writes (per process): cheap, and bounded well enough.
EVICT_EVERY = 64


class DiskCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self._writes = 0
        self._lock = threading.Lock()

    def path(self, image_id: str, canonical: str) -> Path:
        return self.root / image_id / canonical

    def get(self, image_id: str, canonical: str) -> Path | None:
        path = self.path(image_id, canonical)
        try:
            os.utime(path)  # most recently used
        except OSError:
            return None
        return path

    def put(self, image_id: str, canonical: str, payload: bytes) -> Path:
        path = self.path(image_id, canonical)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(payload)
        os.replace(tmp, path)
        with self._lock:
            self._writes += 1
            due = self._writes % EVICT_EVERY == 0
        if due:
            self.evict()
        return path

    def evict(self) -> int:
        """Remove least recently used entries until the cache is under its bound."""
        entries = []
        total = 0
        for folder, _dirs, files in os.walk(self.root):
            for name in files:
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    st = os.stat(path)
                    entries.append((st.st_mtime, st.st_size, path))
                    total += st.st_size
        removed = 0
        if total <= self.max_bytes:
            return 0
        for _mtime, size, path in sorted(entries):
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed += 1
                total -= size
            if total <= self.max_bytes * 0.9:
                break
        return removed
