"""``heritage deaccession``, run as a real process (with its own ZEO server).

The database is arranged and read back by opening its FileStorage directly, only while no
``heritage`` process (and so no ZEO server) runs on it.
"""

from __future__ import annotations

import getpass
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import opened_root, write_cli_ini

from digitization.samples import make_sample_page
from heritage import evolve
from heritage.db import connection, open_db
from heritage.metadata import validate_record
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.resources.root import APP_ROOT
from heritage.resources.users import User

HERITAGE = str(Path(sys.executable).with_name("heritage"))
ITEM = "pns-ms-0001"
REASON = "Returned to the family on loan agreement 2024/7"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """One item with two real masters, its pyramid folders on disk, an admin and a curator."""
    (tmp_path / "var").mkdir()
    db = open_db(f"file://{tmp_path}/var/Data.fs?blobstorage_dir={tmp_path}/var/blobs")
    try:
        evolve.prepare(db)
        with connection(db) as (conn, tm), tm:
            root = conn.root()[APP_ROOT]
            pns = root.institutions.add(
                "pns", Institution({"en": "Sarawak State Library"}, country="MY")
            )
            coll = root.add_collection(pns, "pns-manuscripts", Collection({"en": "Manuscripts"}))
            record = validate_record({"title": [{"value": "Hikayat Pelanduk", "lang": "ms"}]})
            item = coll.add_item(Item(ITEM, record, state="capture", access="public"))
            (tmp_path / "scans").mkdir()
            for n in (1, 2):
                page = make_sample_page(
                    tmp_path / "scans" / f"folio-{n}.jpg", seed=n, page_no=n, fmt="JPEG"
                )
                staged = tmp_path / "var" / page.name
                shutil.copyfile(page, staged)  # the blob takes the staged copy over
                item.add_file(staged, page.name)
            for username, role, inst in (("admin", "admin", None), ("curator", "curator", "pns")):
                user = User(username)
                user.add_role(role, inst)
                root.users.add(username, user)
    finally:
        db.close()
    for n in (1, 2):
        pyramid = tmp_path / "var" / "derivatives" / "iiif" / "3" / f"{ITEM}_{n}"
        pyramid.mkdir(parents=True)
        (pyramid / "pyramid.json").write_text("{}")
    return tmp_path


def heritage(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HERITAGE, "deaccession", *args, "-c", str(repo / "test.ini")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=repo,
        check=False,
    )


def errors(done: subprocess.CompletedProcess) -> list[str]:
    """The command's own error lines (ZEO's log lines share stderr)."""
    return [line for line in done.stderr.splitlines() if line.startswith("heritage:")]


@pytest.fixture
def ini(repo: Path) -> Path:
    return write_cli_ini(repo)


def test_a_file_then_the_item_are_deaccessioned_from_the_command_line(repo, ini):
    sha2 = hashlib.sha256((repo / "scans" / "folio-2.jpg").read_bytes()).hexdigest()
    done = heritage(repo, ITEM, "2", "--reason", REASON, "--user", "admin")
    assert done.returncode == 0, done.stderr
    assert sha2 in done.stdout and "folio-2.jpg" in done.stdout
    with opened_root(repo) as root:
        item = root.items[ITEM]
        assert [f.__name__ for f in item.files] == ["1"]
        (tomb,) = item.files.removed_files()
        assert (tomb["sha256"], tomb["reason"], tomb["by"]) == (sha2, REASON, "user:admin")
        event = [e for e in item.events if e["type"] == "deaccession"][-1]
        assert event["objects"] == (f"{ITEM}/2",) and event["note"] == REASON
    pyramids = repo / "var" / "derivatives" / "iiif" / "3"
    assert not (pyramids / f"{ITEM}_2").exists() and (pyramids / f"{ITEM}_1").exists()

    whole = heritage(repo, ITEM, "--reason", REASON)
    assert whole.returncode == 0, whole.stderr
    with opened_root(repo) as root:
        assert ITEM not in root.items
        tomb = root.tombstones[ITEM]
        assert tomb.by == f"operator:{getpass.getuser()}" and tomb.reason == REASON
        withdrawn = tomb.date
        assert [f["file"] for f in tomb.files] == ["1", "2"]  # file 2's earlier tombstone too
        assert [e["type"] for e in tomb.events].count("deaccession") == 2
    assert not (pyramids / f"{ITEM}_1").exists()

    again = heritage(repo, ITEM, "--reason", REASON)
    assert again.returncode == 1
    assert errors(again) == [f"heritage: error: {ITEM} was already deaccessioned on {withdrawn}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((ITEM, "2", "--reason", "  "), "--reason: give the reason"),
        ((ITEM, "2", "--reason", REASON, "--user", "curator"), "'curator' is not an admin"),
        ((ITEM, "2", "--reason", REASON, "--user", "nobody"), "no user 'nobody'"),
        ((ITEM, "7", "--reason", REASON), f"item {ITEM} has no file '7'"),
        (("pns-ms-9999", "--reason", REASON), "no item 'pns-ms-9999'"),
    ],
)
def test_refusals_exit_1_with_one_line_and_change_nothing(repo, ini, args, message):
    done = heritage(repo, *args)
    assert done.returncode == 1
    (line,) = errors(done)
    assert message in line, done.stderr
    with opened_root(repo) as root:
        assert [f.__name__ for f in root.items[ITEM].files] == ["1", "2"]
        assert not [e for e in root.items[ITEM].events if e["type"] == "deaccession"]


def test_a_reason_is_required_by_the_parser(repo, ini):
    done = heritage(repo, ITEM, "2")
    assert done.returncode == 2 and "--reason" in done.stderr
