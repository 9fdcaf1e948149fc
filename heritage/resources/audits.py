"""What fixity audits found: the current failures, when each file was last checked, and a
short history of audit runs (``root.audits``).

The events themselves (a PREMIS ``fixity check`` per file and per audit) live in each item's
event log; this keeps what the dashboard and ``--since`` need without reading those logs:

- ``failures``: (item id, file name) → the latest failed check of that file; cleared when a
  later audit of the file passes, or when the item leaves the tree.
- ``checked``: item id → ``{file name: when last checked}`` (ISO, UTC), one small value per
  item, replaced whole: choosing the files not checked since a date costs one look-up per
  item, and loads no file.
- ``runs``: time + random key → :class:`AuditRun`, the newest :data:`MAX_RUNS` kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent

MAX_RUNS = 50
RUNNING, FINISHED, INTERRUPTED = "running", "finished", "interrupted"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AuditRun(Persistent):
    """One audit: when, by whom, over what, and how many files, bytes and failures.

    A run that died (a killed process) stays ``running`` with the counts it had committed.
    """

    __name__: str | None = None
    __parent__: Any = None

    def __init__(self, *, by: str, institution: str = "", since: str = "") -> None:
        self.started = _now()
        self.finished = ""
        self.state = RUNNING
        self.by = by  # a person ("operator:alice") or "scheduled audit"
        self.institution = institution  # "" for the whole consortium
        self.since = since  # only files not checked since then ("" for all)
        self.files = 0
        self.bytes = 0
        self.failures = 0  # failed or missing

    def add(self, files: int, nbytes: int, failures: int) -> None:
        self.files += files
        self.bytes += nbytes
        self.failures += failures

    def finish(self, state: str = FINISHED) -> None:
        self.state, self.finished = state, _now()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.__name__,
            "started": self.started,
            "finished": self.finished,
            "state": self.state,
            "by": self.by,
            "institution": self.institution,
            "since": self.since,
            "files": self.files,
            "bytes": self.bytes,
            "failures": self.failures,
        }


class Audits(Persistent):
    __name__ = "audits"
    __parent__: Any = None

    def __init__(self) -> None:
        self.failures = OOBTree()  # (item id, file name) → failure (a plain dict)
        self._failure_count = Length()
        self.checked = OOBTree()  # item id → {file name: ISO time of its last check}
        self.runs = OOBTree()  # time + random → AuditRun

    # -- runs --------------------------------------------------------------------------------

    def start_run(self, *, by: str, institution: str = "", since: str = "") -> AuditRun:
        """Add a run (and forget the oldest beyond :data:`MAX_RUNS`); return it."""
        key = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%f')}-{secrets.token_hex(4)}"
        run = AuditRun(by=by, institution=institution, since=since)
        run.__name__, run.__parent__ = key, self
        self.runs[key] = run
        for old in list(self.runs.keys())[:-MAX_RUNS]:  # at most MAX_RUNS + 1 keys: cheap
            del self.runs[old]
        return run

    def last_run(self) -> AuditRun | None:
        return self.runs[self.runs.maxKey()] if len(self.runs) else None

    def recent_runs(self, n: int = 10) -> list[AuditRun]:
        keys = list(self.runs.keys())[-n:]
        return [self.runs[k] for k in reversed(keys)]

    # -- per file ----------------------------------------------------------------------------

    def record(
        self,
        item_id: str,
        file_name: str,
        *,
        when: str,
        failure: dict[str, Any] | None = None,
    ) -> None:
        """Record a check of one file: its time, and its failure (``None`` when it passed)."""
        self.record_many(item_id, [(file_name, when, failure)])

    def record_many(
        self, item_id: str, checks: Iterable[tuple[str, str, dict[str, Any] | None]]
    ) -> None:
        """Record several checks of one item's files: ``(file name, when, failure or None)``.

        The item's ``checked`` value is rewritten once, however many files were checked.
        """
        last = dict(self.checked.get(item_id, {}))
        for file_name, when, failure in checks:
            last[file_name] = when
            key = (item_id, file_name)
            if failure is not None:
                if key not in self.failures:
                    self._failure_count.change(1)
                self.failures[key] = dict(failure, item_id=item_id, file=file_name, when=when)
            elif key in self.failures:
                del self.failures[key]
                self._failure_count.change(-1)
        self.checked[item_id] = last

    def last_checked(self, item_id: str) -> dict[str, str]:
        """Return ``{file name: ISO time}`` of the item's files checked so far."""
        return dict(self.checked.get(item_id, {}))

    def forget_item(self, item_id: str) -> None:
        """Drop what is known of an item that leaves the tree (its failures and checks)."""
        for key in list(self.failures.keys(min=(item_id,), max=(item_id, "\uffff"))):
            del self.failures[key]
            self._failure_count.change(-1)
        self.checked.pop(item_id, None)

    def forget_files_gone(self, item_id: str, files: Any) -> None:
        """Drop the failures of an item's files that ``files`` (its FileList) no longer holds
        (a deaccessioned master): a range look-up, usually of nothing."""
        for key in list(self.failures.keys(min=(item_id,), max=(item_id, "\uffff"))):
            if files.get(key[1]) is None:
                del self.failures[key]
                self._failure_count.change(-1)

    # -- failures ----------------------------------------------------------------------------

    def failure_count(self) -> int:
        return self._failure_count()

    def failed_files(self, item_id: str) -> list[str]:
        """Return the names of the item's files whose last audit failed."""
        if not self._failure_count():
            return []
        return [key[1] for key in self.failures.keys(min=(item_id,), max=(item_id, "\uffff"))]

    def current_failures(
        self, institutions: Iterable[str] | None = None, *, limit: int | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Return ``(failures, how many in all)`` for ``institutions`` (``None``: every one).

        Failures are rare, and all of them are plain dicts in a few buckets: filtering them
        costs little even after a disk has gone bad; ``limit`` bounds what a page shows.
        """
        wanted = None if institutions is None else set(institutions)
        shown: list[dict[str, Any]] = []
        total = 0
        for failure in self.failures.values():
            if wanted is not None and failure.get("institution") not in wanted:
                continue
            total += 1
            if limit is None or len(shown) < limit:
                shown.append(failure)
        return shown, total

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.failures.values())
