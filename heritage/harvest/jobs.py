"""The worker's side of harvesting: a ``harvest`` thread job per partner, and a schedule
that queues one for each enabled partner whose own interval has passed.

``heritage.harvest_check`` says how often the worker looks (0: never, so only
``heritage harvest`` harvests); each partner's ``schedule`` says how often it is due.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from heritage.db import connection
from heritage.harvest.harvester import harvest_partner
from heritage.resources.root import APP_ROOT
from heritage.worker import SCHEDULES, THREAD_JOBS, Schedule

KIND = "harvest"


def run_harvest_job(db: Any, hs: Any, params: dict) -> None:
    """Harvest the partner ``params["partner"]`` on its own connection.

    A partner's failure is in its log, not an error of the job: retrying the job at once
    would only hammer a partner that is down; its schedule tries again later.
    """
    with connection(db) as (conn, tm):
        if params.get("partner") not in conn.root()[APP_ROOT].partners:
            return  # removed since it was queued
        tm.abort()
        harvest_partner(conn, tm, params["partner"], hs)


def check_interval(hs: Any) -> float:
    return hs.harvest_check


def due_harvests(root: Any, hs: Any) -> list[tuple[str, dict]]:
    """Return a harvest job for each partner whose schedule is due now."""
    now = datetime.now(UTC)
    return [(KIND, {"partner": p.__name__}) for p in root.partners.enabled() if p.due(now)]


THREAD_JOBS[KIND] = run_harvest_job
SCHEDULES[KIND] = Schedule(KIND, check_interval, due_harvests)
