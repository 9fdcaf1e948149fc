"""Evolve step 0006 gives an older database its ``root.tombstones``; a new one is born with it."""

from __future__ import annotations

import transaction
import ZODB
from BTrees.OOBTree import OOBTree

from heritage.evolve import FINISHED, bootstrap, pending_steps
from heritage.evolve.step_0006_tombstones import evolve
from heritage.resources.root import APP_ROOT

STEP = "step_0006_tombstones"


def test_a_new_database_has_tombstones_and_the_step_finished():
    db = ZODB.DB(None)
    try:
        with transaction.manager:
            root = bootstrap(db.open().root())
        assert isinstance(root.tombstones, OOBTree) and len(root.tombstones) == 0
    finally:
        db.close()


def test_the_step_adds_tombstones_once():
    db = ZODB.DB(None)
    try:
        conn = db.open()
        with transaction.manager:
            root = bootstrap(conn.root())
            del root.tombstones
            del conn.root()[FINISHED][STEP]
        assert STEP in pending_steps(conn.root())
        with transaction.manager:
            evolve(conn.root()[APP_ROOT])
            tombstones = conn.root()[APP_ROOT].tombstones
            tombstones["gone-0001"] = "kept"
        with transaction.manager:
            evolve(conn.root()[APP_ROOT])  # again: nothing is lost
        assert dict(conn.root()[APP_ROOT].tombstones) == {"gone-0001": "kept"}
    finally:
        db.close()
