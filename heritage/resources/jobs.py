"""Background work (derivatives now; audits and harvests later), queued in the database.

Any process may add a job; ``heritage worker`` processes claim pending ones in their own
transactions, so two workers never run the same job (the loser of a claim gets a conflict and
moves on). Keys are time + random: no counter to fight over.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from BTrees.Length import Length
from BTrees.OOBTree import OOBTree
from persistent import Persistent

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
MAX_ATTEMPTS = 3


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Job(Persistent):
    __name__: str | None = None
    __parent__: Any = None

    def __init__(self, kind: str, **params: Any) -> None:
        self.kind = kind
        self.params = dict(params)
        self.state = PENDING
        self.attempts = 0
        self.error = ""
        self.created = _now()
        self.started = self.finished = ""
        self.worker = ""


class Jobs(Persistent):
    __name__ = "jobs"
    __parent__: Any = None
    schedule_runs: Any = None  # schedule name → when it last queued its jobs (ISO, UTC)

    def __init__(self) -> None:
        self.data = OOBTree()  # key → Job (all of them, for reports)
        self.pending = OOBTree()  # key → kind, only those waiting
        self._count = Length()

    def add(self, kind: str, **params: Any) -> Job:
        key = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S.%f')}-{secrets.token_hex(4)}"
        job = Job(kind, **params)
        job.__name__, job.__parent__ = key, self
        self.data[key] = job
        self.pending[key] = kind
        self._count.change(1)
        return job

    def claim(
        self, worker: str, limit: int = 1, *, kinds: Callable[[str], bool] | None = None
    ) -> list[Job]:
        """Mark up to ``limit`` pending jobs running for ``worker`` and return them, oldest
        first; with ``kinds``, only jobs whose kind it accepts."""
        wanted = (k for k, kind in self.pending.items() if kinds is None or kinds(kind))
        keys = list(islice(wanted, limit))
        claimed = []
        for key in keys:
            del self.pending[key]
            job = self.data[key]
            job.state, job.worker, job.started = RUNNING, worker, _now()
            job.attempts += 1
            claimed.append(job)
        return claimed

    def finish(self, job: Job, error: str = "") -> None:
        job.finished = _now()
        if not error:
            job.state, job.error = DONE, ""
        elif job.attempts < MAX_ATTEMPTS:
            job.state, job.error = PENDING, error
            self.pending[job.__name__] = job.kind
        else:
            job.state, job.error = FAILED, error

    def requeue_stale(self, worker: str) -> int:
        """Put back jobs a crashed worker of this name left running."""
        count = 0
        for key, job in self.data.items():
            if job.state == RUNNING and job.worker == worker:
                job.state = PENDING
                self.pending[key] = job.kind
                count += 1
        return count

    def __len__(self) -> int:
        return self._count()

    def __iter__(self) -> Iterator[Job]:
        return iter(self.data.values())

    def waiting(self) -> int:
        return len(self.pending)

    def queued(self, kind: str, **params: Any) -> bool:
        """Whether a job of ``kind`` with these params is waiting (so as not to queue twice)."""
        return any(
            self.pending[key] == kind and self.data[key].params == params for key in self.pending
        )

    def last_run(self, schedule: str) -> str:
        return (self.schedule_runs or {}).get(schedule, "")

    def mark_run(self, schedule: str, when: str) -> None:
        if self.schedule_runs is None:
            self.schedule_runs = OOBTree()
        self.schedule_runs[schedule] = when
