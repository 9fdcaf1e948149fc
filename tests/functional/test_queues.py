"""Work queues and batch transitions over the whole application (``heritage.views.queues``).

Each person is a ``webtest.TestApp`` over the one WSGI application and its temporary
FileStorage, logged in through the real form. Items are placed in their states directly; the
files that a send-back names are bare ``File`` records (no image is needed to name a page).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import webtest
from bs4 import BeautifulSoup
from support import PASSWORD, csrf_token, login, make_item

from heritage.resources.files import File
from heritage.resources.users import User
from heritage.views import queues as queues_view

MANUSCRIPTS = "pns-manuscripts"
ORAL = "pns-oral-history"
#: People besides the consortium's (username → (role, institution)).
STAFF = {
    "pns-digitizer": ("digitizer", "pns"),
    "pns-cataloguer": ("cataloguer", "pns"),
    "pns-rights": ("rights-officer", "pns"),
    "kaltim-digitizer": ("digitizer", "kaltim"),
}
#: Items placed at pns for the queues: id → (collection, state, number of files).
PLACED = {
    "pns-ms-0100": (MANUSCRIPTS, "nominated", 0),
    "pns-ms-0101": (MANUSCRIPTS, "deferred", 0),
    "pns-ms-0102": (MANUSCRIPTS, "selected", 0),
    "pns-ms-0103": (MANUSCRIPTS, "qa", 2),
    "pns-ms-0104": (MANUSCRIPTS, "description", 1),
    "pns-ms-0105": (MANUSCRIPTS, "rights-review", 1),
    "pns-ms-0106": (MANUSCRIPTS, "preservation", 1),
    "pns-oh-0100": (ORAL, "capture", 1),
    "pns-oh-0101": (ORAL, "capture", 0),
}
#: What waits for each role at pns; the consortium adds pns-ms-0002 in capture.
QUEUES = {
    "curator": ["pns-ms-0100", "pns-ms-0101", "pns-ms-0106"],
    "digitizer": ["pns-ms-0002", "pns-ms-0102", "pns-ms-0103", "pns-oh-0100", "pns-oh-0101"],
    "cataloguer": ["pns-ms-0104"],
    "rights-officer": ["pns-ms-0105"],
}
USER_OF_ROLE = {
    "curator": "pns-curator",
    "digitizer": "pns-digitizer",
    "cataloguer": "pns-cataloguer",
    "rights-officer": "pns-rights",
}


def add_files(item: Any, count: int) -> None:
    for n in range(count):
        item.files.append(File(f"page-{n + 1}.tif"))


@pytest.fixture
def placed(arrange, consortium) -> dict[str, tuple[str, str, int]]:
    """The staff of ``STAFF`` and the items of ``PLACED``, committed."""

    def work(root: Any) -> None:
        for username, (role, inst) in STAFF.items():
            user = User(username)
            user.set_password(PASSWORD)
            user.add_role(role, inst)
            root.users.add(username, user)
        for item_id, (collection, state, files) in PLACED.items():
            item = root.collections[collection].add_item(
                make_item(item_id, f"Naskhah {item_id}", state=state)
            )
            add_files(item, files)

    arrange(work)
    return PLACED


class Person:
    """One browser: its own cookies over the shared WSGI application."""

    def __init__(self, app: Any, username: str | None = None) -> None:
        self.web = webtest.TestApp(app)
        if username is not None:
            login(self.web, username)
        self.headers = {"X-CSRF-Token": csrf_token(self.web)}

    def queue(self, role: str, institution: str = "pns", **kw: Any) -> webtest.TestResponse:
        return self.web.get("/staff/queue", {"institution": institution, "role": role}, **kw)

    def batch(self, body: dict[str, Any], *, status: int | str = 200) -> webtest.TestResponse:
        return self.web.post_json("/api/transitions", body, headers=self.headers, status=status)

    def move(self, item_id: str, to: str, **fields: Any) -> webtest.TestResponse:
        return self.web.post_json(
            f"/api/items/{item_id}/transitions", {"to": to, **fields}, headers=self.headers
        )


@pytest.fixture
def person(app, placed):
    return lambda username=None: Person(app, username)


def listed(page: webtest.TestResponse) -> list[str]:
    """The item ids on a queue page, in order (the values of its checkboxes)."""
    soup = BeautifulSoup(page.text, "html.parser")
    return [box["value"] for box in soup.select('#batch-form input[name="items"]')]


def row_of(page: webtest.TestResponse, item_id: str) -> Any:
    soup = BeautifulSoup(page.text, "html.parser")
    box = soup.select_one(f'#batch-form input[name="items"][value="{item_id}"]')
    return box.find_parent("tr")


def state_of(arrange, item_id: str) -> str:
    return arrange(lambda root: root.items[item_id].state)


def snapshot(arrange, item_ids: list[str]) -> dict[str, tuple[str, int]]:
    """Each item's state and number of events, and the institutions' counters."""

    def work(root: Any) -> dict[str, Any]:
        found = {i: (root.items[i].state, len(root.items[i].events)) for i in item_ids}
        found["counts"] = {k: root.institutions[k].counts() for k in ("pns", "kaltim")}
        return found

    return arrange(work)


def check(page: webtest.TestResponse, item_id: str) -> None:
    """Tick an item's checkbox in the queue page's batch form."""
    form = page.forms["batch-form"]
    form.get("items", index=listed(page).index(item_id)).checked = True


# -- what each queue holds ----------------------------------------------------------------------


@pytest.mark.parametrize("role", sorted(QUEUES))
def test_each_role_sees_the_items_in_its_queue_states(person, role):
    page = person(USER_OF_ROLE[role]).queue(role)
    assert listed(page) == QUEUES[role]
    for item_id in QUEUES[role]:
        row = row_of(page, item_id)
        link = row.find("a")
        assert link["href"] == f"http://localhost/staff/items/{item_id}"
        title = "Syair Rahsia" if item_id == "pns-ms-0002" else f"Naskhah {item_id}"
        assert link.text == f"{title} (en)"  # the English title, for an English page
        assert row.find("time")["datetime"]
        assert "Sent back" not in row.text


def test_the_queue_shows_each_item_state_and_the_counts(person):
    page = person("pns-digitizer").queue("digitizer")
    states = {i: row_of(page, i).find_all("td")[2].text for i in listed(page)}
    assert states == {
        "pns-ms-0002": "Capture",
        "pns-ms-0102": "Selected",
        "pns-ms-0103": "Quality check",
        "pns-oh-0100": "Capture",
        "pns-oh-0101": "Capture",
    }
    counts = BeautifulSoup(page.text, "html.parser").select_one(".queue-counts").text
    assert counts == "Selected: 1 · Capture: 3 · Quality check: 1"
    # The batch form offers the moves a digitizer makes from those states.
    options = page.forms["batch-form"]["to"].options
    assert [value for value, _, _ in options] == ["capture", "qa", "description"]


def test_an_admin_sees_every_queue_state_of_any_institution(person):
    admin = person("admin")
    everything = sorted(i for ids in QUEUES.values() for i in ids)
    assert listed(admin.queue("admin")) == everything
    assert listed(admin.queue("digitizer")) == QUEUES["digitizer"]
    assert listed(admin.queue("admin", "kaltim")) == ["kaltim-ms-0002"]


def test_a_queue_holds_only_its_institutions_items(person):
    # kaltim-ms-0002 is in qa at kaltim: it waits for kaltim's digitizers, not pns's.
    assert "kaltim-ms-0002" not in listed(person("pns-digitizer").queue("digitizer"))
    assert listed(person("kaltim-digitizer").queue("digitizer", "kaltim")) == ["kaltim-ms-0002"]


def test_an_empty_queue_says_so(person, arrange):
    arrange(lambda root: root.items["pns-ms-0104"].set_state("rights-review"))
    page = person("pns-cataloguer").queue("cataloguer")
    assert "Nothing is waiting here." in page.text
    assert "batch-form" not in page.forms


@pytest.mark.parametrize(
    ("username", "params", "status"),
    [
        ("pns-digitizer", {"institution": "pns", "role": "curator"}, 403),
        ("pns-cataloguer", {"institution": "pns", "role": "digitizer"}, 403),
        ("pns-curator", {"institution": "pns", "role": "admin"}, 403),
        ("kaltim-digitizer", {"institution": "pns", "role": "digitizer"}, 403),
        ("pns-digitizer", {"institution": "kaltim", "role": "digitizer"}, 403),
        ("reader", {"institution": "pns", "role": "digitizer"}, 403),
        ("pns-digitizer", {"institution": "pns", "role": "janitor"}, 400),
        ("pns-digitizer", {"institution": "pns"}, 400),
        ("pns-digitizer", {"role": "digitizer"}, 400),
        ("pns-digitizer", {"institution": "nowhere", "role": "digitizer"}, 404),
    ],
)
def test_a_queue_is_refused_without_the_role_there(person, username, params, status):
    person(username).web.get("/staff/queue", params, status=status)


def test_anonymous_is_asked_to_log_in(person):
    answer = person().queue("digitizer", status=302)
    assert "/staff/login" in answer.location


def test_a_long_queue_is_paged_by_item_id_across_collections(person, monkeypatch):
    monkeypatch.setattr(queues_view, "PAGE_SIZE", 2)
    digitizer = person("pns-digitizer")
    seen: list[list[str]] = []
    page = digitizer.queue("digitizer")
    while True:
        seen.append(listed(page))
        nxt = BeautifulSoup(page.text, "html.parser").select_one('a[rel="next"]')
        if nxt is None:
            break
        assert parse_qs(urlsplit(nxt["href"]).query)["after"] == [seen[-1][-1]]
        page = digitizer.web.get(nxt["href"])
    assert seen == [
        ["pns-ms-0002", "pns-ms-0102"],
        ["pns-ms-0103", "pns-oh-0100"],
        ["pns-oh-0101"],
    ]


def test_a_full_last_page_has_no_next_link(person, monkeypatch):
    monkeypatch.setattr(queues_view, "PAGE_SIZE", 3)
    page = person("pns-curator").queue("curator")
    assert listed(page) == QUEUES["curator"]
    assert 'rel="next"' not in page.text


# -- send-back notes ----------------------------------------------------------------------------


def test_a_send_back_note_is_shown_to_the_people_of_the_step(person, arrange):
    digitizer = person("pns-digitizer")
    note = "Page 2 is cropped at the gutter"
    digitizer.move("pns-ms-0103", "capture", note=note, rescan=["2"])

    page = digitizer.queue("digitizer")
    row = row_of(page, "pns-ms-0103")
    assert "sent-back" in row["class"]
    shown = row.select_one(".send-back-note").text
    assert f"Sent back by pns-digitizer: {note}" in " ".join(shown.split())
    assert "Pages to rescan: 2" in shown
    assert row.find_all("td")[2].text == "Capture"
    # Only that item carries a note.
    assert [i for i in listed(page) if row_of(page, i).select_one(".send-back-note")] == [
        "pns-ms-0103"
    ]

    # Once the item moves on, the note is done with.
    digitizer.move("pns-ms-0103", "qa")
    assert row_of(digitizer.queue("digitizer"), "pns-ms-0103").select_one(".send-back-note") is None


def test_a_send_back_to_description_reaches_the_cataloguer(person):
    person("pns-rights").move("pns-ms-0105", "description", note="The creator's name is misspelt")
    page = person("pns-cataloguer").queue("cataloguer")
    assert listed(page) == ["pns-ms-0104", "pns-ms-0105"]
    shown = " ".join(row_of(page, "pns-ms-0105").select_one(".send-back-note").text.split())
    assert shown == "Sent back by pns-rights: The creator's name is misspelt"
    assert "Pages to rescan" not in shown
    assert row_of(page, "pns-ms-0104").select_one(".send-back-note") is None


def test_the_note_is_found_behind_many_later_events(person, arrange):
    person("pns-digitizer").move("pns-ms-0103", "capture", note="Rescan page 1", rescan=["1"])

    def busy(root: Any) -> None:
        for n in range(30):  # e.g. the rescanned pages' ingestion events
            root.items["pns-ms-0103"].events.record("fixity check", detail=f"check {n}")

    arrange(busy)
    row = row_of(person("pns-digitizer").queue("digitizer"), "pns-ms-0103")
    assert "Rescan page 1" in row.select_one(".send-back-note").text


# -- batch transitions: the API ---------------------------------------------------------------


def test_a_batch_moves_what_it_can_and_reports_every_item(person, arrange):
    digitizer = person("pns-digitizer")
    ids = [
        "pns-oh-0100",  # capture, with a file: moves
        "pns-ms-0002",  # capture, no files: a guard refuses
        "kaltim-ms-0002",  # another institution's unpublished item: hidden
        "pns-ms-9999",  # no such item
        "kaltim-ms-0001",  # published at kaltim: visible, but no move to qa
        "pns-ms-0103",  # qa already: no move from qa to qa
        "pns-oh-0100",  # repeated: tried once
    ]
    before = snapshot(arrange, ["pns-ms-0002", "kaltim-ms-0002", "pns-ms-0103"])
    answer = digitizer.batch({"items": ids, "to": "qa"}).json

    assert (answer["to"], answer["moved"], answer["refused"]) == ("qa", 1, 5)
    results = {r["id"]: r for r in answer["results"]}
    assert [r["id"] for r in answer["results"]] == list(dict.fromkeys(ids))
    assert results["pns-oh-0100"] == {"id": "pns-oh-0100", "ok": True, "state": "qa"}
    assert results["pns-ms-0002"] == {
        "id": "pns-ms-0002",
        "ok": False,
        "state": "capture",
        "error": "The item cannot move yet.",
        "unmet": ["Upload at least one file: this item has none yet"],
    }
    # Hidden and missing answer alike, revealing neither the state nor the existence.
    hidden = {k: v for k, v in results["kaltim-ms-0002"].items() if k != "id"}
    missing = {k: v for k, v in results["pns-ms-9999"].items() if k != "id"}
    assert hidden == missing == {"ok": False, "state": None, "error": "not found"}
    assert results["kaltim-ms-0001"]["state"] == "published"
    assert "cannot go to qa" in results["kaltim-ms-0001"]["error"]
    assert results["pns-ms-0103"]["ok"] is False

    # The move that passed is committed, with its event; the refused items are untouched.
    assert state_of(arrange, "pns-oh-0100") == "qa"
    event = arrange(lambda root: root.items["pns-oh-0100"].events.latest(1)[0])
    assert event["workflow"]["agent"] == "user:pns-digitizer"
    assert (event["workflow"]["source"], event["workflow"]["target"]) == ("capture", "qa")
    after = snapshot(arrange, ["pns-ms-0002", "kaltim-ms-0002", "pns-ms-0103"])
    assert {k: v for k, v in after.items() if k != "counts"} == {
        k: v for k, v in before.items() if k != "counts"
    }
    assert after["counts"]["pns"]["qa"] == before["counts"]["pns"]["qa"] + 1
    assert after["counts"]["pns"]["capture"] == before["counts"]["pns"]["capture"] - 1


def test_a_batch_carries_the_fields_of_the_transition(person, arrange):
    curator = person("pns-curator")
    answer = curator.batch(
        {"items": ["pns-ms-0100", "pns-ms-0101"], "to": "deferred", "defer_until": "2999-01-01"}
    ).json
    # The deferred item cannot be deferred again; the nominated one waits until 2999.
    assert [(r["id"], r["ok"]) for r in answer["results"]] == [
        ("pns-ms-0100", True),
        ("pns-ms-0101", False),
    ]
    assert arrange(lambda root: root.items["pns-ms-0100"].deferred_until) == "2999-01-01"

    refused = (
        person("pns-digitizer")
        .batch({"items": ["pns-ms-0103"], "to": "description"}, status=409)
        .json
    )
    assert refused["results"][0]["unmet"] == [
        "Sign off the QA: confirm that you have looked at the images yourself"
    ]
    signed = (
        person("pns-digitizer")
        .batch({"items": ["pns-ms-0103"], "to": "description", "qa_signoff": True})
        .json
    )
    assert signed["results"] == [{"id": "pns-ms-0103", "ok": True, "state": "description"}]


def test_a_batch_in_which_nothing_moves_is_409_and_changes_nothing(person, arrange):
    ids = ["pns-ms-0002", "pns-oh-0101", "kaltim-ms-0002", "pns-ms-9999"]
    before = snapshot(arrange, ["pns-ms-0002", "pns-oh-0101", "kaltim-ms-0002"])
    answer = person("pns-digitizer").batch({"items": ids, "to": "qa"}, status=409).json
    assert (answer["moved"], answer["refused"]) == (0, 4)
    assert [r["ok"] for r in answer["results"]] == [False] * 4
    assert snapshot(arrange, ["pns-ms-0002", "pns-oh-0101", "kaltim-ms-0002"]) == before


def test_a_role_moves_only_what_its_roles_allow(person, arrange):
    # A cataloguer may not start capture; the selected item stays where it is.
    answer = (
        person("pns-cataloguer").batch({"items": ["pns-ms-0102"], "to": "capture"}, status=409).json
    )
    assert answer["results"][0]["error"].startswith("Only curator or digitizer or admin")
    assert state_of(arrange, "pns-ms-0102") == "selected"
    # The admin may do every move, at every institution, in one batch.
    both = (
        person("admin")
        .batch(
            {
                "items": ["pns-ms-0102", "kaltim-ms-0002"],
                "to": "capture",
                "note": "Recheck",
                "rescan": [],
            }
        )
        .json
    )
    assert [(r["id"], r["ok"], r["state"]) for r in both["results"]] == [
        ("pns-ms-0102", True, "capture"),
        ("kaltim-ms-0002", True, "capture"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": [], "to": "qa"}, "items"),
        ({"items": [f"pns-ms-{n:04d}" for n in range(501)], "to": "qa"}, "items"),
        ({"items": "pns-ms-0002", "to": "qa"}, "items"),
        ({"to": "qa"}, "items"),
        ({"items": ["pns-ms-0002"]}, "to"),
        ({"items": ["pns-ms-0002"], "to": "limbo"}, "to"),
        ({"items": ["pns-ms-0002"], "to": "qa", "urgent": True}, "urgent"),
        ({"items": ["pns-ms-0002"], "to": "qa", "qa_signoff": "perhaps"}, "qa_signoff"),
    ],
)
def test_a_malformed_batch_is_400_naming_the_field(person, arrange, body, field):
    before = snapshot(arrange, ["pns-ms-0002"])
    answer = person("pns-digitizer").batch(body, status=400).json
    assert field in answer["errors"]
    assert snapshot(arrange, ["pns-ms-0002"]) == before


def test_a_batch_of_500_is_accepted(person):
    ids = [f"pns-xx-{n:04d}" for n in range(499)] + ["pns-oh-0100"]
    answer = person("pns-digitizer").batch({"items": ids, "to": "qa"}).json
    assert (answer["moved"], answer["refused"]) == (1, 499)


def test_a_batch_needs_a_login_and_the_csrf_token(person, arrange):
    before = snapshot(arrange, ["pns-oh-0100"])
    body = {"items": ["pns-oh-0100"], "to": "qa"}
    person().batch(body, status=403)
    digitizer = person("pns-digitizer")
    refused = digitizer.web.post_json("/api/transitions", body, status=400).json
    assert "CSRF" in refused["error"]
    digitizer.web.post("/api/transitions", "not json", headers=digitizer.headers, status=400)
    assert snapshot(arrange, ["pns-oh-0100"]) == before


# -- batch transitions: the queue page's form --------------------------------------------------


def test_the_queue_form_moves_the_checked_items(person, arrange):
    digitizer = person("pns-digitizer")
    page = digitizer.queue("digitizer")
    check(page, "pns-oh-0100")
    check(page, "pns-oh-0101")  # no files: refused
    form = page.forms["batch-form"]
    form["to"] = "qa"
    answer = form.submit(status=302)
    assert answer.location == "http://localhost/staff/queue?institution=pns&role=digitizer"

    back = answer.follow()
    summary = " ".join(back.html.select_one(".batch-results").text.split())
    assert "Moved 1 to Quality check; 1 not moved." in summary
    assert "pns-oh-0101: Upload at least one file: this item has none yet" in summary
    assert state_of(arrange, "pns-oh-0100") == "qa"
    assert state_of(arrange, "pns-oh-0101") == "capture"
    # The flash message is shown once.
    assert "batch-results" not in digitizer.queue("digitizer").text


def test_the_queue_form_sends_back_with_a_note_and_pages(person, arrange):
    digitizer = person("pns-digitizer")
    page = digitizer.queue("digitizer")
    check(page, "pns-ms-0103")
    form = page.forms["batch-form"]
    form["to"] = "capture"
    form["note"] = "Pages 1 and 2 are blurred"
    form["rescan"] = "1, 2"
    back = form.submit(status=302).follow()
    assert "Moved 1 to Capture; 0 not moved." in back.text
    shown = row_of(back, "pns-ms-0103").select_one(".send-back-note").text
    assert "Pages 1 and 2 are blurred" in shown
    assert "Pages to rescan: 1, 2" in shown


def test_the_queue_form_without_a_selection_moves_nothing(person, arrange):
    before = snapshot(arrange, QUEUES["digitizer"])
    page = person("pns-digitizer").queue("digitizer")
    form = page.forms["batch-form"]
    form["to"] = "qa"
    back = form.submit(status=302).follow()
    assert "Nothing was moved:" in back.text
    assert "items: give at least one item id" in back.text
    assert snapshot(arrange, QUEUES["digitizer"]) == before


def test_the_queue_form_is_refused_without_csrf_or_the_role(person, arrange):
    before = snapshot(arrange, ["pns-oh-0100"])
    digitizer = person("pns-digitizer")
    fields = {"institution": "pns", "role": "digitizer", "items": "pns-oh-0100", "to": "qa"}
    digitizer.web.post("/staff/queue/transition", fields, status=400)
    digitizer.web.post("/staff/queue/transition", {**fields, "csrf_token": "forged"}, status=400)
    token = digitizer.headers["X-CSRF-Token"]
    digitizer.web.post(
        "/staff/queue/transition",
        {**fields, "role": "curator", "csrf_token": token},
        status=403,
    )
    cataloguer = person("pns-cataloguer")
    cataloguer.web.post(
        "/staff/queue/transition",
        {**fields, "csrf_token": cataloguer.headers["X-CSRF-Token"]},
        status=403,
    )
    assert snapshot(arrange, ["pns-oh-0100"]) == before


# -- the dashboard ------------------------------------------------------------------------------


def queue_links(page: webtest.TestResponse) -> list[dict[str, list[str]]]:
    soup = BeautifulSoup(page.text, "html.parser")
    return [parse_qs(urlsplit(a["href"]).query) for a in soup.select("ul.queues a")]


def test_the_dashboard_links_each_waiting_line_to_its_queue(person):
    digitizer = person("pns-digitizer")
    dashboard = digitizer.web.get("/staff/")
    assert queue_links(dashboard) == [{"institution": ["pns"], "role": ["digitizer"]}]
    page = dashboard.click(href="/staff/queue")
    assert listed(page) == QUEUES["digitizer"]

    links = queue_links(person("admin").web.get("/staff/"))
    assert {(q["institution"][0], q["role"][0]) for q in links} == {
        ("pns", "admin"),
        ("kaltim", "admin"),
    }
