"""A database written by an older generation is upgraded when the application starts."""

from __future__ import annotations

import transaction
import webtest
from support import make_item
from ZODB import DB
from ZODB.FileStorage import FileStorage

from heritage import evolve, main
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.root import APP_ROOT

STEP = "step_0001_collection_index"


def write_first_generation(tmp_path):
    """Write a database as generation 0 wrote it: no consortium-wide collection index."""
    db = DB(FileStorage(str(tmp_path / "Data.fs"), blob_dir=str(tmp_path / "blobs")))
    with transaction.manager:
        conn = db.open()
        zodb_root = conn.root()
        root = evolve.bootstrap(zodb_root)
        inst = root.institutions.add(
            "pns", Institution({"en": "Sarawak State Library"}, country="MY")
        )
        coll = root.add_collection(inst, "pns-manuscripts", Collection({"en": "Manuscripts"}))
        coll.add_item(make_item("pns-ms-0001", "Hikayat Pelanduk"))
        del root.collections
        del evolve.finished_steps(zodb_root)[STEP]
    conn.close()
    db.close()


def test_start_upgrades_an_older_generation(tmp_path):
    write_first_generation(tmp_path)
    app = main(
        {},
        **{
            "zodbconn.uri": f"file://{tmp_path}/Data.fs?blobstorage_dir={tmp_path}/blobs",
            "heritage.var_dir": str(tmp_path / "var"),
        },
    )
    try:
        page = webtest.TestApp(app).get("/collections/pns-manuscripts")
        assert "Hikayat Pelanduk" in page.text
        db = app.registry._zodb_databases[""]
        conn = db.open()
        assert STEP in conn.root()[evolve.FINISHED]
        assert "pns-manuscripts" in conn.root()[APP_ROOT].collections
        conn.close()
    finally:
        app.registry._zodb_databases[""].close()


def test_a_new_database_is_born_current(app, db):
    conn = db.open()
    try:
        assert evolve.pending_steps(conn.root()) == []
        assert set(conn.root()[evolve.FINISHED]) == set(evolve.step_names())
    finally:
        conn.close()
