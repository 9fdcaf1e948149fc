"""heritage.packages in one process: exact round trips, the record's coverage, bad records.

Databases are ``ZODB.DB(DemoStorage())`` (blobs included); the masters are small byte
strings stored the way ingest stores them (``File.from_staged``). The whole way, with real
scans, exiftool and the command line, is in ``tests/functional/test_bags.py``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import bagit
import pytest
import transaction
from ZODB import DB
from ZODB.DemoStorage import DemoStorage

from heritage import evolve
from heritage.deaccession import deaccession_file
from heritage.metadata import validate_record
from heritage.packages import (
    FILE_FIELDS,
    ITEM_FIELDS,
    ITEM_JSON,
    PackageError,
    export_item,
    import_bag,
)
from heritage.resources.collection import Collection
from heritage.resources.files import File
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.resources.root import APP_ROOT

ITEM = "pns-ms-0007"
#: Item attributes that are not the item's own data: derived in each database, or held
#: elsewhere in the record (metadata, files, events, sections).
DERIVED = {
    "item_id",
    "metadata",
    "files",
    "events",
    "sections",
    "in_feed",  # heritage.discovery keeps it
    "partner_counted",  # heritage.partner_view keeps it
}


class Repo:
    """A database with one institution and collection, and a way to work in it."""

    def __init__(self, inst: str, coll: str) -> None:
        self.db = DB(DemoStorage())
        evolve.prepare(self.db)
        self.tm = transaction.TransactionManager()
        self.conn = self.db.open(transaction_manager=self.tm)
        with self.tm:
            institution = self.root.institutions.add(
                inst, Institution({"en": inst.upper()}, country="MY")
            )
            self.root.add_collection(institution, coll, Collection({"en": coll}))

    @property
    def root(self) -> Any:
        return self.conn.root()[APP_ROOT]

    def close(self) -> None:
        self.tm.abort()
        self.conn.close()
        self.db.close()


@pytest.fixture
def source(tmp_path: Path) -> Repo:
    repo = Repo("pns", "pns-manuscripts")
    staging = tmp_path / "staged"
    staging.mkdir()
    with repo.tm:
        metadata = validate_record(
            {
                "title": [
                    {"value": "Hikayat", "lang": "ms"},
                    {"value": "حكاية", "lang": "ms-Arab"},
                ],
                "coverage": [{"value": "Miri", "lang": "ms", "lat": 4.4, "lon": 114.0}],
            }
        )
        item = Item(ITEM, metadata, access="community", community="iban-elders", state="qa")
        repo.root.collections["pns-manuscripts"].add_item(item)
        item.nomination = {"by": "user:ana", "reason": "fragile", "scores": {"risk": 5}}
        item.indigenous = True
        item.consultation = "agreed"
        item.sections = ({"label": {"en": "All"}, "files": ("1", "2", "3")},)
        masters = (("p1.tif", "image/tiff"), ("p2.tif", "image/tiff"), ("r.wav", "audio/x-wav"))
        for n, (name, kind) in enumerate(masters, 1):
            path = staging / name
            path.write_bytes(name.encode() * 1000)
            f = File.from_staged(path, name, jar=repo.conn, mimetype=kind)
            f.format.update({"puid": "fmt/353", "name": "TIFF"})
            f.techmd.update({"width": 10, "height": 20})
            f.qa.update({"passed": n == 3, "checks": [{"name": "blank", "passed": n == 3}]})
            item.files.append(f)
            f.label = {"en": f"part {n}"}
        item.files["1"].qa_exception = "signed off by user:ana: a blank verso"
        item.files.remember_dhash(item.files["1"], 2**63 + 5)
        item.events.record(
            "ingestion",
            agents=[{"type": "person", "name": "user:ana"}],
            objects=(f"{ITEM}/1",),
            workflow={"note": "x", "rescan": ["1"]},
        )
        item.touch()
    with repo.tm:  # file 2 goes: its number is never reused, its tombstone stays
        deaccession_file(repo.root.items[ITEM], "2", reason="a duplicate scan", user="user:admin")
    yield repo
    repo.close()


@pytest.fixture
def target() -> Repo:
    repo = Repo("kaltim", "pns-manuscripts")
    yield repo
    repo.close()


def facts(repo: Repo, item_id: str = ITEM) -> dict[str, Any]:
    repo.tm.begin()
    item = repo.root.items[item_id]
    return {
        "fields": {
            k: getattr(item, k) for k in ITEM_FIELDS if hasattr(item, k) and k != "modified"
        },
        "metadata": dict(item.metadata),
        "sections": item.sections,
        "files": [
            (
                f.__name__,
                {k: getattr(f, k) for k in FILE_FIELDS},
                f.label,
                getattr(f, "qa_exception", None),
                f.blob.open("r").read(),
            )
            for f in item.files
        ],
        "dhashes": dict(item.files.dhash_of),
        "removed": list(item.files.removed_files()),
        "next": item.files._next(),
        "count": len(item.files),
        "events": [dict(e) for e in item.events],
    }


def export(source: Repo, dest: Path) -> Path:
    with source.tm:
        return export_item(source.root, ITEM, dest).path


def test_an_item_round_trips_exactly_file_numbers_included(source, target, tmp_path):
    bag = export(source, tmp_path / "bag")
    before = facts(source)

    summary = import_bag(target.db, bag, staging_dir=tmp_path / "staging", user="user:bo")

    assert (summary.item_id, summary.files, summary.collection) == (ITEM, 2, "pns-manuscripts")
    after = facts(target)
    accession = after["events"].pop()
    assert accession["type"] == "accession" and accession["objects"][0] == ITEM
    assert {"type": "organization", "name": "KALTIM", "id": "kaltim"} in accession["agents"]
    assert after == before  # tuples stay tuples, numbers stay numbers, file 2 stays a gap
    assert [f[0] for f in after["files"]] == ["1", "3"] and after["next"] == 4
    assert [t["file"] for t in after["removed"]] == ["2"]  # the tombstone came along
    assert after["sections"] == ({"label": {"en": "All"}, "files": ("1", "3")},)
    assert list((tmp_path / "staging").iterdir()) == []
    assert [j.params for j in target.root.jobs] == [{"item_id": ITEM, "file": "1"}]


def test_the_record_covers_every_attribute_of_an_item(source, tmp_path):
    """A new attribute on Item must be exported (ITEM_FIELDS) or declared derived here."""
    bag = export(source, tmp_path / "bag")
    record = json.loads((bag / ITEM_JSON).read_text())
    source.tm.begin()
    item = source.root.items[ITEM]
    public = {k for k in item.__dict__ if not k.startswith("_")}
    assert public - DERIVED <= set(record["item"]), public - DERIVED - set(record["item"])
    known = {"blob", "derivatives", "__name__", "__parent__"}
    for f in item.files:
        attrs = {k for k in f.__dict__ if not k.startswith("_p_")}
        entry = next(e for e in record["files"] if e["name"] == f.__name__)
        assert attrs - known - {"_label"} <= set(entry)


def rebag(bag: Path, change: Any) -> None:
    """Change the record and re-make the tag manifests: a well-formed bag, a bad record."""
    path = bag / ITEM_JSON
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))
    bagit.Bag(str(bag)).save()


def _set_file(n: int, key: str, value: Any) -> Any:
    return lambda r: r["files"][n].__setitem__(key, value)


BAD_RECORDS = {
    "another checksum": (_set_file(0, "sha256", "0" * 64), "disagree on its sha256"),
    "another md5": (_set_file(0, "md5", "0" * 32), "its md5 is not the one"),
    "a master not in the record": (lambda r: r["files"].pop(), "is in the payload but not in"),
    "a master not in the payload": (
        _set_file(1, "path", "data/masters/9999-x.bin"),
        "is not in the bag's payload",
    ),
    "a repeated file number": (_set_file(1, "name", "1"), "bad or repeated number"),
    "an unknown event type": (
        lambda r: r["events"][0].__setitem__("type", "teleportation"),
        "unknown type 'teleportation'",
    ),
    "a newer record": (lambda r: r.__setitem__("version", 99), "this software reads version 1"),
    "a bad access level": (
        lambda r: r["item"].__setitem__("access", "secret"),
        "access must be one of",
    ),
    "a label that is no map": (_set_file(1, "label", ["x"]), "is malformed"),
    "another format": (lambda r: r.__setitem__("format", "other"), "not a Borneo Heritage"),
}


@pytest.mark.parametrize("bad", list(BAD_RECORDS), ids=list(BAD_RECORDS))
def test_a_bad_record_is_refused_and_nothing_is_stored(source, target, tmp_path, bad):
    change, reason = BAD_RECORDS[bad]
    bag = export(source, tmp_path / "bag")
    rebag(bag, change)
    last = target.db.lastTransaction()

    with pytest.raises(PackageError, match=reason):
        import_bag(target.db, bag, staging_dir=tmp_path / "staging")

    assert target.db.lastTransaction() == last
    assert not (tmp_path / "staging").exists() or not list((tmp_path / "staging").iterdir())


def test_the_target_must_have_the_collection_and_not_the_item(source, target, tmp_path):
    bag = export(source, tmp_path / "bag")
    rebag(bag, lambda r: r["collection"].__setitem__("id", "elsewhere"))
    with pytest.raises(PackageError, match=r"no collection 'elsewhere'.*--collection"):
        import_bag(target.db, bag, staging_dir=tmp_path / "s")
    import_bag(target.db, bag, staging_dir=tmp_path / "s", collection_id="pns-manuscripts")
    with pytest.raises(PackageError, match="already exists in this database"):
        import_bag(target.db, bag, staging_dir=tmp_path / "s", collection_id="pns-manuscripts")


def test_export_refuses_an_existing_destination_and_cleans_up_after_a_failure(source, tmp_path):
    with pytest.raises(PackageError, match="already exists"):
        export(source, tmp_path)
    with source.tm:
        with pytest.raises(PackageError, match="no item 'pns-ms-9999'"):
            export_item(source.root, "pns-ms-9999", tmp_path / "x")
        with pytest.raises(PackageError, match="no folder"):
            export_item(source.root, ITEM, tmp_path / "missing" / "bag")
    blob = Path(source.root.items[ITEM].files["3"].blob.committed())
    blob.chmod(0o600)
    blob.write_bytes(b"rotten")
    with pytest.raises(PackageError, match=r"file 3 \(r.wav\) fails its fixity check"):
        export(source, tmp_path / "bag")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["staged"]


def test_a_bag_that_is_not_a_folder_is_refused(target, tmp_path):
    with pytest.raises(PackageError, match="no bag at"):
        import_bag(target.db, tmp_path / "nothing", staging_dir=tmp_path)
    (tmp_path / "plain").mkdir()
    with pytest.raises(PackageError, match="invalid bag"):
        import_bag(target.db, tmp_path / "plain", staging_dir=tmp_path)
    shutil.rmtree(tmp_path / "plain")
