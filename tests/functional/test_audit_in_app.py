"""Fixity audits inside the application: the staff dashboard's failure list, the worker's
scheduled audit, an audit killed half-way, and a removed item's failures.

The application runs in-process over a temporary FileStorage with real blobs
(``tests/conftest.py``); audits run through the same ``run_audit`` the CLI uses.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support import csrf_token, login, xml_schema

from heritage import audit as audit_module
from heritage.audit import SCHEDULED, parse_since, run_audit
from heritage.changes import item_removed
from heritage.deaccession import deaccession_file
from heritage.resources.events import APP_AGENT
from heritage.worker import queue_scheduled, run_worker


def add_masters(arrange: Any, item_id: str, staging: Path, count: int) -> list[str]:
    """Store ``count`` masters (random bytes) in the item; return their sha256."""
    staging.mkdir(exist_ok=True)
    sums = []

    def work(root: Any) -> None:
        item = root.items[item_id]
        for _ in range(count):
            n = len(item.files) + 1
            data = os.urandom(20_000 + n)
            path = staging / f"{item_id}-{n}.tif"
            path.write_bytes(data)
            item.add_file(path, f"folio-{n}.tif")
            sums.append(hashlib.sha256(data).hexdigest())

    arrange(work)
    return sums


def damage(arrange: Any, item_id: str, name: str) -> str:
    """Flip one byte of a committed master; return its new sha256."""
    path = Path(arrange(lambda root: root.items[item_id].files[name].blob.committed()))
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def fixity_events(arrange: Any, item_id: str) -> list[dict]:
    return arrange(
        lambda root: [e for e in root.items[item_id].events if e["type"] == "fixity check"]
    )


@pytest.fixture
def stored(arrange, consortium, tmp_path):
    """Masters in a pns item (3) and a kaltim item (2)."""
    sums = add_masters(arrange, consortium.public, tmp_path / "staging", 3)
    add_masters(arrange, consortium.other_public, tmp_path / "staging", 2)
    return sums


# -- the dashboard ---------------------------------------------------------------------------


def test_the_dashboard_lists_failures_for_the_users_institutions(
    testapp, app, db, arrange, consortium, stored
):
    found = damage(arrange, consortium.public, "2")
    summary = run_audit(db, app.registry.heritage, user="operator:test")
    assert [fa.line() for fa in summary.failures] == [
        f"{consortium.public}/2 (folio-2.tif): expected {stored[1]} found {found}"
    ]

    login(testapp, "pns-curator")
    page = testapp.get("/staff/")
    section = page.html.find("section", class_="fixity")
    assert section.h2.text == "Fixity failures"
    (entry,) = section.find_all("li")
    link = entry.find("a")
    assert link["href"] == f"http://localhost/staff/items/{consortium.public}"
    assert link.text == consortium.public
    text = " ".join(entry.text.split())
    assert "file 2 (folio-2.tif): checksum differs" in text
    assert f"expected {stored[1]}, found {found}" in text
    assert "Last audit started" in section.text and "5 files checked, 1 failed." in section.text
    testapp.get(link["href"], status=200)  # the staff item page it links to

    ms = testapp.get("/staff/?lang=ms").html.find("section", class_="fixity")
    assert ms.h2.text == "Kegagalan fiksiti"
    assert "fail 2 (folio-2.tif): checksum berbeza" in " ".join(ms.text.split())
    idn = testapp.get("/staff/?lang=id").html.find("section", class_="fixity")
    assert idn.h2.text == "Kegagalan fiksitas"

    testapp.post("/staff/logout", {"csrf_token": csrf_token(testapp, "/staff/")})
    login(testapp, "kaltim-curator")
    other = testapp.get("/staff/?lang=en").html.find("section", class_="fixity")
    assert other.find("ul") is None and "No fixity failures." in other.text
    assert consortium.public not in other.text

    testapp.post("/staff/logout", {"csrf_token": csrf_token(testapp, "/staff/")})
    login(testapp, "admin")
    assert consortium.public in testapp.get("/staff/").html.find("section", class_="fixity").text


def test_a_passing_audit_takes_the_failure_off_the_dashboard(
    testapp, app, db, arrange, consortium, stored
):
    assert "No fixity audit has run yet." in login_and_section(testapp, "pns-curator").text
    damage(arrange, consortium.public, "1")
    run_audit(db, app.registry.heritage, user="operator:test")
    assert consortium.public in login_and_section(testapp).text
    damage(arrange, consortium.public, "1")  # flipped back: as restored from a copy

    run_audit(db, app.registry.heritage, user="operator:test")

    section = login_and_section(testapp)
    assert "No fixity failures." in section.text
    assert "5 files checked, 0 failed." in section.text


def login_and_section(testapp: Any, username: str | None = None) -> Any:
    if username:
        login(testapp, username)
    return testapp.get("/staff/").html.find("section", class_="fixity")


# -- the worker ------------------------------------------------------------------------------


@pytest.fixture
def settings(settings: dict[str, str]) -> dict[str, str]:
    return {**settings, "heritage.audit_interval": "1h"}


def test_the_worker_runs_the_scheduled_audit_once_per_interval(
    app, db, arrange, consortium, stored
):
    found = damage(arrange, consortium.other_public, "2")
    hs = app.registry.heritage
    assert hs.audit_interval == 3600

    assert run_worker(db, hs, processes=0, once=True) == 1

    run = arrange(lambda root: root.audits.last_run().as_dict())
    assert (run["by"], run["state"], run["files"], run["failures"]) == (
        SCHEDULED,
        "finished",
        5,
        1,
    )
    jobs = arrange(lambda root: [(j.kind, j.state, j.error) for j in root.jobs])
    assert jobs == [("audit", "done", "")]  # failures found are results, not a failed job
    events = fixity_events(arrange, consortium.other_public)
    assert [e["outcome"] for e in events] == ["success", "failure"]
    assert events[1]["agents"] == (APP_AGENT, {"type": "software", "name": SCHEDULED})
    assert events[1]["detail"].endswith(f"found {found}")

    assert run_worker(db, hs, processes=0, once=True) == 0  # not again within the hour
    later = datetime.now(UTC) + timedelta(hours=2)
    assert arrange(lambda root: queue_scheduled(root, hs, now=later)) == 1
    assert run_worker(db, hs, processes=0, once=True) == 1
    assert len(fixity_events(arrange, consortium.other_public)) == 4


def test_no_scheduled_audit_when_the_interval_is_0(app, db, arrange, consortium, stored):
    hs = app.registry.heritage
    never = type(hs)({**hs.values, "audit_interval": 0.0})
    assert run_worker(db, never, processes=0, once=True) == 0
    assert arrange(lambda root: root.audits.last_run()) is None


# -- killed half-way -------------------------------------------------------------------------


class Killed(Exception):
    pass


def test_an_audit_killed_half_way_keeps_what_it_committed_and_resumes(
    app, db, arrange, consortium, stored, monkeypatch
):
    monkeypatch.setattr(audit_module, "BATCH_FILES", 1)  # a commit after every file

    def kill_at_the_third_file(p: Any) -> None:
        if p.files_done == 3:
            raise Killed()

    with pytest.raises(Killed):
        run_audit(db, app.registry.heritage, progress=kill_at_the_third_file, user="me")

    run = arrange(lambda root: root.audits.last_run().as_dict())
    assert (run["state"], run["files"]) == ("interrupted", 2)
    # Items go in id order: kaltim's two files were committed, pns's first was read only.
    checked = arrange(lambda root: root.audits.last_checked(consortium.other_public))
    assert sorted(checked) == ["1", "2"]
    assert len(fixity_events(arrange, consortium.other_public)) == 2
    assert fixity_events(arrange, consortium.public) == []

    resumed = run_audit(db, app.registry.heritage, since=parse_since(run["started"]), user="me")

    assert (resumed.files, resumed.not_due, resumed.failures) == (3, 2, [])
    for item_id, count in ((consortium.public, 3), (consortium.other_public, 2)):
        objects = [e["objects"][0] for e in fixity_events(arrange, item_id)]
        assert sorted(objects) == [f"{item_id}/{n}" for n in range(1, count + 1)]  # once each


# -- an item leaves the tree -----------------------------------------------------------------


def test_a_removed_items_failures_leave_the_dashboard(app, db, arrange, consortium, stored):
    damage(arrange, consortium.public, "3")
    run_audit(db, app.registry.heritage, user="me")
    assert arrange(lambda root: root.audits.failure_count()) == 1

    arrange(lambda root: item_removed(root.items[consortium.public]))

    assert arrange(lambda root: root.audits.current_failures()) == ([], 0)
    assert arrange(lambda root: root.audits.last_checked(consortium.public)) == {}
    assert arrange(lambda root: root.audits.last_checked(consortium.other_public)) != {}


def test_a_deaccessioned_masters_failure_leaves_the_dashboard(app, db, arrange, consortium, stored):
    damage(arrange, consortium.public, "3")
    damage(arrange, consortium.other_public, "1")
    run_audit(db, app.registry.heritage, user="me")
    assert arrange(lambda root: root.audits.failure_count()) == 2

    arrange(
        lambda root: deaccession_file(
            root.items[consortium.public], "3", reason="water damage", user="user:admin"
        )
    )

    failures, total = arrange(lambda root: root.audits.current_failures())
    assert total == 1 and failures[0]["item_id"] == consortium.other_public
    run = run_audit(db, app.registry.heritage, user="me")
    assert run.files == 4  # the removed master is not audited any more


# -- the PREMIS record -----------------------------------------------------------------------

PREMIS = {"premis": "http://www.loc.gov/premis/v3"}


def test_fixity_checks_are_in_the_premis_record_and_it_stays_valid(
    testapp, app, db, arrange, consortium, stored
):
    found = damage(arrange, consortium.public, "2")
    run_audit(db, app.registry.heritage, user="operator:test")
    login(testapp, "pns-curator")

    response = testapp.get(f"/api/items/{consortium.public}/premis")

    doc = etree.fromstring(response.body, etree.XMLParser(no_network=True))
    checks = [
        e
        for e in doc.iterfind("premis:event", PREMIS)
        if e.findtext("premis:eventType", namespaces=PREMIS) == "fixity check"
    ]
    outcomes = [
        e.findtext("premis:eventOutcomeInformation/premis:eventOutcome", namespaces=PREMIS)
        for e in checks
    ]
    assert sorted(outcomes) == ["failure", "success", "success"]
    failed = checks[outcomes.index("failure")]
    assert found in etree.tostring(failed, encoding="unicode")
    agents = {a.text for a in failed.iterfind(".//premis:linkingAgentIdentifierValue", PREMIS)}
    assert {"person:operator:test"} <= agents
    schema = xml_schema("premis.xsd")
    assert schema.validate(doc), schema.error_log
