"""``heritage worker``: takes jobs from the queue and runs them, on every core.

Jobs are claimed in one short transaction, run outside any transaction (a pyramid of a big
page takes a second or more), and finished in another. Derivatives are built in a process
pool, so a batch of pages uses both cores (a page's resize is CPU-bound and holds the GIL).
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import PIL

from digitization.derivatives import build_pyramid
from heritage.db import connection
from heritage.resources.events import APP_AGENT
from heritage.resources.root import APP_ROOT
from heritage.settings import HeritageSettings, apply_image_limits

log = logging.getLogger(__name__)

#: Jobs that run in the worker's own thread, with their own connection and transactions
#: (audits, harvests): kind → ``run(db, hs, params)``; raising fails the job (it is retried).
THREAD_JOBS: dict[str, Callable[[Any, HeritageSettings, dict], None]] = {}


@dataclass(frozen=True)
class Schedule:
    """Work the worker queues by itself every ``interval(hs)`` seconds (0 or less: never).

    ``jobs(root, hs)`` returns the ``(kind, params)`` to queue when the time has come.
    """

    name: str
    interval: Callable[[HeritageSettings], float]
    jobs: Callable[[Any, HeritageSettings], list[tuple[str, dict]]]


SCHEDULES: dict[str, Schedule] = {}

#: Modules that register thread jobs and schedules when imported.
JOB_MODULES: tuple[str, ...] = ("heritage.audit", "heritage.harvest", "heritage.maintenance")


def _load_job_modules() -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)


def queue_scheduled(root: Any, hs: HeritageSettings, now: datetime | None = None) -> int:
    """Queue the jobs of every schedule whose interval has passed; return how many."""
    now = now or datetime.now(UTC)
    queued = 0
    for schedule in SCHEDULES.values():
        interval = schedule.interval(hs)
        if interval <= 0:
            continue
        last = root.jobs.last_run(schedule.name)
        if last and (now - datetime.fromisoformat(last)).total_seconds() < interval:
            continue
        root.jobs.mark_run(schedule.name, now.isoformat(timespec="seconds"))
        for kind, params in schedule.jobs(root, hs):
            if not root.jobs.queued(kind, **params):
                root.jobs.add(kind, **params)
                queued += 1
    return queued


class _Inline(Executor):
    """Run jobs in this thread (``processes = 0``): for tests and the smallest installs."""

    def submit(self, fn: Callable, /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def derivatives_root(hs: HeritageSettings) -> Path:
    return Path(hs.derivatives_dir or Path(hs.var_dir) / "derivatives")


def image_dir(hs: HeritageSettings, image_id: str) -> Path:
    """Return the folder of an image's derivatives: laid out as its IIIF URL path."""
    return derivatives_root(hs) / "iiif" / "3" / image_id


def _prepare(root: Any, job: Any, hs: HeritageSettings) -> tuple[Callable, tuple, dict] | None:
    """Return what to run for ``job`` (a picklable call), or None if nothing is left to do."""
    if job.kind in THREAD_JOBS:
        return None  # run by run_worker itself, outside this transaction
    if job.kind == "derivatives":
        item = root.items.get(job.params["item_id"])
        f = item.files.get(job.params["file"]) if item is not None else None
        if f is None:
            return None  # the item or file went away (deaccession): nothing to build
        master = f.blob.committed()
        out = image_dir(hs, item.image_id(f))
        return build_pyramid, (Path(master), out), {"max_pixels": hs.max_image_pixels}
    raise ValueError(f"unknown job kind {job.kind!r}")


def _record(root: Any, job: Any, result: Any, hs: HeritageSettings | None = None) -> None:
    if job.kind == "derivatives" and result is not None:
        item = root.items.get(job.params["item_id"])
        f = item.files.get(job.params["file"]) if item is not None else None
        if f is not None:
            f.derivatives = result.to_json()
            item.files.refresh(f)
            _record_creation(item, f, result)
        elif hs is not None:  # deaccessioned while it was being built: no orphan tiles
            from heritage.deaccession import remove_derivatives_after_commit

            image_id = f"{job.params['item_id']}_{job.params['file']}"
            remove_derivatives_after_commit(root._p_jar.transaction_manager.get(), hs, [image_id])


def _record_creation(item: Any, f: Any, pyramid: Any) -> None:
    """Record the derivative as a PREMIS creation event: what was made, with what."""
    levels = ", ".join(str(s) for s in pyramid.scale_factors)
    tiles = sum(1 for _ in pyramid.tiles())
    item.events.record(
        "creation",
        agents=[{"type": "software", "name": f"Pillow {PIL.__version__}"}, APP_AGENT],
        objects=(f"{item.item_id}/{f.__name__}",),
        detail=(
            f"IIIF tile pyramid of {item.image_id(f)}: {pyramid.width} × {pyramid.height} "
            f"pixels, {len(pyramid.scale_factors)} levels (scale factors {levels}), {tiles} "
            f"tiles of {pyramid.tile_size} px and {len(pyramid.sizes)} whole-image sizes, "
            f"JPEG quality {pyramid.quality}"
        ),
    )


def _is_long_job(kind: str) -> bool:
    return kind in THREAD_JOBS


def _is_pool_job(kind: str) -> bool:
    return kind not in THREAD_JOBS


def _run_long_job(db: Any, hs: HeritageSettings, key: str, kind: str, params: dict) -> None:
    """Run an audit, harvest or pack in the long-job thread, then record how it ended in
    its own transaction (the main loop's connection belongs to the main loop)."""
    error = ""
    try:
        THREAD_JOBS[kind](db, hs, params)
    except Exception as exc:  # a job's failure is recorded on it, never fatal
        log.exception("job %s (%s) failed", key, kind)
        error = str(exc) or type(exc).__name__
    with connection(db) as (conn, tm):
        for attempt in tm.attempts():
            with attempt:
                jobs = conn.root()[APP_ROOT].jobs
                jobs.finish(jobs.data[key], error)


def run_worker(
    db: Any,
    hs: HeritageSettings,
    *,
    processes: int = 2,
    once: bool = False,
    poll: float = 1.0,
    stop: threading.Event | None = None,
) -> int:
    """Process jobs until ``stop`` is set (or, with ``once``, until the queue is empty).

    Tile pyramids run in the process pool; one long job at a time (an audit of every
    master, a harvest, a pack: minutes to hours) runs in a thread beside them, so pages
    ingested during a weekly audit still get their tiles. Return the number of jobs run.
    """
    stop = stop or threading.Event()
    _load_job_modules()
    name = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    executor: Executor = (
        ProcessPoolExecutor(
            processes,
            mp_context=get_context("spawn"),
            initializer=apply_image_limits,
            initargs=(hs.max_image_pixels,),
        )
        if processes > 0
        else _Inline()
    )
    long_jobs = ThreadPoolExecutor(1, thread_name_prefix="heritage-long-job")
    long_future: Future | None = None
    ran = 0
    with executor, long_jobs, connection(db) as (conn, tm):
        while not stop.is_set():
            if long_future is not None and long_future.done():
                long_future, ran = None, ran + 1
            for attempt in tm.attempts():
                with attempt:
                    queue_scheduled(conn.root()[APP_ROOT], hs)
            long_claim = None
            for attempt in tm.attempts():
                with attempt:
                    jobs = conn.root()[APP_ROOT].jobs
                    claimed = [
                        (job, job.__name__)
                        for job in jobs.claim(name, max(processes, 1), kinds=_is_pool_job)
                    ]
                    calls = [_prepare(conn.root()[APP_ROOT], job, hs) for job, _ in claimed]
                    long_claim = None
                    if long_future is None:
                        for job in jobs.claim(name, 1, kinds=_is_long_job):
                            long_claim = (job.__name__, job.kind, dict(job.params))
            if long_claim is not None:
                long_future = long_jobs.submit(_run_long_job, db, hs, *long_claim)
            if not claimed:
                if long_future is not None:
                    wait([long_future], timeout=poll)  # then look for new pyramid jobs again
                    continue
                if once:
                    break
                stop.wait(poll)
                continue
            futures = [
                executor.submit(call[0], *call[1], **call[2]) if call else None for call in calls
            ]
            outcomes = []
            for (job, _), future in zip(claimed, futures, strict=True):
                try:
                    outcomes.append((future.result() if future else None, ""))
                except Exception as exc:  # a job's failure is recorded on it, never fatal
                    log.exception("job %s failed", job.kind)
                    outcomes.append((None, str(exc) or type(exc).__name__))
            for attempt in tm.attempts():
                with attempt:
                    root = conn.root()[APP_ROOT]
                    for (_, key), (result, error) in zip(claimed, outcomes, strict=True):
                        job = root.jobs.data[key]
                        root.jobs.finish(job, error)
                        if not error:
                            _record(root, job, result, hs)
                        else:
                            log.warning("job %s (%s) failed: %s", key, job.kind, error)
            ran += len(claimed)
    if long_future is not None:  # the with block waited for it
        ran += 1
    return ran
