"""The partner page of a member institution (``/institutions/{id}``) and its JSON.

Counts, newest items and entry points as the public sees them, over the ``consortium``
fixture; then kept right while an item is published through the real workflow, gains a page
by a real upload (exiftool, fido), is withdrawn and published again, or is restricted; and
counted afresh by the schema step when an older database is upgraded.
"""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import transaction
import webtest
from bs4 import BeautifulSoup
from support import csrf_token, login, make_item
from ZODB import DB
from ZODB.FileStorage import FileStorage

from digitization.samples import make_sample_page
from heritage import evolve, main
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.worker import run_worker

YEAR = datetime.now(UTC).year
RIGHTS = "http://rightsstatements.org/vocab/NoC-NKC/1.0/"
NEW = "pns-ms-0300"


@lru_cache(maxsize=4)
def page(seed: int) -> bytes:
    """A real scanned-looking page (JPEG), as a scanner station writes one."""
    with tempfile.TemporaryDirectory() as scratch:
        return make_sample_page(
            Path(scratch) / "p.jpg", seed=seed, page_no=seed, width=600, height=800
        ).read_bytes()


def counts(web: webtest.TestApp, inst: str = "pns") -> dict[str, str]:
    """The figures the page shows, by the id of their box."""
    soup = BeautifulSoup(web.get(f"/institutions/{inst}").text, "html.parser")
    return {box["id"]: box.dd.get_text(strip=True) for box in soup.select(".partner-counts > div")}


def listed(web: webtest.TestApp, inst: str = "pns") -> list[str]:
    """The item ids of the page's newest items, in order."""
    soup = BeautifulSoup(web.get(f"/institutions/{inst}").text, "html.parser")
    return [a["href"].rsplit("/", 1)[-1] for a in soup.select(".thumb-list .item-title")]


def thumbnail(web: webtest.TestApp, inst: str = "pns") -> str:
    """The path of the first listed item's thumbnail."""
    soup = BeautifulSoup(web.get(f"/institutions/{inst}").text, "html.parser")
    return urlsplit(soup.select_one(".thumb-list li img.thumb")["src"]).path


def api_counts(web: webtest.TestApp, inst: str = "pns") -> dict[str, int]:
    return web.get(f"/api/institutions/{inst}").json["counts"]


@pytest.fixture
def extra_settings() -> dict[str, str]:
    return {}


@pytest.fixture
def settings(settings: dict[str, str], extra_settings: dict[str, str]) -> dict[str, str]:
    """conftest's settings, plus what a test parametrizes ``extra_settings`` with."""
    return {**settings, **extra_settings}


def person(app: Any, username: str | None = None) -> tuple[webtest.TestApp, dict[str, str]]:
    web = webtest.TestApp(app)
    if username:
        login(web, username)
    return web, {"X-CSRF-Token": csrf_token(web)}


# -- what the sample consortium shows --------------------------------------------------------


def test_counts_and_lists_only_what_the_public_may_see(testapp, consortium):
    # pns: one public item and one described only; unpublished, staff-only and community
    # items are neither counted nor listed. No item has files yet.
    assert counts(testapp) == {"count-items": "2", "count-pages": "0", "count-this-year": "2"}
    assert sorted(listed(testapp)) == [consortium.public, consortium.metadata_only]
    page_text = testapp.get("/institutions/pns").text
    for hidden in (consortium.unpublished, consortium.staff_only, consortium.community):
        assert hidden not in page_text
    assert counts(testapp, "kaltim") == {
        "count-items": "1",
        "count-pages": "0",
        "count-this-year": "1",
    }
    assert listed(testapp, "kaltim") == [consortium.other_public]
    assert f"Published in {YEAR}" in page_text


@pytest.mark.parametrize("username", ["reader", "pns-curator", "admin"])
def test_every_reader_sees_the_same_public_counts(app, consortium, username):
    web, _ = person(app, username)
    assert counts(web) == {"count-items": "2", "count-pages": "0", "count-this-year": "2"}
    assert consortium.community not in listed(web)  # the reader may see it, the public not
    assert consortium.unpublished not in listed(web)


def test_the_page_speaks_malay_and_indonesian(testapp, consortium):
    ms = testapp.get("/institutions/pns?lang=ms").text
    assert "Halaman didigitalkan" in ms and "Item terkini" in ms
    ind = testapp.get("/institutions/kaltim?lang=id").text
    assert "Halaman terdigitalisasi" in ind and "Item terbaru" in ind


# -- entry points ----------------------------------------------------------------------------


def test_entry_points_are_linked_and_resolve(testapp, consortium):
    soup = BeautifulSoup(testapp.get("/institutions/pns").text, "html.parser")
    oai = urlsplit(soup.select_one("#oai-records")["href"])
    assert oai.path == "/oai"  # the provider may come later: the link is the contract
    assert parse_qs(oai.query) == {
        "verb": ["ListRecords"],
        "metadataPrefix": ["oai_dc"],
        "set": ["pns"],
    }
    iiif = soup.select_one("#iiif-collection")["href"]
    assert urlsplit(iiif).path == "/iiif/institutions/pns"
    collection = testapp.get(urlsplit(iiif).path)
    assert collection.status_int == 200 and collection.json["type"] == "Collection"
    changes = urlsplit(soup.select_one("#change-discovery")["href"]).path
    assert changes == "/iiif/discovery/changes"
    assert testapp.get(changes).json["type"] == "OrderedCollection"
    search = urlsplit(soup.select_one("#search-link")["href"])
    assert (search.path, parse_qs(search.query)) == ("/search", {"institution": ["pns"]})


@pytest.mark.parametrize(
    "extra_settings", [{"heritage.public_url": "https://heritage.example.org/bh"}]
)
def test_entry_points_follow_the_public_url(testapp, consortium):
    points = testapp.get("/api/institutions/pns").json["entry_points"]
    assert points["oai_pmh"] == "https://heritage.example.org/bh/oai"
    assert points["iiif_collection"] == "https://heritage.example.org/bh/iiif/institutions/pns"


# -- the JSON --------------------------------------------------------------------------------


def test_the_institution_json(testapp, consortium):
    data = testapp.get("/api/institutions/pns").json
    assert data["counts"] == {
        "items": 2,
        "pages": 0,
        "published_this_year": 2,
        "year": YEAR,
    }
    points = data["entry_points"]
    assert points["oai_pmh"] == "http://localhost/oai"
    assert points["oai_pmh_set"] == "pns"
    assert points["oai_pmh_records"] == (
        "http://localhost/oai?verb=ListRecords&metadataPrefix=oai_dc&set=pns"
    )
    assert points["iiif_collection"] == "http://localhost/iiif/institutions/pns"
    assert points["change_discovery"] == "http://localhost/iiif/discovery/changes"
    assert points["search"] == "http://localhost/search?institution=pns"
    latest = {entry["id"]: entry for entry in data["latest"]}
    assert set(latest) == {consortium.public, consortium.metadata_only}
    assert latest[consortium.public]["manifest"] == (
        f"http://localhost/iiif/manifests/{consortium.public}"
    )
    assert latest[consortium.metadata_only]["manifest"] is None  # its images are not public
    assert latest[consortium.public]["title"] == {
        "ms": ["Hikayat Pelanduk"],
        "en": ["Hikayat Pelanduk (en)"],
    }
    assert latest[consortium.public]["published"].startswith(str(YEAR))
    listing = {i["id"]: i["counts"] for i in testapp.get("/api/institutions").json["items"]}
    assert listing == {
        "kaltim": {"items": 1, "pages": 0, "published_this_year": 1, "year": YEAR},
        "pns": {"items": 2, "pages": 0, "published_this_year": 2, "year": YEAR},
    }


# -- kept right as items change --------------------------------------------------------------


def test_counts_follow_publication_new_pages_and_withdrawal(app, db, arrange, testapp, digitizer):
    def in_preservation(root: Any) -> None:
        item = make_item(NEW, "Hikayat Nakhoda Muda", state="capture")
        root.collections["pns-manuscripts"].add_item(item)

    arrange(in_preservation)
    staff, staff_headers = person(app, "pns-digitizer")
    staff.post(
        f"/api/items/{NEW}/files",
        upload_files=[("file", "f1r.jpg", page(1)), ("file", "f1v.jpg", page(2))],
        headers=staff_headers,
        status=201,
    )
    assert counts(testapp)["count-pages"] == "0"  # its pages are not public yet

    def ready(root: Any) -> None:
        item = root.items[NEW]
        item.set_state("preservation")
        item.set_access("public")

    arrange(ready)
    assert NEW not in listed(testapp)
    curator, curator_headers = person(app, "pns-curator")

    def move(to: str, **fields: Any) -> None:
        curator.post_json(
            f"/api/items/{NEW}/transitions", {"to": to, **fields}, headers=curator_headers
        )

    move("published")
    assert counts(testapp) == {"count-items": "3", "count-pages": "2", "count-this-year": "3"}
    assert listed(testapp)[0] == NEW  # the newest publication first
    assert api_counts(testapp)["pages"] == 2

    # Its thumbnail comes from the Image API: computed until the worker builds the pyramid,
    # then one of the pyramid's stored sizes.
    assert thumbnail(testapp) == f"/iiif/3/{NEW}_1/full/200,/0/default.jpg"
    run_worker(db, app.registry.heritage, processes=0, once=True)
    thumb = thumbnail(testapp)
    assert re.fullmatch(rf"/iiif/3/{NEW}_1/full/\d+,\d+/0/default\.jpg", thumb), thumb
    assert testapp.get(thumb).content_type == "image/jpeg"
    [entry] = [e for e in testapp.get("/api/institutions/pns").json["latest"] if e["id"] == NEW]
    assert urlsplit(entry["thumbnail"]).path == thumb

    staff.post(
        f"/api/items/{NEW}/files",
        upload_files=[("file", "f2r.jpg", page(3))],
        headers=staff_headers,
        status=201,
    )
    assert counts(testapp)["count-pages"] == "3"

    move("withdrawn", note="A family asked for it to be taken down")
    assert counts(testapp) == {"count-items": "2", "count-pages": "0", "count-this-year": "2"}
    assert NEW not in listed(testapp)
    assert api_counts(testapp) == {"items": 2, "pages": 0, "published_this_year": 2, "year": YEAR}

    first = arrange(lambda root: root.items[NEW].published_on)
    move("published")
    assert counts(testapp) == {"count-items": "3", "count-pages": "3", "count-this-year": "3"}
    assert arrange(lambda root: root.items[NEW].published_on) == first  # first date kept


def test_restricting_an_item_takes_it_out(app, db, arrange, testapp, consortium, tmp_path):
    def add_pages(root: Any) -> None:
        for item_id in (consortium.public, consortium.metadata_only, consortium.staff_only):
            item = root.items[item_id]
            for n in (1, 2):
                staged = tmp_path / f"{item_id}-{n}.jpg"
                staged.write_bytes(page(n))
                f = item.add_file(staged, f"p{n}.jpg")
                root.jobs.add("derivatives", item_id=item_id, file=f.__name__)

    arrange(add_pages)
    run_worker(db, app.registry.heritage, processes=0, once=True)
    # Only the public item's pages count: the described-only item shows no files, and the
    # staff-only item is not public at all.
    assert counts(testapp) == {"count-items": "2", "count-pages": "2", "count-this-year": "2"}
    curator, headers = person(app, "pns-curator")
    # Its own staff may see every image, but the page shows them what it shows the public.
    soup = BeautifulSoup(curator.get("/institutions/pns").text, "html.parser")
    assert [urlsplit(img["src"]).path.split("/")[3] for img in soup.select("img.thumb")] == [
        f"{consortium.public}_1"
    ]
    curator.patch_json(f"/api/items/{consortium.public}", {"access": "staff"}, headers=headers)
    assert counts(testapp) == {"count-items": "1", "count-pages": "0", "count-this-year": "1"}
    assert listed(testapp) == [consortium.metadata_only]
    curator.patch_json(
        f"/api/items/{consortium.metadata_only}", {"access": "public"}, headers=headers
    )
    assert counts(testapp) == {"count-items": "1", "count-pages": "2", "count-this-year": "1"}


def test_removing_an_item_subtracts_it(arrange, testapp, consortium):
    from heritage.changes import item_removed

    def deaccession(root: Any) -> None:
        item = root.items[consortium.public]
        item_removed(item)
        root.items.unregister(item.item_id)
        item.collection.items.remove(item.item_id)

    arrange(deaccession)
    assert counts(testapp) == {"count-items": "1", "count-pages": "0", "count-this-year": "1"}
    assert listed(testapp) == [consortium.metadata_only]


# -- an older database ------------------------------------------------------------------------


STEP = "step_0010_institution_counts"


def test_the_schema_step_counts_an_older_database(tmp_path):
    """A database from before the partner page: no counters, no publication dates."""
    db = DB(FileStorage(str(tmp_path / "Data.fs"), blob_dir=str(tmp_path / "blobs")))
    with transaction.manager:
        conn = db.open()
        zodb_root = conn.root()
        root = evolve.bootstrap(zodb_root)
        inst = root.institutions.add("pns", Institution({"en": "Pustaka"}, country="MY"))
        coll = root.add_collection(inst, "pns-manuscripts", Collection({"en": "Manuscripts"}))
        coll.add_item(make_item("pns-ms-0001", "Hikayat Pelanduk"))
        coll.add_item(make_item("pns-ms-0002", "Syair Lama"))
        coll.add_item(make_item("pns-ms-0003", "Syair Rahsia", state="capture"))
        old = root.items["pns-ms-0002"]
        old.events.record(
            "dissemination",
            detail="preservation → published",
            workflow={"when": "2019-03-04T05:06:07+00:00", "target": "published"},
        )
        for item in root.items.values():
            item.__dict__.pop("published_on", None)
            item.__dict__.pop("partner_counted", None)
        for name in ("public_items", "public_pages", "public_by_year", "latest_public"):
            delattr(inst, name)
        del evolve.finished_steps(zodb_root)[STEP]
    conn.close()
    db.close()

    app = main(
        {},
        **{
            "zodbconn.uri": f"file://{tmp_path}/Data.fs?blobstorage_dir={tmp_path}/blobs",
            "heritage.var_dir": str(tmp_path / "var"),
        },
    )
    try:
        web = webtest.TestApp(app)
        assert api_counts(web) == {"items": 2, "pages": 0, "published_this_year": 1, "year": YEAR}
        assert listed(web) == ["pns-ms-0001", "pns-ms-0002"]  # 2019 is older than this year
        latest = web.get("/api/institutions/pns").json["latest"]
        assert latest[1]["published"] == "2019-03-04T05:06:07+00:00"
    finally:
        app.registry._zodb_databases[""].close()
