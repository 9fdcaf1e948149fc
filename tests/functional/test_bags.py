"""``heritage export-bag`` and ``heritage import-bag``, run as real processes on real files.

An item gets two scanned pages and a WAV recording through the real ingest (exiftool, fido,
Pillow), labels, sections and a walk through the workflow to publication (a send-back on the
way). It is exported from its repository (served by ZEO, as ``make run`` does) and imported
into a FRESH database in another folder; then everything is compared, blob bytes included.
Tampered bags are refused with exit 1 and the reason, and leave the target database as it was.
Databases are read back by opening their FileStorage directly while no process uses them.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import subprocess
import sys
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support import stored_file

from digitization.ingest import Examiner
from digitization.samples import make_sample_page
from heritage import evolve
from heritage.db import connection, open_db, zeo_alive
from heritage.ingest import store_examined, thresholds_for
from heritage.metadata import validate_record
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.resources.root import APP_ROOT
from heritage.workflow import apply_transition, make_request

ROOT = Path(__file__).resolve().parents[2]
HERITAGE = str(Path(sys.executable).with_name("heritage"))
ITEM = "pns-ms-0042"
ADMIN = frozenset({"admin"})


# -- repositories: an ini and a FileStorage in a folder of their own --------------------------


def write_ini(folder: Path, *, zeo: bool) -> Path:
    """development.ini for ``folder`` (its own var/); served by ZEO, or the FileStorage itself."""
    text = (ROOT / "development.ini").read_text()
    text = text.replace("heritage.sample_data = true", "heritage.sample_data = false")
    text = text.replace("heritage.worker_in_process = true", "heritage.worker_in_process = false")
    text = text.replace("wait_timeout=30", "wait_timeout=10")
    if not zeo:
        lines = [
            "zodbconn.uri = file://%(here)s/var/Data.fs?blobstorage_dir=%(here)s/var/blobs"
            if line.startswith("zodbconn.uri")
            else line
            for line in text.splitlines()
            if not line.startswith(("heritage.zeo_storage", "heritage.zeo_address"))
        ]
        text = "\n".join(lines) + "\n"
    ini = folder / "test.ini"
    ini.write_text(text)
    return ini


@contextmanager
def opened(folder: Path) -> Iterator[tuple[Any, Any]]:
    """Yield ``(app root, transaction manager)`` of the FileStorage in ``folder/var``."""
    assert not zeo_alive(str(folder / "var" / "zeo.sock")), "a ZEO server still runs"
    (folder / "var").mkdir(exist_ok=True)
    db = open_db(f"file://{folder}/var/Data.fs?blobstorage_dir={folder}/var/blobs")
    try:
        evolve.prepare(db)
        with connection(db) as (conn, tm):
            yield conn.root()[APP_ROOT], tm
    finally:
        db.close()


def add_collection(root: Any, inst_id: str, coll_id: str, name: str) -> Collection:
    institution = root.institutions.get(inst_id) or root.institutions.add(
        inst_id, Institution({"en": name}, country="MY")
    )
    return root.add_collection(institution, coll_id, Collection({"en": f"{name}: manuscripts"}))


@dataclass
class Repo:
    folder: Path
    ini: Path

    def run(self, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [HERITAGE, *args, "-c", str(self.ini)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.folder,
        )

    def snapshot(self, item_id: str = ITEM) -> dict[str, Any] | None:
        with opened(self.folder) as (root, _tm):
            item = root.items.get(item_id)
            return None if item is None else snapshot(item)

    def state(self) -> tuple[Any, ...]:
        """What an import would change: items, jobs, the last transaction, the blob files."""
        with opened(self.folder) as (root, _tm):
            last = root._p_jar.db().lastTransaction()
            items = tuple(root.items.keys())
            jobs = len(root.jobs)
        blobs = sorted(p.name for p in (self.folder / "var" / "blobs").rglob("*.blob"))
        staging = self.folder / "var" / "staging"
        left = sorted(p.name for p in staging.iterdir()) if staging.exists() else []
        return last, items, jobs, blobs, left


# -- the item: real masters through the real ingest, then the workflow -----------------------


def wav_file(path: Path, *, seconds: float = 0.5, rate: int = 22050) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = (
            int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))
        )
        w.writeframes(b"".join(struct.pack("<h", s) for s in frames))
    return path


def ingest(root: Any, tm: Any, item_id: str, paths: list[Path], staging: Path) -> None:
    with Examiner(staging, max_pixels=100_000_000) as examiner:
        for path in paths:
            with tm:
                item = root.items[item_id]
                examined = examiner.examine(path, thresholds_for(item))
                assert not examined.rejection, examined.rejection
                store_examined(
                    item,
                    examined,
                    user="user:pns-digitizer",
                    software=examiner.software,
                    enqueue=root.jobs.add,
                )


def walk(root: Any, tm: Any, item_id: str, *moves: dict[str, Any]) -> None:
    for move in moves:
        with tm:
            item = root.items[item_id]
            apply_transition(item, ADMIN, make_request(move), "user:pns-curator")


def make_source(folder: Path, scans: Path) -> None:
    masters = [
        make_sample_page(scans / "folio 1r.tif", seed=1, page_no=1, fmt="TIFF"),
        make_sample_page(scans / "folio-1v.jpg", seed=2, page_no=2, fmt="JPEG"),
        wav_file(scans / "pantun.wav"),
    ]
    with opened(folder) as (root, tm):
        with tm:
            collection = add_collection(root, "pns", "pns-manuscripts", "Sarawak State Library")
            metadata = validate_record(
                {
                    "title": [
                        {"value": "Hikayat Pelanduk Jenaka", "lang": "ms"},
                        {"value": "هكاية ڤلندوق جناك", "lang": "ms-Arab"},
                        {"value": "The tale of the clever mouse-deer", "lang": "en"},
                    ],
                    "date": ["18XX"],
                    "type": [{"value": "manuscript", "lang": "en"}],
                    "language": ["ms", "iba"],
                    "subject": [{"value": "Cerita rakyat", "lang": "ms"}],
                    "coverage": [{"value": "Kuching", "lang": "ms", "lat": 1.55, "lon": 110.34}],
                }
            )
            item = Item(ITEM, metadata, access="public", state="nominated")
            item.viewing_direction = "right-to-left"
            collection.add_item(item)
        walk(root, tm, ITEM, {"to": "selected", "note": "rare"}, {"to": "capture"})
        ingest(root, tm, ITEM, masters, folder / "var" / "staging")
        with tm:
            item = root.items[ITEM]
            item.files["1"].label = {"en": "folio 1r", "ms": "halaman 1r"}
            item.files["2"].label = {"en": "folio 1v"}
            item.files["3"].label = {"en": "pantun, sung", "iba": "pantun"}
            item.sections = (
                {"label": {"en": "The tale", "ms": "Hikayat"}, "files": ("1", "2")},
                {"label": {"en": "A recording"}, "files": ("3",)},
            )
            item.rights = "http://rightsstatements.org/vocab/NoC-NKC/1.0/"
            item.indigenous = True
            item.consultation = "agreed with the longhouse elders, 2024-03-02"
            item.touch()
        walk(
            root,
            tm,
            ITEM,
            {"to": "qa"},
            {"to": "capture", "note": "rescan folio 1r: blurred gutter", "rescan": ["1"]},
            {"to": "qa"},
            {"to": "description", "qa_signoff": True},
            {"to": "rights-review"},
            {"to": "preservation"},
            {"to": "published"},
        )
        with tm:
            assert root.items[ITEM].state == "published"


def snapshot(item: Any) -> dict[str, Any]:
    """Everything a round trip must keep, blob bytes included (tuples as lists)."""
    files = []
    for f in item.files:
        files.append(
            {
                **stored_file(f),
                "label": f.label,
                "dhash": item.files.dhash_of.get(f.__name__),
                "summary": item.files.summary[int(f.__name__)],
            }
        )
    return json.loads(
        json.dumps(
            {
                "metadata": dict(item.metadata),
                "state": item.state,
                "access": item.access,
                "community": item.community,
                "rights": item.rights,
                "viewing_direction": item.viewing_direction,
                "sections": item.sections,
                "created": item.created,
                "published_on": item.published_on,
                "indigenous": getattr(item, "indigenous", None),
                "consultation": getattr(item, "consultation", None),
                "files": files,
                "next_file": item.files._next(),
                "events": [dict(e) for e in item.events],
                "institution": item.institution.__name__,
                "collection": item.collection.__name__,
            }
        )
    )


# -- fixtures: one source repository and one bag for the module ------------------------------


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    folder = tmp_path_factory.mktemp("source")
    scans = tmp_path_factory.mktemp("scans")
    make_source(folder, scans)
    return Repo(folder, write_ini(folder, zeo=True))


@pytest.fixture(scope="module")
def exported(source: Repo, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    dest = tmp_path_factory.mktemp("bags") / ITEM
    result = source.run("export-bag", ITEM, str(dest))
    assert result.returncode == 0, result.stderr
    return dest, result.stdout


@pytest.fixture
def target(tmp_path: Path) -> Repo:
    """A fresh database elsewhere, with a collection of the same id (opened without ZEO)."""
    folder = tmp_path / "target"
    folder.mkdir()
    with opened(folder) as (root, tm), tm:
        add_collection(root, "pns", "pns-manuscripts", "Pustaka Negeri Sarawak")
        add_collection(root, "kaltim", "kaltim-naskah", "Perpustakaan Kalimantan Timur")
    return Repo(folder, write_ini(folder, zeo=False))


@pytest.fixture
def bag(exported: tuple[Path, str], tmp_path: Path) -> Path:
    """A copy of the exported bag, this test's to spoil."""
    copy = tmp_path / "bag"
    shutil.copytree(exported[0], copy)
    return copy


# -- the round trip ---------------------------------------------------------------------------


def test_the_bag_has_the_masters_metadata_and_manifests(source, exported):
    dest, stdout = exported
    assert f"exported {ITEM} to {dest}: 3 masters" in stdout
    names = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert names == [
        "bag-info.txt",
        "bagit.txt",
        "data/masters/0001-folio_1r.tif",
        "data/masters/0002-folio-1v.jpg",
        "data/masters/0003-pantun.wav",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "metadata/dc.xml",
        "metadata/item.json",
        "metadata/mets.xml",
        "metadata/premis.xml",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
    ]
    assert (dest / "bagit.txt").read_text().startswith("BagIt-Version: 1.0\n")
    info = (dest / "bag-info.txt").read_text()
    for line in (
        "Source-Organization: Sarawak State Library",
        f"External-Identifier: {ITEM}",
        "External-Description: The tale of the clever mouse-deer",
        "Payload-Oxum: ",
        "Bagging-Date: ",
    ):
        assert line in info
    original = source.snapshot()
    manifest = dict(
        reversed(line.split(maxsplit=1))
        for line in (dest / "manifest-sha256.txt").read_text().splitlines()
    )
    assert sorted(manifest.values()) == sorted(f["sha256"] for f in original["files"])
    tags = (dest / "tagmanifest-sha512.txt").read_text()
    assert all(f" {name}" in tags for name in ("metadata/mets.xml", "metadata/item.json"))
    mets = etree.parse(str(dest / "metadata" / "mets.xml"))
    order = mets.xpath(
        "//mets:structMap[@TYPE='physical']//mets:div[@ORDER]/@LABEL",
        namespaces={"mets": "http://www.loc.gov/METS/"},
    )
    assert order == ["folio 1r", "folio 1v", "pantun, sung"]
    assert not list(dest.parent.glob(f".{ITEM}.partial-*"))


def test_export_then_import_into_a_fresh_database_round_trips(source, exported, target):
    original = source.snapshot()
    before = target.state()
    target = Repo(target.folder, write_ini(target.folder, zeo=True))  # served, as in production

    result = target.run("import-bag", str(exported[0]), "--user", "user:restorer")

    assert result.returncode == 0, result.stderr
    assert f"imported {ITEM} into pns-manuscripts: 3 masters" in result.stdout
    copy = target.snapshot()
    assert copy is not None
    imported = copy.pop("events")
    events = original.pop("events")
    assert imported[: len(events)] == events  # ids are time-ordered: the import comes last
    (accession,) = imported[len(events) :]
    assert accession["type"] == "accession"
    assert f"imported from bag {exported[0].name}" in accession["detail"]
    assert {"type": "person", "name": "user:restorer"} in accession["agents"]
    assert any(a["type"] == "software" for a in accession["agents"])
    assert copy == original  # files (bytes, checksums), metadata, state, sections, labels…
    assert len(events) >= 20 and any(e.get("workflow") for e in events)
    with opened(target.folder) as (root, _tm):
        item = root.items[ITEM]
        jobs = [j.params for j in root.jobs if j.kind == "derivatives"]
        assert sorted(j["file"] for j in jobs) == ["1", "2"]  # images only
        assert item.institution.counts().get("published") == 1
        assert item.in_feed  # the Change Discovery feed knows the published item
    assert target.state()[4] == before[4] == []  # nothing left in staging


def test_import_into_another_collection_and_never_twice(exported, target):
    result = target.run("import-bag", str(exported[0]), "--collection", "kaltim-naskah")
    assert result.returncode == 0, result.stderr
    assert target.snapshot()["collection"] == "kaltim-naskah"
    before = target.state()

    again = target.run("import-bag", str(exported[0]))

    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == (
        f"heritage: error: an item {ITEM!r} already exists in this database"
    )
    assert target.state() == before


def test_an_unknown_collection_is_refused(exported, target):
    before = target.state()
    result = target.run("import-bag", str(exported[0]), "--collection", "nowhere")
    assert result.returncode == 1
    assert "no collection 'nowhere' in this database" in result.stderr
    assert target.state() == before


# -- bags that must be refused ----------------------------------------------------------------


def flip_byte(path: Path, offset: int = 1000) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def drop_manifest_lines(bag: Path, name: str) -> None:
    for manifest in bag.glob("tagmanifest-*.txt"):
        lines = manifest.read_text().splitlines(keepends=True)
        manifest.write_text("".join(line for line in lines if not line.rstrip().endswith(name)))


def edit_first_digest(manifest: Path) -> None:
    text = manifest.read_text()
    manifest.write_text(("1" if text[0] == "0" else "0") + text[1:])


SPOILERS = {
    "one payload byte changed": (
        lambda bag: flip_byte(bag / "data/masters/0002-folio-1v.jpg"),
        "data/masters/0002-folio-1v.jpg sha",
    ),
    "a payload file removed": (
        lambda bag: (bag / "data/masters/0003-pantun.wav").unlink(),
        "data/masters/0003-pantun.wav is missing",
    ),
    "a payload file added": (
        lambda bag: (bag / "data/masters/0004-extra.txt").write_text("x"),
        "data/masters/0004-extra.txt is not in the manifest",
    ),
    "a tag manifest mismatch": (
        lambda bag: flip_byte(bag / "metadata/item.json", 10),
        "metadata/item.json sha",
    ),
    "metadata removed, with its manifest lines": (
        lambda bag: (
            (bag / "metadata/premis.xml").unlink(),
            drop_manifest_lines(bag, "metadata/premis.xml"),
        ),
        "metadata/premis.xml is missing",
    ),
    "a payload manifest edited": (
        lambda bag: edit_first_digest(bag / "manifest-sha256.txt"),
        "manifest-sha256.txt sha",
    ),
}


@pytest.mark.parametrize("spoil", list(SPOILERS), ids=list(SPOILERS))
def test_an_invalid_bag_is_refused_and_nothing_is_imported(spoil, bag, target):
    damage, reason = SPOILERS[spoil]
    damage(bag)
    before = target.state()

    result = target.run("import-bag", str(bag))

    assert result.returncode == 1, result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("heritage: error: invalid bag"), result.stderr
    assert reason in last
    assert result.stdout == ""
    assert target.state() == before


def test_an_export_never_overwrites_and_leaves_no_half_bag(source, tmp_path):
    existing = tmp_path / "there"
    existing.mkdir()
    result = source.run("export-bag", ITEM, str(existing))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"heritage: error: {existing} already exists: give a new folder"
    )
    unknown = source.run("export-bag", "pns-ms-9999", str(tmp_path / "new"))
    assert unknown.returncode == 1
    assert "heritage: error: no item 'pns-ms-9999'" in unknown.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["there"]


def test_a_master_that_fails_its_fixity_check_is_not_exported(tmp_path, source):
    folder = tmp_path / "copy"
    shutil.copytree(source.folder, folder, ignore=shutil.ignore_patterns("zeo.*"))
    repo = Repo(folder, write_ini(folder, zeo=False))
    with opened(folder) as (root, _tm):
        blob = Path(root.items[ITEM].files["2"].blob.committed())
    blob.chmod(0o644)
    flip_byte(blob)

    result = repo.run("export-bag", ITEM, str(tmp_path / "bag"))

    assert result.returncode == 1
    assert "file 2 (folio-1v.jpg) fails its fixity check" in result.stderr
    assert not (tmp_path / "bag").exists()
    assert not list(tmp_path.glob(".bag.partial-*"))
