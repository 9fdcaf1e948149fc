"""Workflow transitions over the whole application: the JSON API, the staff page, the record.

The application runs in-process over a temporary FileStorage (``tests/conftest.py``); each
person is a separate ``webtest.TestApp`` over the same WSGI application, logged in through
the real form, so that the concurrency tests below race real requests against one database.
Files are real pages (``digitization.samples``) examined by the real exiftool and fido, so
that they carry the QA results, fixity, format and ingestion events the guards read.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import webtest
from bs4 import BeautifulSoup
from PIL import Image, ImageCms
from support import PASSWORD, csrf_token, login, make_item

from digitization.samples import make_sample_page
from heritage.resources.events import APP_AGENT
from heritage.resources.users import User
from heritage.views import transitions as transitions_view
from workflows.machine import find

ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
RIGHTS = "http://rightsstatements.org/vocab/NoC-NKC/1.0/"
COLLECTION = "pns-manuscripts"
#: The people of pns besides the consortium's curator (username → role).
STAFF = {
    "pns-digitizer": "digitizer",
    "pns-cataloguer": "cataloguer",
    "pns-rights": "rights-officer",
}
#: Everything the description step asks for (the default required fields).
FULL_METADATA = {
    "title": [{"value": "Hikayat Nakhoda Muda", "lang": "ms"}],
    "date": ["17XX"],
    "type": [{"value": "Text", "lang": "en"}],
    "language": ["ms"],
}


# -- people ---------------------------------------------------------------------------------


@pytest.fixture
def staff(arrange, consortium) -> None:
    """A digitizer, a cataloguer and a rights officer at pns (pns-curator is the consortium's)."""

    def work(root: Any) -> None:
        for username, role in STAFF.items():
            user = User(username)
            user.set_password(PASSWORD)
            user.add_role(role, "pns")
            root.users.add(username, user)

    arrange(work)


class Person:
    """One browser or script: its own cookies over the shared WSGI application."""

    def __init__(self, app: Any, username: str | None = None) -> None:
        self.username = username
        self.web = webtest.TestApp(app)
        if username is not None:
            login(self.web, username)
        self.headers = {"X-CSRF-Token": csrf_token(self.web)}

    def move(
        self, item_id: str, to: str, *, status: int | str = 200, **fields: Any
    ) -> webtest.TestResponse:
        return self.web.post_json(
            f"/api/items/{item_id}/transitions",
            {"to": to, **fields},
            headers=self.headers,
            status=status,
        )

    def patch(self, item_id: str, data: dict[str, Any]) -> webtest.TestResponse:
        return self.web.patch_json(f"/api/items/{item_id}", data, headers=self.headers)

    def upload(
        self, item_id: str, files: list[tuple[str, bytes]], *, status: int | str = 201
    ) -> webtest.TestResponse:
        return self.web.post(
            f"/api/items/{item_id}/files",
            upload_files=[("file", name, data) for name, data in files],
            headers=self.headers,
            status=status,
        )


@dataclass
class People:
    curator: Person
    digitizer: Person
    cataloguer: Person
    rights: Person
    admin: Person
    kaltim: Person
    anonymous: Person


@pytest.fixture
def people(app, staff) -> People:
    return People(
        curator=Person(app, "pns-curator"),
        digitizer=Person(app, "pns-digitizer"),
        cataloguer=Person(app, "pns-cataloguer"),
        rights=Person(app, "pns-rights"),
        admin=Person(app, "admin"),
        kaltim=Person(app, "kaltim-curator"),
        anonymous=Person(app),
    )


# -- real pages -----------------------------------------------------------------------------


def _jpeg(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, format="JPEG", quality=90, dpi=(300, 300), icc_profile=ICC)
    return out.getvalue()


@lru_cache(maxsize=8)
def good_page(seed: int) -> bytes:
    """A page with text on it, 300 ppi, sRGB: it passes automatic QA."""
    with tempfile.TemporaryDirectory() as scratch:
        path = make_sample_page(
            Path(scratch) / "page.jpg", seed=seed, page_no=seed, width=1000, height=1300
        )
        with Image.open(path) as im:
            return _jpeg(im.convert("RGB"))


@lru_cache(maxsize=1)
def blank_page() -> bytes:
    """Plain paper, 300 ppi, sRGB: automatic QA flags it as blank."""
    return _jpeg(Image.new("RGB", (1000, 1300), (236, 228, 208)))


# -- arranging and reading the database -----------------------------------------------------


def place(arrange, item_id: str, state: str, **attrs: Any) -> str:
    """Put an item of pns in ``state`` directly, with any attributes set (e.g. indigenous)."""

    def work(root: Any) -> None:
        item = make_item(item_id, f"Naskhah {item_id}", state=state)
        for name, value in attrs.items():
            setattr(item, name, value)
        root.collections[COLLECTION].add_item(item)

    arrange(work)
    return item_id


def state_of(arrange, item_id: str) -> str:
    return arrange(lambda root: root.items[item_id].state)


def all_events(arrange, item_id: str) -> list[dict[str, Any]]:
    return arrange(lambda root: list(root.items[item_id].events))


def moves(arrange, item_id: str) -> list[dict[str, Any]]:
    """The transition events of the item, oldest first."""
    return [e for e in all_events(arrange, item_id) if "workflow" in e]


def path(url: str) -> str:
    return urlsplit(url).path


def feed(web: webtest.TestApp) -> list[dict[str, Any]]:
    """Every activity of the Change Discovery feed, oldest first, following its pages."""
    url = path(web.get("/iiif/discovery/changes").json["first"]["id"])
    activities: list[dict[str, Any]] = []
    while url:
        page = json.loads(web.get(url).body)
        activities.extend(page["orderedItems"])
        url = path(page["next"]["id"]) if "next" in page else ""
    return activities


def manifests_in_tree(web: webtest.TestApp) -> dict[str, list[str]]:
    """Walk /iiif/collection → institutions → collections; return collection → manifest ids."""
    found: dict[str, list[str]] = {}
    top = json.loads(web.get("/iiif/collection").body)
    for inst in top["items"]:
        for coll in json.loads(web.get(path(inst["id"])).body)["items"]:
            members = json.loads(web.get(path(coll["id"])).body)["items"]
            found[path(coll["id"]).rsplit("/", 1)[-1]] = [m["id"] for m in members]
    return found


def refused_without_change(arrange, item_id: str, before_state: str, before: int) -> None:
    assert state_of(arrange, item_id) == before_state
    assert len(all_events(arrange, item_id)) == before


# -- 1. the happy path ----------------------------------------------------------------------


def test_an_item_goes_from_nomination_to_publication_and_is_withdrawn(
    app, arrange, consortium, people
):
    p = people
    item = "pns-ms-0200"
    created = p.curator.web.post_json(
        "/api/items",
        {
            "id": item,
            "collection": COLLECTION,
            "metadata": {"title": [{"value": "Hikayat Nakhoda Muda", "lang": "ms"}]},
        },
        headers=p.curator.headers,
        status=201,
    )
    assert created.json["state"] == "nominated"

    selected = p.curator.move(item, "selected").json
    assert (selected["item"], selected["from"], selected["state"]) == (
        item,
        "nominated",
        "selected",
    )
    assert selected["event"]["type"] == "appraisal"
    assert selected["event"]["workflow"]["agent"] == "user:pns-curator"
    assert "agents" not in selected["event"]

    assert p.digitizer.move(item, "capture").json["state"] == "capture"
    uploaded = p.digitizer.upload(item, [("f1r.jpg", good_page(1)), ("f1v.jpg", good_page(2))])
    assert [r["outcome"] for r in uploaded.json["files"]] == ["stored", "stored"]
    assert p.digitizer.move(item, "qa").json["state"] == "qa"
    passed = p.digitizer.move(item, "description", qa_signoff=True).json
    assert passed["state"] == "description"
    assert passed["event"]["workflow"]["qa_signoff"] is True

    p.cataloguer.patch(item, {"metadata": FULL_METADATA})
    assert p.cataloguer.move(item, "rights-review").json["state"] == "rights-review"

    p.rights.patch(item, {"rights": RIGHTS, "access": "public"})
    assert p.rights.move(item, "preservation").json["state"] == "preservation"

    # A master whose last fixity audit failed holds publication until an audit passes.
    def audit(root: Any, failure: dict[str, Any] | None) -> None:
        root.audits.record(item, "2", when="2026-01-01T00:00:00+00:00", failure=failure)

    arrange(lambda root: audit(root, {"detail": "sha256 mismatch"}))
    unmet = p.curator.move(item, "published", status=409).json["unmet"]
    assert any("file 2" in u and "fixity audit" in u for u in map(str, unmet)), unmet
    arrange(lambda root: audit(root, None))
    published = p.curator.move(item, "published").json
    assert published["state"] == "published"
    assert published["event"]["type"] == "dissemination"

    # Published: the public sees the page and the manifest, in the IIIF tree and the feed.
    anon = webtest.TestApp(app)
    anon.get(f"/items/{item}", status=200)
    manifest_url = f"/iiif/manifests/{item}"
    manifest = json.loads(anon.get(manifest_url, status=200).body)
    assert manifest["id"].endswith(manifest_url)
    assert len(manifest["items"]) == 2
    tree = manifests_in_tree(anon)
    assert [path(m) for m in tree[COLLECTION]].count(manifest_url) == 1
    assert all(manifest_url not in map(path, ids) for c, ids in tree.items() if c != COLLECTION)
    mine = [(a["type"], path(a["object"]["id"])) for a in feed(anon)]
    assert mine.count(("Create", manifest_url)) == 1
    assert ("Delete", manifest_url) not in mine

    # Withdrawn with a reason: gone for the public, a Delete in the feed.
    withdrawn = p.curator.move(item, "withdrawn", note="Ownership disputed").json
    assert withdrawn["state"] == "withdrawn"
    assert withdrawn["event"]["note"] == "Ownership disputed"
    anon.get(manifest_url, status=404)
    anon.get(f"/items/{item}", status=404)
    assert manifest_url not in map(path, manifests_in_tree(anon)[COLLECTION])
    mine = [(a["type"], path(a["object"]["id"])) for a in feed(anon)]
    assert mine[-1] == ("Delete", manifest_url)
    assert mine.index(("Create", manifest_url)) < mine.index(("Delete", manifest_url))

    # Every step is in the record, in order, with who made it.
    recorded = [
        (e["workflow"]["source"], e["workflow"]["target"], e["workflow"]["agent"])
        for e in moves(arrange, item)
    ]
    assert recorded == [
        ("nominated", "selected", "user:pns-curator"),
        ("selected", "capture", "user:pns-digitizer"),
        ("capture", "qa", "user:pns-digitizer"),
        ("qa", "description", "user:pns-digitizer"),
        ("description", "rights-review", "user:pns-cataloguer"),
        ("rights-review", "preservation", "user:pns-rights"),
        ("preservation", "published", "user:pns-curator"),
        ("published", "withdrawn", "user:pns-curator"),
    ]
    counts = arrange(lambda root: root.institutions["pns"].counts())
    assert counts["withdrawn"] == 1
    assert all(counts.get(s, 0) == 0 for s in ("nominated", "selected", "qa", "preservation"))


# -- 2. who may, and what stands in the way ---------------------------------------------------


def test_a_person_without_the_role_is_refused(arrange, consortium, people):
    p = people
    item = place(arrange, "pns-ms-0300", "selected")
    before = len(all_events(arrange, item))

    refused = p.cataloguer.move(item, "capture", status=403).json
    assert refused["roles"] == ["admin", "curator", "digitizer"]
    assert "Only curator or digitizer or admin" in refused["error"]
    p.rights.move(item, "capture", status=403)
    # Another institution's curator: the unpublished item does not exist for them.
    p.kaltim.move(item, "capture", status=404)
    # Anonymous: not there either, with or without a CSRF token.
    p.anonymous.move(item, "capture", status=404)
    p.anonymous.web.post_json(f"/api/items/{item}/transitions", {"to": "capture"}, status=404)
    refused_without_change(arrange, item, "selected", before)

    # A published item is there for everyone to see, but only its curator may withdraw it.
    public = consortium.public
    before = len(all_events(arrange, public))
    p.kaltim.move(public, "withdrawn", note="not ours to withdraw", status=403)
    p.anonymous.move(public, "withdrawn", note="vandalism", status=403)
    p.digitizer.move(public, "withdrawn", note="wrong role", status=403)
    # Without a CSRF token the request is refused before the roles are looked at.
    p.anonymous.web.post_json(
        f"/api/items/{public}/transitions", {"to": "withdrawn", "note": "x"}, status=400
    )
    p.kaltim.web.post(
        f"/staff/items/{public}/transition",
        {"to": "withdrawn", "note": "x", "csrf_token": p.kaltim.headers["X-CSRF-Token"]},
        status=403,
    )
    refused_without_change(arrange, public, "published", before)


def test_an_unmet_condition_is_409_with_every_reason_and_changes_nothing(
    arrange, consortium, people
):
    p = people
    unmet = {}

    empty = place(arrange, "pns-ms-0301", "capture")
    before = len(all_events(arrange, empty))
    answer = p.digitizer.move(empty, "qa", status=409).json
    assert answer["state"] == "capture"
    unmet["no files"] = answer["unmet"]
    refused_without_change(arrange, empty, "capture", before)

    described = place(arrange, "pns-ms-0302", "description")  # title and date only
    answer = p.cataloguer.move(described, "rights-review", status=409).json
    unmet["metadata"] = answer["unmet"]
    assert state_of(arrange, described) == "description"

    indigenous = place(arrange, "pns-ms-0303", "rights-review", indigenous=True, rights="")
    answer = p.rights.move(indigenous, "preservation", status=409).json
    unmet["rights"] = answer["unmet"]
    arrange(lambda root: setattr(root.items[indigenous], "consultation", "community: restrict"))
    p.rights.patch(indigenous, {"rights": RIGHTS})
    assert p.rights.move(indigenous, "preservation").json["state"] == "preservation"

    public = consortium.public
    before = len(all_events(arrange, public))
    unmet["withdraw"] = p.curator.move(public, "withdrawn", status=409).json["unmet"]
    unmet["blank note"] = p.curator.move(public, "withdrawn", note="  \n", status=409).json["unmet"]
    refused_without_change(arrange, public, "published", before)

    assert unmet == {
        "no files": ["Upload at least one file: this item has none yet"],
        "metadata": ["Required fields are missing: type, language"],
        "rights": [
            "Choose a rights statement",
            "Record the community consultation decision: this is Indigenous cultural material",
        ],
        "withdraw": ["Give a reason for withdrawing the item"],
        "blank note": ["Give a reason for withdrawing the item"],
    }


def test_qa_needs_the_sign_off_and_files_that_pass(arrange, consortium, people):
    p = people
    item = place(arrange, "pns-ms-0310", "qa")
    flagged = p.digitizer.upload(item, [("good.jpg", good_page(3)), ("blank.jpg", blank_page())])
    assert [r["outcome"] for r in flagged.json["files"]] == ["stored", "flagged"]
    before = len(all_events(arrange, item))

    answer = p.digitizer.move(item, "description", status=409).json
    assert answer["unmet"] == [
        "1 file failed automatic QA and has no signed-off exception: 2",
        "Sign off the QA: confirm that you have looked at the images yourself",
    ]
    signed = p.curator.move(item, "description", qa_signoff=True, status=409).json
    assert signed["unmet"] == [answer["unmet"][0]]
    refused_without_change(arrange, item, "qa", before)

    # A signed-off exception for the flagged page lets it through.
    arrange(lambda root: setattr(root.items[item].files["2"], "qa_exception", "blank endleaf"))
    assert p.digitizer.move(item, "description", qa_signoff=True).json["state"] == "description"


def test_a_move_that_does_not_exist_names_the_reachable_states(arrange, consortium, people):
    p = people
    item = place(arrange, "pns-ms-0320", "nominated")
    before = len(all_events(arrange, item))
    answer = p.curator.move(item, "published", status=409).json
    assert answer["state"] == "nominated"
    assert answer["unmet"] == [
        "An item in nominated cannot go to published; it can go to: selected, rejected, deferred"
    ]
    # Even a person who may not make any move from here learns it does not exist.
    p.admin.move(item, "nominated", status=409)
    refused_without_change(arrange, item, "nominated", before)

    rejected = place(arrange, "pns-ms-0321", "rejected")
    answer = p.admin.move(rejected, "nominated", status=409).json
    assert answer["unmet"] == [
        "An item in rejected cannot go to nominated; it cannot move on from rejected"
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "archived"}, "to"),
        ({"note": "no target"}, "to"),
        ({"to": "deferred", "defer_until": "31/12/2030"}, "defer_until"),
        ({"to": "deferred", "defer_until": "2030-02-30"}, "defer_until"),
        ({"to": "capture", "rescan": "1"}, "rescan"),
        ({"to": "selected", "colour": "red"}, "colour"),
        ({"to": "selected", "note": "x" * 5001}, "note"),
    ],
)
def test_bad_input_is_400_naming_the_field(arrange, consortium, staff, app, body, field):
    curator = Person(app, "pns-curator")
    item = place(arrange, "pns-ms-0330", "nominated")
    before = len(all_events(arrange, item))
    answer = curator.web.post_json(
        f"/api/items/{item}/transitions", body, headers=curator.headers, status=400
    )
    assert field in answer.json["errors"]
    refused_without_change(arrange, item, "nominated", before)


def test_only_a_true_qa_signoff_signs_off(arrange, consortium, people):
    p = people
    item = place(arrange, "pns-ms-0333", "qa")
    p.digitizer.upload(item, [("f1r.jpg", good_page(6))])
    for value in ("no", None, []):
        answer = p.digitizer.move(item, "description", qa_signoff=value, status="*")
        assert (answer.status_int, state_of(arrange, item)) == (400, "qa"), answer.text
        assert "qa_signoff" in answer.json["errors"]
    assert moves(arrange, item) == []


def test_a_body_that_is_not_a_json_object_is_400(arrange, consortium, app):
    curator = Person(app, "pns-curator")
    item = place(arrange, "pns-ms-0331", "nominated")
    url = f"/api/items/{item}/transitions"
    for body in (b"to=selected", b"", b'["selected"]', b"\xff\xfe"):
        answer = curator.web.post(
            url,
            body,
            headers={**curator.headers, "Content-Type": "application/json"},
            status=400,
        )
        assert "body" in answer.json["errors"], body
    assert state_of(arrange, item) == "nominated"
    assert moves(arrange, item) == []


def test_deferral_needs_a_date_in_the_future(arrange, consortium, app):
    curator = Person(app, "pns-curator")
    item = place(arrange, "pns-ms-0332", "nominated")
    today = date.today()
    missing = curator.move(item, "deferred", status=409).json["unmet"]
    assert missing == ["Give the date until which the item is deferred"]
    past = curator.move(item, "deferred", defer_until=today.isoformat(), status=409).json
    assert past["unmet"] == [
        f"Choose a date after today to defer until: {today.isoformat()} is not in the future"
    ]
    until = (today + timedelta(days=30)).isoformat()
    deferred = curator.move(item, "deferred", defer_until=until).json
    assert deferred["event"]["workflow"]["defer_until"] == until
    assert arrange(lambda root: root.items[item].deferred_until) == until


# -- 3. the record and the staff page -----------------------------------------------------------


def test_every_transition_is_recorded_with_who_when_from_to_note_and_guards(
    arrange, consortium, people
):
    p = people
    item = place(arrange, "pns-ms-0400", "nominated")
    started = datetime.now().astimezone()
    p.curator.move(item, "deferred", defer_until=str(date.today() + timedelta(days=7)))
    p.curator.move(item, "nominated", note="funding found")
    p.admin.move(item, "rejected", note="Duplicate of pns-ms-0001", qa_signoff=True)

    events = moves(arrange, item)
    assert [e["type"] for e in events] == ["appraisal", "metadata modification", "appraisal"]
    defer, back, reject = (e["workflow"] for e in events)
    assert (defer["source"], defer["target"]) == ("nominated", "deferred")
    assert defer["guard_results"] == [find("nominated", "deferred").conditions[0].text]
    assert defer["defer_until"] == str(date.today() + timedelta(days=7))
    assert back["guard_results"] == [] and back["note"] == "funding found"
    assert reject == {
        "agent": "user:admin",
        "when": reject["when"],
        "source": "nominated",
        "target": "rejected",
        "note": "Duplicate of pns-ms-0001",
        "guard_results": ["A reason for the rejection"],
        "send_back": False,
        "notify": [],
        "defer_until": None,
        "qa_signoff": False,  # not asked by this move, so not recorded
        "rescan": [],
    }
    for e in events:
        when = datetime.fromisoformat(e["workflow"]["when"])
        assert started - timedelta(seconds=1) <= when <= datetime.now().astimezone()
        assert e["agents"] == ({"type": "person", "name": e["workflow"]["agent"]}, APP_AGENT)
        assert e["objects"] == (item,)
        assert e["note"] == e["workflow"]["note"]
        assert e["detail"] == f"{e['workflow']['source']} → {e['workflow']['target']}"
    assert arrange(lambda root: root.items[item].state) == "rejected"


def _forms(page: webtest.TestResponse) -> dict[str, Any]:
    """The transition forms of a staff page, by target state."""
    soup = BeautifulSoup(page.text, "html.parser")
    out = {}
    for form in soup.select("ul.transitions form"):
        out[form.find("input", attrs={"name": "to"})["value"]] = form
    return out


def test_the_staff_page_shows_buttons_with_reasons_and_the_history(arrange, consortium, people):
    p = people
    item = place(arrange, "pns-ms-0410", "capture")
    page = p.digitizer.web.get(f"/staff/items/{item}")
    forms = _forms(page)
    assert set(forms) == {"qa"}  # a digitizer may not send capture back anywhere
    button = forms["qa"].find("button")
    assert button.has_attr("disabled")
    assert button.get_text(strip=True) == "Send to quality check"
    reasons = [li.get_text(strip=True) for li in forms["qa"].select("ul.checks li")]
    assert reasons == ["Upload at least one file: this item has none yet"]
    assert "History" not in page.text

    # Capture is the first work step: nothing to send back to, so the curator has no move.
    curator_forms = _forms(p.curator.web.get(f"/staff/items/{item}"))
    assert set(curator_forms) == set()
    cataloguer_page = p.cataloguer.web.get(f"/staff/items/{item}")
    assert "Your roles allow no move from here." in cataloguer_page.text

    # A nominated item: the curator selects it through the form.
    nominated = place(arrange, "pns-ms-0411", "nominated")
    page = p.curator.web.get(f"/staff/items/{nominated}")
    forms = _forms(page)
    assert set(forms) == {"selected", "rejected", "deferred"}
    assert not any(f.find("button").has_attr("disabled") for f in forms.values())
    assert forms["rejected"].find("input", attrs={"name": "note"}).has_attr("required")
    assert forms["deferred"].find("input", attrs={"name": "defer_until"})["type"] == "date"
    form = next(f for f in page.forms.values() if "to" in f.fields and f["to"].value == "selected")
    done = form.submit(status=302)
    assert path(done.location) == f"/staff/items/{nominated}"
    shown = done.follow()
    assert re.search(r"Moved to <strong>Selected</strong>", shown.text)
    history = BeautifulSoup(shown.text, "html.parser").select("ol.events li")
    assert len(history) == 1
    assert "user:pns-curator" in history[0].get_text()
    assert "Nominated → Selected" in " ".join(history[0].get_text().split())
    assert "Moved to" not in p.curator.web.get(f"/staff/items/{nominated}").text  # shown once
    assert state_of(arrange, nominated) == "selected"


def test_a_refused_form_transition_says_why_and_changes_nothing(arrange, consortium, people):
    p = people
    item = place(arrange, "pns-ms-0420", "nominated")
    page = p.curator.web.get(f"/staff/items/{item}")
    form = next(f for f in page.forms.values() if "to" in f.fields and f["to"].value == "rejected")
    shown = form.submit(status=302).follow()  # the note left empty
    assert "Not moved:" in shown.text
    assert "Give a reason for rejecting the item" in shown.text
    assert state_of(arrange, item) == "nominated" and moves(arrange, item) == []

    form["note"] = "Out of scope for the project"
    shown = form.submit(status=302).follow()
    assert re.search(r"Moved to <strong>Rejected</strong>", shown.text)
    assert "“Out of scope for the project”" in shown.text
    assert [e["workflow"]["note"] for e in moves(arrange, item)] == ["Out of scope for the project"]


def test_a_form_transition_without_the_csrf_token_is_refused(arrange, consortium, people):
    p = people
    item = place(arrange, "pns-ms-0430", "nominated")
    url = f"/staff/items/{item}/transition"
    p.curator.web.post(url, {"to": "selected"}, status=400)
    p.curator.web.post(url, {"to": "selected", "csrf_token": "forged"}, status=400)
    p.curator.web.post_json(f"/api/items/{item}/transitions", {"to": "selected"}, status=400)
    assert state_of(arrange, item) == "nominated" and moves(arrange, item) == []
    # The role check still holds for a form with its token: a digitizer may not select.
    token = _forms(p.curator.web.get(f"/staff/items/{item}"))["selected"].find(
        "input", attrs={"name": "csrf_token"}
    )["value"]
    assert token == p.curator.headers["X-CSRF-Token"]
    shown = p.digitizer.web.post(
        url, {"to": "selected", "csrf_token": p.digitizer.headers["X-CSRF-Token"]}, status=302
    ).follow()
    assert "Only curator or admin may move an item from nominated to selected" in shown.text
    assert state_of(arrange, item) == "nominated" and moves(arrange, item) == []


# -- 4. sending back ----------------------------------------------------------------------------


def test_qa_sends_an_item_back_for_a_rescan_of_named_pages(arrange, consortium, people):
    p = people
    item = place(arrange, "pns-ms-0500", "qa")
    p.digitizer.upload(item, [("f1r.jpg", good_page(4)), ("f1v.jpg", good_page(5))])
    before = len(all_events(arrange, item))

    unknown = p.digitizer.move(item, "capture", note="Rescan 9", rescan=["9"], status=409).json
    assert unknown["unmet"] == ["These pages to rescan are not files of this item: 9"]
    no_note = p.digitizer.move(item, "capture", rescan=["1"], status=409).json
    assert no_note["unmet"] == ["Say what to rescan and why (name the pages)"]
    p.cataloguer.move(item, "capture", note="Rescan 1", rescan=["1"], status=403)
    refused_without_change(arrange, item, "qa", before)

    sent = p.digitizer.move(item, "capture", note="Page 1 is cropped at the gutter", rescan=["1"])
    assert sent.json["state"] == "capture"
    (event,) = moves(arrange, item)
    assert event["note"] == "Page 1 is cropped at the gutter"
    assert event["workflow"]["rescan"] == ["1"]
    assert event["workflow"]["send_back"] is True
    assert event["workflow"]["notify"] == ["digitizer"]
    assert event["workflow"]["guard_results"] == [
        "A note saying what to fix",
        "The pages named for rescan are files of the item",
    ]
    history = p.digitizer.web.get(f"/staff/items/{item}").text
    assert "“Page 1 is cropped at the gutter”" in history
    assert "(rescan: 1)" in history

    # Through the form, pages are typed as a list separated by spaces or commas.
    p.digitizer.move(item, "qa")
    page = p.digitizer.web.get(f"/staff/items/{item}")
    form = next(f for f in page.forms.values() if "to" in f.fields and f["to"].value == "capture")
    form["note"] = "Both pages blurred"
    form["rescan"] = "1, 2"
    form.submit(status=302)
    assert moves(arrange, item)[-1]["workflow"]["rescan"] == ["1", "2"]
    assert state_of(arrange, item) == "capture"


# -- 5. two people at the same moment -----------------------------------------------------------

ROUNDS = 5


def race(calls: list[Any]) -> list[webtest.TestResponse]:
    """Run the calls in threads that start together; return their responses in call order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(n: int) -> None:
        barrier.wait()
        try:
            results[n] = calls[n]()
        except BaseException as exc:  # raised in the test's thread below
            results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


class Interleave:
    """Hold the first two attempts of each round until both have read the item.

    Both transactions then start from the same state, so one of them must lose at commit
    (a ConflictError) and be retried: the retry path is taken in every round, not by luck.
    """

    def __init__(self, real: Any) -> None:
        self.real = real
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, str]] = []
        self.barrier = threading.Barrier(2, timeout=10)

    def __call__(self, item: Any, roles: Any, request: Any, agent: str) -> Any:
        with self.lock:
            self.seen.append((item.item_id, item.state, request.target))
            first_two = sum(1 for i, *_ in self.seen if i == item.item_id) <= 2
        if first_two:
            self.barrier.wait()
        return self.real(item, roles, request, agent)


@pytest.fixture(params=["at-once", "interleaved"])
def interleave(request, monkeypatch) -> Interleave | None:
    """``at-once``: the requests only start together; ``interleaved``: see :class:`Interleave`."""
    if request.param == "at-once":
        return None
    spy = Interleave(transitions_view.apply_transition)
    monkeypatch.setattr(transitions_view, "apply_transition", spy)
    return spy


def test_two_conflicting_moves_at_once_leave_one_state_and_one_event(
    arrange, consortium, people, interleave
):
    p = people
    outcomes = []
    for n in range(ROUNDS):
        item = place(arrange, f"pns-ms-06{n:02d}", "nominated")
        selected, rejected = race(
            [
                partial(p.curator.move, item, "selected", status="*"),
                partial(p.admin.move, item, "rejected", note="not for us", status="*"),
            ]
        )
        statuses = (selected.status_int, rejected.status_int)
        assert sorted(statuses) == [200, 409], (n, selected.text, rejected.text)
        winner = "selected" if selected.status_int == 200 else "rejected"
        outcomes.append(winner)
        assert state_of(arrange, item) == winner
        events = moves(arrange, item)
        assert [e["workflow"]["target"] for e in events] == [winner]
        loser = rejected if winner == "selected" else selected
        assert loser.json["state"] == winner
        assert loser.json["unmet"][0].startswith(f"An item in {winner} cannot go to")
        if interleave is not None:  # both read "nominated"; the loser was retried once
            attempts = [(s, t) for i, s, t in interleave.seen if i == item]
            assert sorted(attempts[:2]) == [("nominated", "rejected"), ("nominated", "selected")]
            assert attempts[2:] == [(winner, "rejected" if winner == "selected" else "selected")]
    counts = arrange(lambda root: root.institutions["pns"].counts())
    assert counts.get("nominated", 0) == 0
    assert counts.get("selected", 0) == outcomes.count("selected")
    assert counts.get("rejected", 0) == outcomes.count("rejected")


def test_the_same_move_twice_at_once_is_made_once(arrange, consortium, people, interleave):
    p = people
    for n in range(ROUNDS):
        item = place(arrange, f"pns-ms-07{n:02d}", "selected")
        first, second = race(
            [
                partial(p.digitizer.move, item, "capture", status="*"),
                partial(p.curator.move, item, "capture", status="*"),
            ]
        )
        statuses = (first.status_int, second.status_int)
        assert sorted(statuses) == [200, 409], (n, first.text, second.text)
        assert state_of(arrange, item) == "capture"
        events = moves(arrange, item)
        assert [(e["workflow"]["source"], e["workflow"]["target"]) for e in events] == [
            ("selected", "capture")
        ]
        winner, loser = (first, second) if first.status_int == 200 else (second, first)
        assert events[0]["workflow"]["agent"] == winner.json["event"]["workflow"]["agent"]
        assert loser.json["unmet"] == ["An item in capture cannot go to capture; it can go to: qa"]
        if interleave is not None:
            attempts = [s for i, s, _ in interleave.seen if i == item]
            assert attempts == ["selected", "selected", "capture"]
    counts = arrange(lambda root: root.institutions["pns"].counts())
    assert counts["capture"] == ROUNDS + 1  # and consortium.unpublished
    assert counts.get("selected", 0) == 0
