"""Fixity audits of the stored masters: ``heritage audit`` and the worker's scheduled job.

Each master's blob is re-read and compared with the size and sha256 recorded at ingest
(``digitization.audit``). The files are read outside any transaction, a batch at a time; each
batch's results are then committed in one short transaction: a PREMIS ``fixity check``
event per file in its item's event log, the file's time of check and its failure (or the
end of an earlier one) in ``root.audits``, and the run's counts. So an audit of terabytes
holds no transaction open while it reads, and a killed audit keeps everything it committed:
running it again with ``--since`` the killed run's start checks only the rest.

Blobs are read where the storage keeps them: with ZEO, use ``shared_blob_dir=true`` (the
default here) or run the audit on the database host, since a client's private blob cache
holds copies, and checking a copy says nothing about the original.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pyramid.traversal import find_root
from ZODB.blob import BlobError
from ZODB.POSException import POSKeyError

from digitization.audit import MISSING, AuditResult, audit_file, missing
from heritage.changes import on_item_changed, on_item_removed
from heritage.db import connection
from heritage.resources.audits import FINISHED, INTERRUPTED
from heritage.resources.events import APP_AGENT
from heritage.resources.root import APP_ROOT
from heritage.settings import HeritageSettings
from heritage.worker import SCHEDULES, THREAD_JOBS, Schedule

log = logging.getLogger(__name__)

SCHEDULED = "scheduled audit"
JOB_KIND = "audit"
#: A batch is committed after this many files or bytes, whichever comes first: a killed
#: audit loses at most one batch of reading, and no transaction stays open for long.
BATCH_FILES = 200
BATCH_BYTES = 2 * 1024**3


class AuditError(ValueError):
    """An audit cannot start as asked (an unknown institution, a bad date)."""


@dataclass(frozen=True)
class FileAudit:
    """One file's check, named as an operator finds it: item, file number and filename."""

    item_id: str
    file: str
    filename: str
    institution: str
    result: AuditResult
    when: datetime

    def line(self) -> str:
        """``item/file (filename): expected … found …``: what the CLI prints for a failure."""
        r = self.result
        if r.status == MISSING:
            found = f"missing ({r.detail})"
        else:
            found = r.found_sha256
            if r.found_size != r.expected_size:
                found += f" ({r.found_size} bytes, expected {r.expected_size})"
        name = f"{self.item_id}/{self.file} ({self.filename})"
        return f"{name}: expected {r.expected_sha256} found {found}"


@dataclass
class AuditProgress:
    """Where an audit is: handed to ``progress`` after planning and after every file."""

    files_done: int
    bytes_done: int
    files_total: int
    bytes_total: int
    last: FileAudit | None = None


@dataclass
class AuditSummary:
    """What an audit did: its run's key, counts, per-institution counts and the failures."""

    run: str
    by: str
    started: datetime
    finished: datetime | None = None
    files: int = 0
    bytes: int = 0
    not_due: int = 0  # files checked since ``since``: skipped
    failures: list[FileAudit] = field(default_factory=list)
    per_institution: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        end = self.finished or datetime.now(UTC)
        return max((end - self.started).total_seconds(), 0.0)

    def count(self, fa: FileAudit) -> None:
        self.files += 1
        self.bytes += fa.result.found_size or 0
        row = self.per_institution.setdefault(
            fa.institution, {"files": 0, "bytes": 0, "failed": 0, "missing": 0}
        )
        row["files"] += 1
        row["bytes"] += fa.result.found_size or 0
        if not fa.result.ok:
            self.failures.append(fa)
            row["missing" if fa.result.status == MISSING else "failed"] += 1


# -- dates --------------------------------------------------------------------------------


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """Return the moment ``--since`` names, in UTC.

    ``YYYY-MM-DD`` (midnight UTC), an ISO date and time (UTC unless it says otherwise), or
    an age: ``30d``, ``12h``, ``2w`` ago. Raises AuditError with the accepted forms.
    """
    text = (text or "").strip()
    now = now or datetime.now(UTC)
    units = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60}
    if len(text) > 1 and text[-1].lower() in units and text[:-1].isdigit():
        return now - timedelta(seconds=int(text[:-1]) * units[text[-1].lower()])
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise AuditError(
            f"--since {text!r} is not a date: use YYYY-MM-DD, an ISO date and time, "
            "or an age such as 30d or 12h"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds")


# -- the audit ----------------------------------------------------------------------------


def _items_of(root: Any, institution: str | None) -> Iterator[Any]:
    if institution is None:
        yield from root.items.values()
        return
    for collection in root.institutions[institution].collections.values():
        yield from collection.items.values()


def _plan(conn: Any, institution: str | None, since: str) -> tuple[list[tuple[str, str, int]], int]:
    """Return ``[(item id, file name, size)…]`` of the files due, and how many are not.

    One read transaction; with ``since`` a file is due when it was never checked or last
    checked before then (one look-up per item in ``root.audits.checked``).
    """
    root = conn.root()[APP_ROOT]
    plan: list[tuple[str, str, int]] = []
    not_due = 0
    for n, item in enumerate(_items_of(root, institution), 1):
        checked = root.audits.checked.get(item.item_id, {}) if since else {}
        for f in item.files:
            if since and checked.get(f.__name__, "") >= since:
                not_due += 1
            else:
                plan.append((item.item_id, f.__name__, f.size))
        if n % 1000 == 0:
            conn.cacheGC()  # planning 100 000 files must not keep them all in memory
    return plan, not_due


def _batches(plan: list[tuple[str, str, int]]) -> Iterator[list[tuple[str, str, int]]]:
    """Cut the plan into batches of :data:`BATCH_FILES` files or :data:`BATCH_BYTES`,
    across items: a collection of single photographs costs one commit per batch, not one
    per photograph."""
    batch: list[tuple[str, str, int]] = []
    nbytes = 0
    for entry in plan:
        if batch and (len(batch) >= BATCH_FILES or nbytes + entry[2] > BATCH_BYTES):
            yield batch
            batch, nbytes = [], 0
        batch.append(entry)
        nbytes += entry[2]
    if batch:
        yield batch


def _locate(root: Any, batch: list[tuple[str, str, int]]) -> list[tuple[Any, ...]]:
    """Return ``(item id, name, filename, size, sha256, blob path or None, why none,
    institution)`` of the batch's files still there (not deaccessioned since planning)."""
    found = []
    for item_id, name, _ in batch:
        item = root.items.get(item_id)
        f = item.files.get(name) if item is not None else None
        if f is None:
            continue
        institution = item.institution.__name__ if item.institution is not None else ""
        try:
            path, reason = f.blob.committed(), ""
        except (POSKeyError, BlobError) as exc:
            path, reason = None, str(exc.args[0]) if exc.args else type(exc).__name__
        found.append((item_id, name, f.filename, f.size, f.sha256, path, reason, institution))
    return found


def _failure(fa: FileAudit, run: str) -> dict[str, Any]:
    r = fa.result
    return {
        "institution": fa.institution,
        "filename": fa.filename,
        "status": r.status,
        "algorithm": "sha256",
        "expected": r.expected_sha256,
        "found": r.found_sha256,
        "expected_size": r.expected_size,
        "found_size": r.found_size,
        "detail": r.describe() if r.status != MISSING else r.detail,
        "run": run,
    }


def _commit(conn: Any, tm: Any, checks: list[FileAudit], run_key: str, agent: dict) -> None:
    """Record a batch's checks: events, last-checked times, failures, the run's counts."""
    for attempt in tm.attempts():
        with attempt:
            root = conn.root()[APP_ROOT]
            by_item: dict[str, list[tuple[str, str, dict | None]]] = {}
            for fa in checks:
                item = root.items.get(fa.item_id)
                if item is None or item.files.get(fa.file) is None:
                    continue  # deaccessioned while it was read
                r = fa.result
                item.events.record(
                    "fixity check",
                    outcome="success" if r.ok else "failure",
                    detail=r.describe(),
                    agents=[APP_AGENT, agent],
                    objects=(f"{fa.item_id}/{fa.file}",),
                    when=fa.when,
                )
                failure = None if r.ok else _failure(fa, run_key)
                by_item.setdefault(fa.item_id, []).append((fa.file, _stamp(fa.when), failure))
            for item_id, recorded in by_item.items():
                root.audits.record_many(item_id, recorded)
            run = root.audits.runs.get(run_key)
            if run is not None:
                run.add(
                    len(checks),
                    sum(fa.result.found_size or 0 for fa in checks),
                    sum(not fa.result.ok for fa in checks),
                )
            tm.get().note(f"heritage audit: {len(checks)} file(s) of {len(by_item)} item(s)")


def run_audit(
    db: Any,
    hs: HeritageSettings | None = None,
    *,
    institution: str | None = None,
    since: datetime | None = None,
    progress: Callable[[AuditProgress], None] | None = None,
    user: str | None = None,
) -> AuditSummary:
    """Audit the masters (of one ``institution``, or all; only those not checked ``since``).

    ``user`` names the person who asked (``None``: the scheduled audit); it is the event's
    agent beside this application. Opens its own connection; reads outside transactions
    and commits each batch (:data:`BATCH_FILES`, :data:`BATCH_BYTES`). Raises AuditError
    for an unknown institution before anything is recorded.
    """
    by = user or SCHEDULED
    agent = {"type": "person" if user else "software", "name": by}
    since_iso = _stamp(since) if since is not None else ""
    with connection(db) as (conn, tm):
        tm.begin()
        root = conn.root()[APP_ROOT]
        if institution is not None and institution not in root.institutions:
            tm.abort()
            raise AuditError(f"no institution {institution!r}")
        plan, not_due = _plan(conn, institution, since_iso)
        tm.abort()
        for attempt in tm.attempts():
            with attempt:
                run_key = (
                    conn.root()[APP_ROOT]
                    .audits.start_run(by=by, institution=institution or "", since=since_iso)
                    .__name__
                )
                tm.get().note(f"heritage audit started by {by}")
        summary = AuditSummary(run=run_key, by=by, started=datetime.now(UTC), not_due=not_due)
        state = INTERRUPTED
        done = AuditProgress(0, 0, len(plan), sum(size for _, _, size in plan))
        if progress:
            progress(done)
        try:
            for batch in _batches(plan):
                tm.begin()
                located = _locate(conn.root()[APP_ROOT], batch)
                tm.abort()  # no transaction open while reading
                checks = []
                for item_id, name, filename, size, sha256, path, reason, inst in located:
                    result = (
                        audit_file(path, size=size, sha256=sha256)
                        if path
                        else missing(size, sha256, reason)
                    )
                    fa = FileAudit(item_id, name, filename, inst, result, datetime.now(UTC))
                    checks.append(fa)
                    summary.count(fa)
                    done.files_done += 1
                    done.bytes_done += size
                    done.last = fa
                    if progress:
                        progress(done)
                if checks:
                    _commit(conn, tm, checks, run_key, agent)
            state = FINISHED
        finally:
            summary.finished = datetime.now(UTC)
            try:
                for attempt in tm.attempts():
                    with attempt:
                        run = conn.root()[APP_ROOT].audits.runs.get(run_key)
                        if run is not None:
                            run.finish(state)
                        tm.get().note(f"heritage audit {state}")
            except Exception:  # the database went away: the run stays "running"
                if state == FINISHED:
                    raise
                log.exception("could not record the end of audit %s", run_key)
    return summary


# -- the worker's job and schedule -----------------------------------------------------------


def run_audit_job(db: Any, hs: HeritageSettings, params: dict) -> None:
    """Run a queued audit; a retry after a crash checks only what the first try had not."""
    since = params.get("since")
    summary = run_audit(
        db,
        hs,
        institution=params.get("institution") or None,
        since=parse_since(since) if since else None,
        user=params.get("user") or None,
    )
    log.info(
        "audit %s: %d file(s), %d byte(s), %d failure(s)",
        summary.run,
        summary.files,
        summary.bytes,
        len(summary.failures),
    )
    for fa in summary.failures:
        log.warning("fixity failure: %s", fa.line())


def _scheduled_jobs(root: Any, hs: HeritageSettings) -> list[tuple[str, dict]]:
    """Queue one audit of every master, unless one is still waiting.

    Its ``since`` is the moment it is queued, so that a retried job (after a crash) skips
    the files its first try already checked, while a new run checks all of them again.
    """
    if any(kind == JOB_KIND for kind in root.jobs.pending.values()):
        return []
    queued = root.jobs.last_run("audit") or _stamp(datetime.now(UTC))  # set just before
    return [(JOB_KIND, {"since": queued})]


@on_item_removed
def _forget_removed_item(item: Any) -> None:
    """An item leaving the tree (deaccession) takes its failures off the dashboard."""
    audits = getattr(find_root(item), "audits", None)
    if audits is not None:
        audits.forget_item(item.item_id)


@on_item_changed
def _forget_removed_files(item: Any) -> None:
    """A master taken out of an item (deaccession) takes its failure off the dashboard.

    Runs on every item change, so it reads one ``Length`` and, only when some file failed
    somewhere, one range of the failures.
    """
    audits = getattr(find_root(item), "audits", None)
    if audits is not None and audits.failure_count():
        audits.forget_files_gone(item.item_id, item.files)


THREAD_JOBS[JOB_KIND] = run_audit_job
SCHEDULES["audit"] = Schedule("audit", lambda hs: hs.audit_interval, _scheduled_jobs)
