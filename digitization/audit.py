"""Fixity audit of one stored master: re-read it and compare its size and sha256.

A plain library over paths: the caller says where the master is and what was recorded at
ingest; :func:`audit_file` says whether the file still matches. It never raises for a bad
or missing file (that is the answer, not an error), so an audit of a whole repository goes
on past every damaged file and reports them all.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

from digitization.fixity import sha256_of

OK, FAILED, MISSING = "ok", "failed", "missing"
ALGORITHM = "sha256"


@dataclass(frozen=True)
class AuditResult:
    """What one re-read of a master found.

    ``status`` is ``ok``, ``failed`` (it was read, and its size or checksum differs) or
    ``missing`` (it could not be read at all: gone, unreadable); ``found_*`` are empty or
    ``None`` when nothing could be read.
    """

    status: str
    expected_size: int
    expected_sha256: str
    found_size: int | None = None
    found_sha256: str = ""
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == OK

    def describe(self) -> str:
        """Return one line for an event's detail or a report: algorithm, expected, found."""
        if self.status == MISSING:
            return f"{ALGORITHM} expected {self.expected_sha256}; file missing: {self.detail}"
        text = f"{ALGORITHM} expected {self.expected_sha256} found {self.found_sha256}"
        if self.found_size != self.expected_size:
            text += f"; size expected {self.expected_size} found {self.found_size}"
        return text

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "algorithm": ALGORITHM,
            "expected_size": self.expected_size,
            "expected_sha256": self.expected_sha256,
            "found_size": self.found_size,
            "found_sha256": self.found_sha256,
            "detail": self.detail,
        }


def missing(expected_size: int, expected_sha256: str, detail: str) -> AuditResult:
    """Return the result for a master that cannot be found where the storage says it is."""
    return AuditResult(MISSING, expected_size, expected_sha256, detail=detail)


def audit_file(path: str | Path, *, size: int, sha256: str, drop_cache: bool = True) -> AuditResult:
    """Re-read ``path`` and compare it with the ``size`` and ``sha256`` recorded at ingest.

    The read is the fast one of :func:`digitization.fixity.sha256_of` (large reads into a
    reused buffer, no md5); by default the file's pages leave the page cache afterwards,
    since an audit reads every master once. A file that is gone or cannot be read is
    ``missing`` with the reason; one whose size or checksum differs is ``failed``.
    """
    try:
        found_size, found_sha256 = sha256_of(path, drop_cache=drop_cache)
    except FileNotFoundError:
        return missing(size, sha256, f"no file at {path}")
    except OSError as exc:
        reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "") or str(exc)
        return missing(size, sha256, f"cannot read {path}: {reason}")
    if not sha256:
        return AuditResult(
            FAILED, size, sha256, found_size, found_sha256, detail="no checksum was recorded"
        )
    if found_size != size or found_sha256 != sha256:
        what = "size and checksum differ" if found_size != size else "checksum differs"
        return AuditResult(FAILED, size, sha256, found_size, found_sha256, detail=what)
    return AuditResult(OK, size, sha256, found_size, found_sha256)
