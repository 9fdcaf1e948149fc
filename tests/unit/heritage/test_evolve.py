"""Tests for heritage.evolve: bootstrap, pending steps, and the real upgrade steps.

Fixture graph::

    zodb              → ZODB.DB(None), closed at teardown
      └── first_generation → a committed database as the first release left it: a
                             consortium, but no ``root.collections`` and step 0001 not done
"""

from __future__ import annotations

import pytest
import transaction
import ZODB

from heritage import evolve
from heritage.evolve import (
    FINISHED,
    STEP_RE,
    bootstrap,
    mark_finished,
    pending_steps,
    prepare,
    run_pending,
    step_names,
)
from heritage.evolve.step_0001_collection_index import evolve as step_0001
from heritage.resources.collection import Collection
from heritage.resources.folder import Index
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.resources.root import APP_ROOT, Root

STEP_0001 = "step_0001_collection_index"


@pytest.fixture
def zodb():
    db = ZODB.DB(None)
    yield db
    db.close()


def session(db):
    """Return ``(connection, transaction manager)`` of a fresh connection."""
    tm = transaction.TransactionManager()
    return db.open(transaction_manager=tm), tm


@pytest.fixture
def first_generation(zodb):
    conn, tm = session(zodb)
    with tm:
        root = bootstrap(conn.root())
        unimas = root.institutions.add("unimas", Institution({"en": "UNIMAS"}, country="MY"))
        pns = root.institutions.add("pns", Institution({"en": "PNS"}, country="MY"))
        coll = root.add_collection(unimas, "manuscripts", Collection({"en": "Manuscripts"}))
        root.add_collection(pns, "photographs", Collection({"en": "Photographs"}))
        coll.add_item(Item("unimas-ms-0007", {}))
    with tm:
        # what the first release stored: no collection index, step 0001 never run
        root = conn.root()[APP_ROOT]
        del root.collections
        del conn.root()[FINISHED][STEP_0001]
    conn.close()
    return zodb


def last_notes(db, n):
    return [t.description.decode() for t in list(db.storage.iterator())[-n:]]


# -- the steps --------------------------------------------------------------------------------


def test_step_names_are_ordered_and_well_formed():
    names = step_names()
    assert STEP_0001 in names
    assert names == sorted(names)
    assert all(STEP_RE.match(name) for name in names)
    assert len(set(names)) == len(names)
    for name in names:
        assert callable(evolve.load_step(name))


# -- bootstrap and prepare --------------------------------------------------------------------


def test_bootstrap_marks_every_step_finished(zodb):
    conn, tm = session(zodb)
    root = bootstrap(conn.root())
    assert conn.root()[APP_ROOT] is root
    assert set(conn.root()[FINISHED].keys()) == set(step_names())
    assert all(stamp.endswith("+00:00") for stamp in conn.root()[FINISHED].values())
    assert pending_steps(conn.root()) == []
    tm.abort()
    conn.close()


def test_prepare_bootstraps_an_empty_database_and_commits(zodb):
    assert prepare(zodb) == []
    conn, _ = session(zodb)
    root = conn.root()[APP_ROOT]
    assert isinstance(root, Root)
    assert pending_steps(conn.root()) == []
    oid = root._p_oid
    conn.close()
    assert last_notes(zodb, 1) == ["bootstrap Borneo Heritage"]

    # a second start-up leaves the database as it is
    assert prepare(zodb) == []
    conn, _ = session(zodb)
    assert conn.root()[APP_ROOT]._p_oid == oid
    conn.close()


def test_pending_steps(zodb):
    conn, tm = session(zodb)
    zodb_root = conn.root()
    assert pending_steps(zodb_root) == step_names()  # no record at all: everything pending
    bootstrap(zodb_root)
    assert pending_steps(zodb_root) == []
    del zodb_root[FINISHED][STEP_0001]
    assert pending_steps(zodb_root) == [STEP_0001]
    mark_finished(zodb_root, [STEP_0001])
    assert pending_steps(zodb_root) == []
    tm.abort()
    conn.close()


def test_first_generation_has_a_pending_step(first_generation):
    conn, _ = session(first_generation)
    assert pending_steps(conn.root()) == [STEP_0001]
    root = conn.root()[APP_ROOT]
    root._p_activate()
    assert "collections" not in root.__dict__
    conn.close()


# -- the real upgrade -------------------------------------------------------------------------


def test_prepare_upgrades_a_first_generation_database(first_generation):
    assert prepare(first_generation) == [STEP_0001]

    conn, _ = session(first_generation)
    zodb_root = conn.root()
    root = zodb_root[APP_ROOT]
    assert STEP_0001 in zodb_root[FINISHED]
    assert pending_steps(zodb_root) == []
    assert isinstance(root.collections, Index)
    assert root.collections.__name__ == "collections"
    assert root.collections.__parent__ is root
    assert list(root.collections.keys()) == ["manuscripts", "photographs"]
    assert len(root.collections) == 2
    unimas = root.institutions["unimas"]
    manuscripts = root.collections["manuscripts"]
    assert manuscripts is unimas.collections["manuscripts"]
    assert manuscripts.__parent__ is unimas.collections  # indexed, not moved
    assert root["collections"] is root.collections
    assert list(root.items.keys()) == ["unimas-ms-0007"]  # untouched
    conn.close()
    assert last_notes(first_generation, 1) == [f"evolve {STEP_0001}"]

    # nothing left to do next time
    assert prepare(first_generation) == []


def test_step_0001_leaves_a_current_root_alone(zodb):
    conn, tm = session(zodb)
    root = bootstrap(conn.root())
    index = root.collections
    step_0001(root)
    assert root.collections is index
    tm.abort()
    conn.close()


def test_upgraded_database_accepts_new_collections(first_generation):
    prepare(first_generation)
    conn, tm = session(first_generation)
    with tm:
        root = conn.root()[APP_ROOT]
        pns = root.institutions["pns"]
        root.add_collection(pns, "maps", Collection({"en": "Maps"}))
    assert len(conn.root()[APP_ROOT].collections) == 3
    conn.close()


# -- run_pending options ----------------------------------------------------------------------


def test_dry_run_leaves_the_database_unchanged(first_generation):
    conn, tm = session(first_generation)
    serial = first_generation.lastTransaction()
    said = []
    assert run_pending(conn, tm, dry_run=True, log=said.append) == [STEP_0001]
    assert said == [f"checked {STEP_0001}"]
    conn.close()

    assert first_generation.lastTransaction() == serial
    conn, _ = session(first_generation)
    assert pending_steps(conn.root()) == [STEP_0001]
    root = conn.root()[APP_ROOT]
    root._p_activate()
    assert "collections" not in root.__dict__
    conn.close()


def test_run_pending_runs_each_step_in_its_own_transaction(first_generation, monkeypatch):
    ran = []

    def fake_step(name):
        def step(root):
            assert isinstance(root, Root)
            ran.append(name)

        return step

    names = [STEP_0001, "step_9998_later", "step_9999_latest"]
    monkeypatch.setattr(evolve, "step_names", lambda: names)
    monkeypatch.setattr(evolve, "load_step", fake_step)
    said = []
    conn, tm = session(first_generation)
    assert run_pending(conn, tm, log=said.append) == names
    assert ran == names
    assert said == [f"ran {name}" for name in names]
    assert pending_steps(conn.root()) == []
    conn.close()
    assert last_notes(first_generation, 3) == [f"evolve {name}" for name in names]


def test_run_pending_latest_runs_only_the_newest(first_generation, monkeypatch):
    ran = []
    names = [STEP_0001, "step_9999_latest"]
    monkeypatch.setattr(evolve, "step_names", lambda: names)
    monkeypatch.setattr(evolve, "load_step", lambda name: lambda root: ran.append(name))
    conn, tm = session(first_generation)
    assert run_pending(conn, tm, latest=True) == ["step_9999_latest"]
    assert ran == ["step_9999_latest"]
    assert pending_steps(conn.root()) == [STEP_0001]
    conn.close()


def test_a_failing_step_is_not_marked_finished(first_generation, monkeypatch):
    def broken(root):
        root.title["en"] = "half-done"
        raise RuntimeError("step failed")

    monkeypatch.setattr(evolve, "load_step", lambda name: broken)
    conn, tm = session(first_generation)
    with pytest.raises(RuntimeError, match="step failed"):
        run_pending(conn, tm)
    conn.close()
    conn, _ = session(first_generation)
    assert pending_steps(conn.root()) == [STEP_0001]
    assert conn.root()[APP_ROOT].title["en"] == "Borneo Heritage"
    conn.close()
