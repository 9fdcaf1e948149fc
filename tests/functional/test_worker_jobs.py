"""The worker runs one long job (audit, harvest, pack) beside the pyramid builds: pages
ingested during a weekly audit still get their tiles."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from heritage.settings import parse_settings
from heritage.worker import THREAD_JOBS, run_worker


def states(arrange: Any) -> dict[str, str]:
    return arrange(lambda root: {job.kind: job.state for job in root.jobs})


def test_a_long_job_does_not_hold_up_pyramid_jobs(db, arrange, settings, monkeypatch):
    started, release = threading.Event(), threading.Event()

    def slow(db: Any, hs: Any, params: dict) -> None:
        started.set()
        assert release.wait(30)

    monkeypatch.setitem(THREAD_JOBS, "slow", slow)
    arrange(lambda root: root.jobs.add("slow"))
    ran: list[int] = []
    worker = threading.Thread(
        target=lambda: ran.append(
            run_worker(db, parse_settings(settings), processes=0, once=True, poll=0.05)
        )
    )
    worker.start()
    try:
        assert started.wait(10)
        # a page ingested now (its item is gone by the time it runs: nothing to build)
        arrange(lambda root: root.jobs.add("derivatives", item_id="gone-item", file="1"))
        for _ in range(200):
            if states(arrange).get("derivatives") == "done":
                break
            time.sleep(0.05)
        assert states(arrange) == {"slow": "running", "derivatives": "done"}
    finally:
        release.set()
        worker.join(30)
    assert ran == [2]
    assert states(arrange) == {"slow": "done", "derivatives": "done"}


def test_a_failing_long_job_is_recorded_and_retried(db, arrange, settings, monkeypatch):
    def broken(db: Any, hs: Any, params: dict) -> None:
        raise OSError("partner unreachable")

    monkeypatch.setitem(THREAD_JOBS, "broken", broken)
    arrange(lambda root: root.jobs.add("broken"))
    assert run_worker(db, parse_settings(settings), processes=0, once=True, poll=0.05) == 3
    jobs = arrange(lambda root: [(job.state, job.attempts, job.error) for job in root.jobs])
    assert jobs == [("failed", 3, "partner unreachable")]


@pytest.mark.parametrize("kinds", [None, lambda kind: kind == "b"])
def test_claim_takes_the_oldest_of_the_kinds_asked(arrange, kinds):
    def work(root: Any) -> list[str]:
        for kind in ("a", "b", "a", "b"):
            root.jobs.add(kind)
        return [job.kind for job in root.jobs.claim("w", 2, kinds=kinds)]

    assert arrange(work) == (["a", "b"] if kinds is None else ["b", "b"])
