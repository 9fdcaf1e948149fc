"""Tests for heritage.db: opening databases by URI and the local ZEO server's config."""

from __future__ import annotations

import pytest
import transaction
from ZEO.runzeo import ZEOOptions
from ZODB.blob import Blob

from heritage.db import DatabaseError, connection, open_db, zeo_alive, zeo_config
from heritage.settings import parse_settings


def test_open_memory_db():
    db = open_db("memory://")
    try:
        with connection(db) as (conn, tm):
            conn.root()["x"] = 1
            tm.commit()
        with connection(db) as (conn, _):
            assert conn.root()["x"] == 1
    finally:
        db.close()


def test_open_file_db_with_blobs(tmp_path):
    uri = f"file://{tmp_path}/Data.fs?blobstorage_dir={tmp_path}/blobs"
    db = open_db(uri)
    try:
        with connection(db) as (conn, tm):
            blob = conn.root()["master"] = Blob()
            with blob.open("w") as f:
                f.write(b"TIFF")
            tm.commit()
    finally:
        db.close()

    db = open_db(uri)  # reopened from disk
    try:
        with connection(db) as (conn, _), conn.root()["master"].open("r") as f:
            assert f.read() == b"TIFF"
    finally:
        db.close()
    assert (tmp_path / "Data.fs").exists()


@pytest.mark.parametrize("uri", ["bogus://x", "postgres://db/heritage", "Data.fs"])
def test_unknown_scheme(uri):
    with pytest.raises(DatabaseError, match="unknown database URI scheme"):
        open_db(uri)


def test_connection_aborts_what_was_not_committed():
    db = open_db("memory://")
    try:
        with connection(db) as (conn, _):
            conn.root()["x"] = 1
        with connection(db) as (conn, _):
            assert "x" not in conn.root()
        # its own transaction manager, not the thread's default one
        with connection(db) as (_, tm):
            assert tm is not transaction.manager
    finally:
        db.close()


# -- ZEO --------------------------------------------------------------------------------------


def zeo_settings(storage, address="/srv/heritage/var/zeo.sock"):
    return parse_settings({"heritage.zeo_storage": storage, "heritage.zeo_address": address})


def test_zeo_config():
    hs = zeo_settings("file:///srv/heritage/var/Data.fs?blobstorage_dir=/srv/heritage/var/blobs")
    assert zeo_config(hs) == (
        "<zeo>\n"
        "  address /srv/heritage/var/zeo.sock\n"
        "</zeo>\n"
        "<filestorage 1>\n"
        "  path /srv/heritage/var/Data.fs\n"
        "  blob-dir /srv/heritage/var/blobs\n"
        "</filestorage>\n"
    )


def test_zeo_config_is_what_runzeo_reads(tmp_path):
    hs = zeo_settings(
        f"file://{tmp_path}/Data.fs?blobstorage_dir={tmp_path}/blobs", f"{tmp_path}/zeo.sock"
    )
    conf = tmp_path / "zeo.conf"
    conf.write_text(zeo_config(hs))
    options = ZEOOptions()
    options.realize(["-C", str(conf)])
    assert options.address == f"{tmp_path}/zeo.sock"
    (storage,) = options.storages
    assert storage.config.path == f"{tmp_path}/Data.fs"
    assert storage.config.blob_dir == f"{tmp_path}/blobs"


@pytest.mark.parametrize(
    "storage",
    [
        "",
        "memory://",
        "zeo:///srv/heritage/var/zeo.sock",
        "/srv/heritage/var/Data.fs?blobstorage_dir=/srv/blobs",
        "file://?blobstorage_dir=/srv/blobs",
    ],
)
def test_zeo_config_needs_a_file_uri(storage):
    with pytest.raises(DatabaseError, match="file://"):
        zeo_config(zeo_settings(storage))


@pytest.mark.parametrize(
    "storage", ["file:///srv/var/Data.fs", "file:///srv/var/Data.fs?blobstorage_dir="]
)
def test_zeo_config_needs_a_blob_dir(storage):
    with pytest.raises(DatabaseError, match="blobstorage_dir"):
        zeo_config(zeo_settings(storage))


def test_zeo_alive_without_a_server(tmp_path):
    assert zeo_alive(str(tmp_path / "zeo.sock")) is False
    (tmp_path / "stale.sock").write_text("")  # a leftover file is not a server
    assert zeo_alive(str(tmp_path / "stale.sock")) is False
