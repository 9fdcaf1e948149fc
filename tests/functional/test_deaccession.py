"""Deaccession over HTTP: admins only, a reason always, a tombstone and an event every time.

Pages are real (``digitization.samples``), uploaded through the API and examined by the real
exiftool and fido; their tile pyramids are built by the real worker, so that removing them
from the disk can be seen. The database is a real FileStorage that commits.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import webtest
from lxml import etree
from support import csrf_token, login

from digitization.samples import make_sample_page
from heritage.security import hash_token
from heritage.worker import image_dir, run_worker

P = "{http://www.loc.gov/premis/v3}"
PARSER = etree.XMLParser(no_network=True)
REASON = "Duplicate master: the page was scanned twice (see ticket 118)"


def upload_pages(app, item_id: str, tmp_path: Path, seeds: tuple[int, ...]) -> dict[str, bytes]:
    """Upload sample pages to ``item_id`` as pns-digitizer; return file number → bytes."""
    web = webtest.TestApp(app)
    login(web, "pns-digitizer")
    token = csrf_token(web, f"/staff/items/{item_id}")
    pages = {
        f"folio-{n}.jpg": make_sample_page(
            tmp_path / f"folio-{n}.jpg", seed=n, page_no=n, width=700, height=900, fmt="JPEG"
        ).read_bytes()
        for n in seeds
    }
    answer = web.post(
        f"/api/items/{item_id}/files",
        upload_files=[("file", name, data) for name, data in pages.items()],
        headers={"X-CSRF-Token": token},
        status=201,
    ).json
    return {r["file"]: pages[r["filename"]] for r in answer["files"]}


@pytest.fixture
def pages(app, db, consortium, digitizer, tmp_path) -> dict[str, bytes]:
    """Three pages of the public item, with their tile pyramids built."""
    stored = upload_pages(app, consortium.public, tmp_path, (1, 2, 3))
    assert sorted(stored) == ["1", "2", "3"]
    run_worker(db, app.registry.heritage, processes=0, once=True)
    return stored


def as_admin(app) -> tuple[webtest.TestApp, dict[str, str]]:
    web = webtest.TestApp(app)
    login(web, "admin")
    return web, {"X-CSRF-Token": csrf_token(web, "/staff/")}


def feed(web: webtest.TestApp) -> list[tuple[str, str]]:
    url = urlsplit(web.get("/iiif/discovery/changes").json["first"]["id"]).path
    found = []
    while url:
        page = json.loads(web.get(url).body)
        found.extend((a["type"], urlsplit(a["object"]["id"]).path) for a in page["orderedItems"])
        url = urlsplit(page["next"]["id"]).path if "next" in page else ""
    return found


def file_names(arrange, item_id: str) -> list[str]:
    return arrange(lambda root: [f.__name__ for f in root.items[item_id].files])


# -- who may ------------------------------------------------------------------------------------


def test_only_admins_may_deaccession(app, arrange, consortium, pages):
    item = consortium.public
    url = f"/api/items/{item}/files/2/deaccession"
    anonymous = webtest.TestApp(app)
    anonymous.post_json(url, {"reason": REASON}, status=403)
    anonymous.post_json(
        f"/api/items/{consortium.unpublished}/files/1/deaccession", {"reason": REASON}, status=404
    )
    anonymous.post_json(f"/api/items/{item}/deaccession", {"reason": REASON}, status=403)
    for username, status in (
        ("pns-curator", 403),
        ("pns-digitizer", 403),
        ("kaltim-curator", 403),  # a public item: seen, not theirs to remove
        ("reader", 403),
    ):
        web = webtest.TestApp(app)
        login(web, username)
        headers = {"X-CSRF-Token": csrf_token(web, "/staff/login")}
        web.post_json(url, {"reason": REASON}, headers=headers, status=status)
        web.post_json(
            f"/api/items/{item}/deaccession", {"reason": REASON}, headers=headers, status=status
        )
    kaltim = webtest.TestApp(app)
    login(kaltim, "kaltim-curator")
    kaltim.post_json(
        f"/api/items/{consortium.unpublished}/deaccession",
        {"reason": REASON},
        headers={"X-CSRF-Token": csrf_token(kaltim, "/staff/login")},
        status=404,  # may not even see it
    )
    assert file_names(arrange, item) == ["1", "2", "3"]
    assert arrange(lambda root: len(root.tombstones)) == 0


def test_a_reason_is_required(app, arrange, consortium, pages):
    web, headers = as_admin(app)
    url = f"/api/items/{consortium.public}/files/2/deaccession"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": 7}):
        answer = web.post_json(url, body, headers=headers, status=400).json
        assert "reason" in answer["errors"]
    web.post(url, b"", headers=headers, status=400)
    web.post_json(
        f"/api/items/{consortium.public}/deaccession", {"reason": " "}, headers=headers, status=400
    )
    assert file_names(arrange, consortium.public) == ["1", "2", "3"]


def test_csrf_is_enforced_for_sessions_and_not_needed_with_a_token(app, arrange, consortium, pages):
    web, _ = as_admin(app)
    url = f"/api/items/{consortium.public}/files/2/deaccession"
    web.post_json(url, {"reason": REASON}, status=400)  # no X-CSRF-Token header
    form = web.post(
        f"/staff/items/{consortium.public}/deaccession",
        {"file": "2", "reason": REASON, "confirm": "yes"},
        status=400,
    )
    assert "CSRF" in form.text
    assert file_names(arrange, consortium.public) == ["1", "2", "3"]

    token = "s3cret-token-for-a-script"
    arrange(lambda root: root.users.add_token("admin", hash_token(token)))
    script = webtest.TestApp(app)
    script.post_json(
        url, {"reason": REASON}, headers={"Authorization": f"Bearer {token}"}, status=200
    )
    assert file_names(arrange, consortium.public) == ["1", "3"]


# -- a file -------------------------------------------------------------------------------------


def test_an_admin_deaccessions_a_master(app, arrange, consortium, pages, settings, tmp_path):
    item = consortium.public
    hs = app.registry.heritage
    assert image_dir(hs, f"{item}_2").is_dir()
    anonymous = webtest.TestApp(app)
    before = json.loads(anonymous.get(f"/iiif/manifests/{item}").body)
    assert len(before["items"]) == 3
    web, headers = as_admin(app)

    answer = web.post_json(
        f"/api/items/{item}/files/2/deaccession", {"reason": REASON}, headers=headers
    ).json

    tomb = answer["tombstone"]
    master = pages["2"]
    assert tomb["item_id"] == item and tomb["file"] == "2"
    assert tomb["filename"] == "folio-2.jpg" and tomb["image_id"] == f"{item}_2"
    assert tomb["size"] == len(master)
    assert tomb["sha256"] == hashlib.sha256(master).hexdigest()
    assert tomb["md5"] == hashlib.md5(master).hexdigest()  # noqa: S324 - a fixity value
    assert tomb["format"]["puid"].startswith("fmt/")
    assert (tomb["reason"], tomb["by"]) == (REASON, "user:admin")
    assert tomb["date"]

    # Gone from the files API, the manifest, the image API and the disk; others untouched.
    staff = web.get(f"/api/items/{item}/files").json["files"]
    assert [f["name"] for f in staff] == ["1", "3"]
    after = json.loads(anonymous.get(f"/iiif/manifests/{item}").body)
    assert len(after["items"]) == 2
    assert f"{item}_2" not in json.dumps(after)
    anonymous.get(f"/iiif/3/{item}_2/info.json", status=404)
    anonymous.get(f"/iiif/3/{item}_1/info.json", status=200)
    assert not image_dir(hs, f"{item}_2").exists()
    assert image_dir(hs, f"{item}_1").is_dir()
    assert ("Update", f"/iiif/manifests/{item}") in feed(anonymous)

    # The event, with its agents, in the JSON and the PREMIS record.
    events = web.get(f"/api/items/{item}/events?limit=200").json["events"]
    event = next(e for e in events if e["type"] == "deaccession")
    assert event["id"] == tomb["event"]
    assert event["objects"] == [f"{item}/2"]
    assert event["note"] == REASON and tomb["sha256"] in event["detail"]
    kinds = {(a["type"], a["name"]) for a in event["agents"]}
    assert ("person", "user:admin") in kinds
    assert {k for k, _ in kinds} == {"person", "software", "organization"}
    premis = etree.fromstring(web.get(f"/api/items/{item}/premis").body, PARSER)
    written = {
        e.findtext(f"{P}eventIdentifier/{P}eventIdentifierValue"): e
        for e in premis.iter(f"{P}event")
    }
    assert written[tomb["event"]].findtext(f"{P}eventType") == "deaccession"
    files = [o for o in premis.iter(f"{P}object") if "file" in o.get(f"{{{XSI}}}type")]
    assert len(files) == 2

    # The staff page lists the tombstone; the number is never given again; a second try is 410.
    page = web.get(f"/staff/items/{item}")
    assert "folio-2.jpg" in page.text and REASON in page.text
    web.post_json(
        f"/api/items/{item}/files/2/deaccession", {"reason": REASON}, headers=headers, status=410
    )
    again = upload_pages(app, item, tmp_path, (9,))
    assert list(again) == ["4"]
    assert file_names(arrange, item) == ["1", "3", "4"]


XSI = "http://www.w3.org/2001/XMLSchema-instance"


def test_an_unknown_file_is_404(app, consortium, pages):
    web, headers = as_admin(app)
    for name in ("7", "0", "01", "x"):
        web.post_json(
            f"/api/items/{consortium.public}/files/{name}/deaccession",
            {"reason": REASON},
            headers=headers,
            status=404,
        )


# -- an item ------------------------------------------------------------------------------------


def test_an_admin_deaccessions_a_public_item(app, arrange, consortium, pages):
    item = consortium.public
    hs = app.registry.heritage
    anonymous = webtest.TestApp(app)
    anonymous.get(f"/items/{item}", status=200)
    web, headers = as_admin(app)
    counts_before = arrange(lambda root: root.institutions["pns"].counts()["published"])

    answer = web.post_json(
        f"/api/items/{item}/deaccession", {"reason": REASON}, headers=headers
    ).json

    tomb = answer["tombstone"]
    assert tomb["id"] == item and tomb["reason"] == REASON and tomb["by"] == "user:admin"
    assert tomb["title"]["ms"] == ["Hikayat Pelanduk"]
    assert [(f["file"], f["sha256"]) for f in tomb["files"]] == [
        (n, hashlib.sha256(data).hexdigest()) for n, data in sorted(pages.items())
    ]
    kept = arrange(lambda root: [e["type"] for e in root.tombstones[item].events])
    assert kept[-1] == "deaccession" and kept.count("ingestion") == 3
    assert kept.count("creation") == 3  # the worker's pyramids, recorded as they were made
    assert arrange(lambda root: item in root.items) is False
    assert arrange(lambda root: item in root.collections["pns-manuscripts"].items) is False
    assert arrange(lambda root: root.institutions["pns"].counts()["published"]) == (
        counts_before - 1
    )
    for n in pages:
        assert not image_dir(hs, f"{item}_{n}").exists()

    # 410 Gone, with only what was public, for everyone.
    page = anonymous.get(f"/items/{item}", status=410)
    assert "Hikayat Pelanduk" in page.text and tomb["withdrawn"][:10] in page.text
    assert REASON not in page.text and pages and "sha256" not in page.text
    malay = anonymous.get(f"/items/{item}?lang=ms", status=410).text
    assert f"Item ini telah ditarik keluar daripada repositori pada {tomb['withdrawn'][:10]}" in (
        malay
    )
    manifest = anonymous.get(f"/iiif/manifests/{item}", status=410).json
    assert (manifest["id"], manifest["withdrawn"]) == (item, tomb["withdrawn"])
    assert "reason" not in manifest and "files" not in manifest
    assert (
        anonymous.get(f"/iiif/manifests/{item}", status=410).headers["Access-Control-Allow-Origin"]
        == "*"
    )
    anonymous.get(f"/api/items/{item}", status=410)
    anonymous.get(f"/embed/{item}", status=410)
    anonymous.get(f"/iiif/3/{item}_1/info.json", status=404)
    # Admins see the whole tombstone.
    full = web.get(f"/api/items/{item}", status=410).json
    assert full["reason"] == REASON and len(full["files"]) == 3
    assert REASON in web.get(f"/items/{item}", status=410).text

    # Aggregators are told; the IIIF tree no longer lists it; its id is never reused.
    activities = feed(anonymous)
    assert activities[-1] == ("Delete", f"/iiif/manifests/{item}")
    top = json.loads(anonymous.get("/iiif/collections/pns-manuscripts").body)
    assert all(item not in m["id"] for m in top["items"])
    again = web.post_json(
        "/api/items",
        {
            "id": item,
            "collection": "pns-manuscripts",
            "metadata": {"title": [{"value": "Another", "lang": "ms"}]},
        },
        headers=headers,
        status=400,
    ).json
    assert "id" in again["errors"]


def test_a_never_public_item_leaves_no_public_trace(app, arrange, consortium):
    item = consortium.unpublished
    web, headers = as_admin(app)
    web.post_json(f"/api/items/{item}/deaccession", {"reason": REASON}, headers=headers)

    anonymous = webtest.TestApp(app)
    for url in (f"/items/{item}", f"/iiif/manifests/{item}", f"/api/items/{item}"):
        answer = anonymous.get(url, status=404)
        assert "Syair Rahsia" not in answer.text
    assert ("Delete", f"/iiif/manifests/{item}") not in feed(anonymous)
    other = webtest.TestApp(app)
    login(other, "kaltim-curator")
    other.get(f"/items/{item}", status=404)
    own = webtest.TestApp(app)
    login(own, "pns-curator")  # the holding institution's staff keep the record
    assert own.get(f"/api/items/{item}", status=410).json["reason"] == REASON


# -- the staff page -----------------------------------------------------------------------------


def test_the_staff_page_form_asks_for_a_reason_and_a_confirmation(app, arrange, consortium, pages):
    item = consortium.public
    curator = webtest.TestApp(app)
    login(curator, "pns-curator")
    assert "deaccession-heading" not in curator.get(f"/staff/items/{item}").text
    curator.post(
        f"/staff/items/{item}/deaccession",
        {
            "file": "2",
            "reason": REASON,
            "confirm": "yes",
            "csrf_token": csrf_token(curator, "/staff/"),
        },
        status=403,
    )

    web = webtest.TestApp(app)
    login(web, "admin")
    page = web.get(f"/staff/items/{item}")
    file_form, item_form = (
        f for f in page.forms.values() if f.action.endswith(f"/staff/items/{item}/deaccession")
    )
    file_form["file"] = "2"
    file_form["reason"] = REASON
    answer = file_form.submit(status=400)  # the box is not ticked
    assert "confirm" in answer.text
    file_form["confirm"] = True
    file_form["reason"] = ""
    file_form.submit(status=400)
    file_form["reason"] = REASON
    done = file_form.submit(status=302).follow()
    assert "was deaccessioned" in done.text
    assert "Lupuskan seluruh item" in web.get(f"/staff/items/{item}?lang=ms").text
    assert file_names(arrange, item) == ["1", "3"]

    item_form = next(
        f
        for f in done.forms.values()
        if f.action.endswith("/deaccession") and "confirm_id" in f.fields
    )
    item_form["reason"] = REASON
    item_form["confirm_id"] = "pns-ms-9999"
    item_form.submit(status=400)
    assert arrange(lambda root: item in root.items)
    item_form["confirm_id"] = item
    gone = item_form.submit(status=302)
    assert urlsplit(gone.location).path == f"/items/{item}"
    assert REASON in gone.follow(status=410).text
    assert arrange(lambda root: item in root.tombstones)


def test_a_pyramid_finished_after_its_master_left_is_not_kept(
    app, arrange, consortium, digitizer, tmp_path
):
    """The worker built the pyramid while the master was being deaccessioned: no orphan."""
    from digitization.derivatives import build_pyramid
    from heritage.worker import _record

    item = consortium.public
    stored = upload_pages(app, item, tmp_path, (5,))
    web, headers = as_admin(app)
    web.post_json(f"/api/items/{item}/files/1/deaccession", {"reason": REASON}, headers=headers)
    hs = app.registry.heritage
    master = tmp_path / "master.jpg"
    master.write_bytes(stored["1"])
    out = image_dir(hs, f"{item}_1")
    pyramid = build_pyramid(master, out)
    assert out.is_dir()

    def finish(root: Any) -> None:
        job = next(j for j in root.jobs.data.values() if j.params == {"item_id": item, "file": "1"})
        _record(root, job, pyramid, hs)

    arrange(finish)
    assert not out.exists()
    assert arrange(lambda root: [e["type"] for e in root.items[item].events].count("creation")) == 0
