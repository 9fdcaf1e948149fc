"""Packing the database on a schedule.

Every change writes new object revisions, and the same-transaction indexes (search catalog,
OAI-PMH record list, partner counts) write many: a Data.fs grows several times its live size
(PERFORMANCE.md: 1.4 GB before a pack, 275 MB after, at 100 000 catalogued records). A pack
drops revisions older than ``heritage.pack_keep`` and unreferenced blobs. Through ZEO the
server does the work; this process only waits for it.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from heritage.settings import HeritageSettings
from heritage.worker import SCHEDULES, THREAD_JOBS, Schedule

log = logging.getLogger(__name__)

JOB_KIND = "pack"


def pack_database(db: Any, keep_seconds: float) -> None:
    """Pack ``db``, keeping the revisions of the last ``keep_seconds``."""
    started = time.monotonic()
    db.pack(t=time.time() - keep_seconds)
    log.info(
        "packed the database (kept %.0f s of history) in %.1f s",
        keep_seconds,
        time.monotonic() - started,
    )


def run_pack_job(db: Any, hs: HeritageSettings, params: dict) -> None:
    pack_database(db, hs.pack_keep)


THREAD_JOBS[JOB_KIND] = run_pack_job
SCHEDULES["pack"] = Schedule("pack", lambda hs: hs.pack_interval, lambda root, hs: [(JOB_KIND, {})])
