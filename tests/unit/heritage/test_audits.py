"""root.audits (failures, last checks, runs), its evolve step, and the audit's date parsing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import transaction
import ZODB

from heritage.audit import AuditError, parse_since
from heritage.evolve import bootstrap
from heritage.evolve.step_0005_audits import evolve as step_0005
from heritage.resources.audits import MAX_RUNS, Audits
from heritage.resources.root import APP_ROOT
from heritage.settings import SettingsError, asduration, parse_settings


def failure(institution: str = "pns", **kw: str) -> dict:
    return {"institution": institution, "filename": "f.tif", "status": "failed", **kw}


def test_a_failure_stays_until_a_later_check_of_that_file_passes():
    audits = Audits()
    audits.record("pns-ms-0001", "1", when="2025-01-01T00:00:00+00:00", failure=failure())
    audits.record("pns-ms-0001", "1", when="2025-01-02T00:00:00+00:00", failure=failure())
    audits.record("pns-ms-0001", "2", when="2025-01-02T00:00:00+00:00")
    assert audits.failure_count() == 1
    (shown,), total = audits.current_failures()
    assert total == 1
    assert (shown["item_id"], shown["file"], shown["when"]) == (
        "pns-ms-0001",
        "1",
        "2025-01-02T00:00:00+00:00",
    )

    audits.record("pns-ms-0001", "1", when="2025-01-03T00:00:00+00:00")

    assert audits.current_failures() == ([], 0)
    assert audits.failure_count() == 0
    assert audits.last_checked("pns-ms-0001") == {
        "1": "2025-01-03T00:00:00+00:00",
        "2": "2025-01-02T00:00:00+00:00",
    }


def test_failures_are_filtered_by_institution_and_limited():
    audits = Audits()
    audits.record_many(
        "pns-ms-0001", [(str(n), "2025-01-01T00:00:00+00:00", failure()) for n in range(1, 8)]
    )
    audits.record(
        "kaltim-ms-0001", "1", when="2025-01-01T00:00:00+00:00", failure=failure("kaltim")
    )

    shown, total = audits.current_failures(["pns"], limit=5)
    assert len(shown) == 5 and total == 7
    assert {f["institution"] for f in shown} == {"pns"}
    assert audits.current_failures(["kaltim"])[1] == 1
    assert audits.current_failures([])[1] == 0
    assert audits.current_failures()[1] == 8


def test_forgetting_an_item_drops_only_its_failures_and_checks():
    audits = Audits()
    audits.record("pns-ms-0001", "1", when="2025-01-01T00:00:00+00:00", failure=failure())
    audits.record("pns-ms-00010", "1", when="2025-01-01T00:00:00+00:00", failure=failure())
    audits.forget_item("pns-ms-0001")
    assert [f["item_id"] for f in audits] == ["pns-ms-00010"]
    assert audits.failure_count() == 1
    assert audits.last_checked("pns-ms-0001") == {}
    assert audits.last_checked("pns-ms-00010") != {}
    audits.forget_item("never-there")  # nothing to do, no error


def test_runs_keep_a_short_history_newest_first():
    audits = Audits()
    assert audits.last_run() is None
    runs = [audits.start_run(by=f"user{n}") for n in range(MAX_RUNS + 5)]
    assert len(audits.runs) == MAX_RUNS
    assert audits.last_run() is runs[-1]
    assert [r.by for r in audits.recent_runs(3)] == [f"user{n}" for n in (54, 53, 52)]
    run = runs[-1]
    assert run.state == "running" and not run.finished
    run.add(3, 300, 1)
    run.add(2, 200, 0)
    run.finish()
    assert run.as_dict() | {"id": "", "started": "", "finished": ""} == {
        "id": "",
        "started": "",
        "finished": "",
        "state": "finished",
        "by": "user54",
        "institution": "",
        "since": "",
        "files": 5,
        "bytes": 500,
        "failures": 1,
    }


def test_a_new_database_has_audits_and_step_0005_adds_them_to_an_old_one():
    db = ZODB.DB(None)
    try:
        tm = transaction.TransactionManager()
        conn = db.open(transaction_manager=tm)
        with tm:
            root = bootstrap(conn.root())
            assert isinstance(root.audits, Audits) and root.audits.__parent__ is root
            del root.audits  # as a database from before audits
        with tm:
            root = conn.root()[APP_ROOT]
            step_0005(root)
            assert isinstance(root.audits, Audits) and root.audits.__parent__ is root
            kept = root.audits
            step_0005(root)  # twice is harmless
            assert root.audits is kept
        conn.close()
    finally:
        db.close()


NOW = datetime(2025, 6, 15, 12, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-01", datetime(2025, 6, 1, tzinfo=UTC)),
        ("2025-06-01T08:00:00", datetime(2025, 6, 1, 8, tzinfo=UTC)),
        ("2025-06-01T08:00:00+08:00", datetime(2025, 6, 1, 0, tzinfo=UTC)),
        ("30d", NOW - timedelta(days=30)),
        ("12h", NOW - timedelta(hours=12)),
        ("2w", NOW - timedelta(weeks=2)),
    ],
)
def test_since_takes_dates_times_and_ages(text, expected):
    assert parse_since(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "2025-13-01", "d", "-3d", "3y"])
def test_since_refuses_anything_else_with_the_forms_it_takes(text):
    with pytest.raises(AuditError, match="YYYY-MM-DD"):
        parse_since(text, now=NOW)


def test_the_audit_interval_setting():
    assert parse_settings({}).audit_interval == 7 * 86400
    assert parse_settings({"heritage.audit_interval": "12h"}).audit_interval == 43200
    assert parse_settings({"heritage.audit_interval": "0"}).audit_interval == 0
    assert [asduration(v) for v in ("90", "30m", "1.5h", "2w", " 1 d ")] == [
        90,
        1800,
        5400,
        1209600,
        86400,
    ]
    for bad in ("", "soon", "-1d", "nan"):
        with pytest.raises(SettingsError, match="audit_interval"):
            parse_settings({"heritage.audit_interval": bad})
