"""Nomination and selection over the whole application: the form, the API, the queue.

The consortium of ``tests/conftest.py`` (pns and kaltim) runs over a real FileStorage. Each
person is a separate ``webtest.TestApp`` logged in through the real form. A "digitized copy"
is an item with a file: a small PNG written by Pillow and added with ``Item.add_file``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import webtest
from bs4 import BeautifulSoup
from PIL import Image
from support import PASSWORD, csrf_token, login, make_item

from heritage.resources.users import User
from workflows.selection import CRITERIA, DEFAULT_WEIGHTS

COLLECTION = "pns-manuscripts"
KALTIM_COLLECTION = "kaltim-naskah"
REASON = "Fragile Jawi manuscript, asked for by researchers"


class Person:
    """One browser or script: its own cookies over the shared WSGI application."""

    def __init__(self, app: Any, username: str | None = None) -> None:
        self.web = webtest.TestApp(app)
        if username is not None:
            login(self.web, username)
        self.headers = {"X-CSRF-Token": csrf_token(self.web)}

    def nominate(self, data: dict[str, Any], status: int = 201) -> webtest.TestResponse:
        return self.web.post_json("/api/nominations", data, headers=self.headers, status=status)

    def queue(self, institution: str = "pns", status: int = 200) -> webtest.TestResponse:
        return self.web.get("/api/selection", {"institution": institution}, status=status)

    def set_weights(self, weights: Any, inst: str = "pns", status: int = 200) -> Any:
        return self.web.put_json(
            f"/api/institutions/{inst}/selection-weights",
            {"weights": weights},
            headers=self.headers,
            status=status,
        )


@dataclass
class People:
    curator: Person
    digitizer: Person
    admin: Person
    kaltim: Person
    reader: Person
    anonymous: Person


@pytest.fixture
def people(app, arrange, consortium) -> People:
    def work(root: Any) -> None:
        user = User("pns-digitizer")
        user.set_password(PASSWORD)
        user.add_role("digitizer", "pns")
        root.users.add("pns-digitizer", user)

    arrange(work)
    return People(
        curator=Person(app, "pns-curator"),
        digitizer=Person(app, "pns-digitizer"),
        admin=Person(app, "admin"),
        kaltim=Person(app, "kaltim-curator"),
        reader=Person(app, "reader"),
        anonymous=Person(app),
    )


def digitize(arrange, tmp_path: Path, item_id: str, identifier: str = "") -> None:
    """Give an item a file (a digitized copy), and an identifier if one is given."""
    staged = tmp_path / f"{item_id}.png"
    Image.new("RGB", (8, 8), (200, 180, 150)).save(staged)

    def work(root: Any) -> None:
        item = root.items[item_id]
        item.add_file(staged, "page-1.png")
        if identifier:
            item.metadata["identifier"] = ({"value": identifier},)

    arrange(work)


def place(arrange, item_id: str, title: str, state: str = "nominated", **attrs: Any) -> str:
    """Put an item of pns in ``state`` directly, staff only, with any attributes set."""

    def work(root: Any) -> None:
        item = make_item(item_id, title, state=state, access="staff")
        for name, value in attrs.items():
            setattr(item, name, value)
        root.collections[COLLECTION].add_item(item)

    arrange(work)
    return item_id


def read(arrange, item_id: str, *names: str) -> tuple:
    return arrange(lambda root: tuple(getattr(root.items[item_id], n, None) for n in names))


def new_record(item_id: str, title: str, **extra: Any) -> dict[str, Any]:
    return {
        "collection": COLLECTION,
        "id": item_id,
        "title": title,
        "lang": "ms",
        "reason": REASON,
        **extra,
    }


def soup(response: webtest.TestResponse) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


# -- nominating ----------------------------------------------------------------------------------


def test_any_staff_member_nominates_a_new_record_through_the_form(arrange, people):
    page = people.digitizer.web.get("/staff/nominate")
    form = page.forms["nominate-form"]
    options = [o[0] for o in form["collection"].options]
    assert COLLECTION in options and KALTIM_COLLECTION not in options  # only their own
    form["collection"] = COLLECTION
    form["id"] = "pns-ms-0500"
    form["title"] = "Syair Burung Punai"
    form["lang"] = "ms"
    form["identifier"] = "PNS MS 500"
    form["reason"] = REASON
    done = form.submit(status=302).follow()
    assert "Syair Burung Punai" in done.text and "pns-ms-0500" in done.text

    state, access, nomination, metadata = read(
        arrange, "pns-ms-0500", "state", "access", "nomination", "metadata"
    )
    assert (state, access) == ("nominated", "staff")
    assert nomination["by"] == "pns-digitizer" and nomination["reason"] == REASON
    assert nomination["scores"] == {} and nomination["date"][:4].isdigit()
    assert metadata["title"] == ({"value": "Syair Burung Punai", "lang": "ms"},)
    assert metadata["identifier"] == ({"value": "PNS MS 500"},)
    events = arrange(lambda root: list(root.items["pns-ms-0500"].events))
    assert [(e["type"], e["note"]) for e in events] == [("appraisal", REASON)]
    assert events[0]["agents"][0]["name"] == "user:pns-digitizer"
    # The counters know it: the dashboard and the queue see it.
    assert arrange(lambda root: root.institutions["pns"].counts()["nominated"]) == 1


def test_nominating_a_new_record_through_the_api(arrange, people):
    created = people.curator.nominate(new_record("pns-ms-0501", "Syair Perahu"))
    assert created.location.endswith("/api/items/pns-ms-0501")
    body = created.json
    assert body["item"]["id"] == "pns-ms-0501" and body["item"]["state"] == "nominated"
    assert body["item"]["access"] == "staff"
    assert body["nomination"]["by"] == "pns-curator"
    assert body["possible_duplicates"] == []
    # The public never sees a nominated record.
    people.anonymous.web.get("/items/pns-ms-0501", status=404)


def test_nominating_an_existing_record(arrange, people):
    place(arrange, "pns-ms-0510", "Surat Sultan Brunei")
    created = people.digitizer.nominate(
        {"collection": COLLECTION, "item": "pns-ms-0510", "reason": "Ink fading"}
    )
    assert created.json["nomination"]["reason"] == "Ink fading"
    (nomination,) = read(arrange, "pns-ms-0510", "nomination")
    assert nomination["by"] == "pns-digitizer"

    # Nominated once is enough: a second nomination is refused, naming the first.
    again = people.curator.nominate(
        {"collection": COLLECTION, "item": "pns-ms-0510", "reason": "Again"}, status=400
    ).json
    assert "already nominated by pns-digitizer" in again["errors"]["item"]


@pytest.mark.parametrize(
    ("item_id", "why"),
    [
        ("pns-ms-0002", "is in state 'capture'"),  # already being digitized
        ("kaltim-ms-0002", "no item 'kaltim-ms-0002' at this institution"),  # another member's
        ("pns-ms-9999", "no item 'pns-ms-9999' at this institution"),
    ],
)
def test_an_existing_record_must_be_a_nominated_one_of_the_institution(
    arrange, people, item_id, why
):
    refused = people.curator.nominate(
        {"collection": COLLECTION, "item": item_id, "reason": REASON}, status=400
    ).json
    assert why in refused["errors"]["item"]


# -- the duplicate warning -----------------------------------------------------------------------


def test_the_same_identifier_at_another_institution_is_a_possible_duplicate(
    arrange, tmp_path, consortium, people
):
    digitize(arrange, tmp_path, consortium.other_public, identifier="ISBN 0-306-40615-2")
    data = new_record("pns-ms-0520", "Kitab Undang-Undang", identifier="978-0-306-40615-7")
    conflict = people.curator.nominate(data, status=409).json
    assert "confirm" in conflict["error"]
    (copy,) = conflict["possible_duplicates"]
    assert copy == {
        "institution": "kaltim",
        "institution_name": "Dinas Perpustakaan Kalimantan Timur",
        "match": "identifier",
        "similarity": 1.0,
        "visible": True,
        "id": consortium.other_public,
        "title": "Hikayat Banjar (en)",
        "url": f"http://localhost/items/{consortium.other_public}",
    }
    assert "pns-ms-0520" not in arrange(lambda root: list(root.items))  # not saved

    # Confirmed: saved, and the copies are still reported and recorded in the event.
    created = people.curator.nominate({**data, "confirm": True}).json
    assert [c["id"] for c in created["possible_duplicates"]] == [consortium.other_public]
    events = arrange(lambda root: list(root.items["pns-ms-0520"].events))
    assert "despite 1 possible digitized copies" in events[0]["detail"]


def test_a_close_title_warns_in_the_form_and_confirming_saves(
    arrange, tmp_path, consortium, people
):
    digitize(arrange, tmp_path, consortium.other_public)  # "Hikayat Banjar", at kaltim
    form = people.curator.web.get("/staff/nominate").forms["nominate-form"]
    assert "confirm" not in form.fields  # asked only when copies are found
    form["collection"] = COLLECTION
    form["id"] = "pns-ms-0530"
    form["title"] = "Hikajat Bandjar"  # the pre-1972 spelling
    form["reason"] = REASON
    warned = form.submit(status=409)
    warning = soup(warned).find(id="possible-duplicates")
    link = warning.find("a")
    assert link["href"].endswith(f"/items/{consortium.other_public}")
    assert "Dinas Perpustakaan Kalimantan Timur" in warning.get_text()
    assert "pns-ms-0530" not in arrange(lambda root: list(root.items))

    # The form comes back filled in, now asking to confirm; without it nothing is saved.
    form = warned.forms["nominate-form"]
    assert (form["id"].value, form["title"].value) == ("pns-ms-0530", "Hikajat Bandjar")
    assert form["reason"].value == REASON
    form.submit(status=409)
    assert "pns-ms-0530" not in arrange(lambda root: list(root.items))
    form["confirm"] = True
    form.submit(status=302)
    assert read(arrange, "pns-ms-0530", "state") == ("nominated",)


def test_a_different_work_or_an_undigitized_one_gives_no_warning(arrange, consortium, people):
    # "Hikayat Banjar" at kaltim has no file yet: it is not a digitized copy.
    assert (
        people.curator.nominate(new_record("pns-ms-0540", "Hikayat Banjar")).json[
            "possible_duplicates"
        ]
        == []
    )
    assert (
        people.curator.nominate(new_record("pns-ms-0541", "Syair Perang Banjarmasin")).json[
            "possible_duplicates"
        ]
        == []
    )


def test_a_jawi_title_matches_with_or_without_vowel_marks(arrange, tmp_path, people):
    place(arrange, "pns-ms-0545", "حکايت راج ڤاسي", state="capture")
    digitize(arrange, tmp_path, "pns-ms-0545")
    conflict = people.curator.nominate(
        new_record("pns-ms-0546", "حِكَايَة رَاج ڤَاسِي", lang="ms-Arab"), status=409
    ).json
    assert [c["id"] for c in conflict["possible_duplicates"]] == ["pns-ms-0545"]


def test_a_copy_the_nominator_may_not_see_is_reported_without_its_title(
    arrange, tmp_path, consortium, people
):
    # "Naskah Kutai" at kaltim is in QA: not public, invisible to pns staff.
    digitize(arrange, tmp_path, consortium.other_unpublished, identifier="KALTIM-NK-1")
    conflict = people.curator.nominate(new_record("pns-ms-0550", "Naskah Koetai"), status=409).json
    (copy,) = conflict["possible_duplicates"]
    assert copy["visible"] is False
    assert (copy["id"], copy["title"], copy["url"]) == (None, None, None)
    assert copy["institution"] == "kaltim" and copy["match"] == "title"
    assert "Naskah" not in str(copy)

    page = people.curator.web.get("/staff/nominate").forms["nominate-form"]
    page["collection"], page["id"], page["title"] = COLLECTION, "pns-ms-0551", "x"
    page["identifier"], page["reason"] = "kaltim nk 1", REASON
    warning = soup(page.submit(status=409)).find(id="possible-duplicates")
    assert warning.find("a") is None and "Naskah" not in warning.get_text()

    # An admin may see it, so it is named.
    admin = people.admin.nominate(new_record("pns-ms-0552", "Naskah Kutai"), status=409).json
    assert admin["possible_duplicates"][0]["id"] == consortium.other_unpublished


def test_the_item_being_nominated_is_not_its_own_duplicate(arrange, tmp_path, people):
    place(arrange, "pns-ms-0555", "Syair Tenggelamnya Kapal")
    digitize(arrange, tmp_path, "pns-ms-0555", identifier="PNS 555")
    created = people.curator.nominate(
        {"collection": COLLECTION, "item": "pns-ms-0555", "reason": REASON}
    ).json
    assert created["possible_duplicates"] == []


# -- scoring and ranking -------------------------------------------------------------------------

#: Three nominations with contrasting scores: fragile (condition), popular (demand), rare.
SCORES = {
    "pns-ms-0601": {"significance": 2, "condition": 5, "demand": 0, "uniqueness": 3, "rights": 3},
    "pns-ms-0602": {"significance": 2, "condition": 0, "demand": 5, "uniqueness": 3, "rights": 3},
    "pns-ms-0603": {"significance": 5, "condition": 3, "demand": 3, "uniqueness": 5, "rights": 1},
}


def score_through_the_page(person: Person, item_id: str, scores: dict[str, int]) -> Any:
    page = person.web.get("/staff/selection", {"institution": "pns"})
    form = page.forms[f"score-{item_id}"]
    for criterion, value in scores.items():
        form[criterion] = str(value)
    return form.submit(status=302)


def order(person: Person) -> list[str]:
    return [n["id"] for n in person.queue().json["nominations"]]


def test_curators_score_and_the_queue_is_ranked_with_the_institutions_weights(arrange, people):
    for item_id in SCORES:
        people.digitizer.nominate(new_record(item_id, f"Naskhah {item_id}"))
    # Unscored: oldest nomination first.
    assert order(people.curator) == list(SCORES)

    for item_id, scores in SCORES.items():
        landed = score_through_the_page(people.curator, item_id, scores)
        assert landed.location.endswith(f"/staff/selection?institution=pns#item-{item_id}")
    queue = people.curator.queue().json
    assert queue["weights"] == dict(DEFAULT_WEIGHTS)
    assert [c["name"] for c in queue["criteria"]] == list(CRITERIA)
    rows = {n["id"]: n for n in queue["nominations"]}
    # Default weights 3,3,2,2,1 (sum 11): (6+15+0+6+3) / 11 / 5 → 54.5, and so on.
    assert rows["pns-ms-0601"]["priority"] == 54.5
    assert rows["pns-ms-0602"]["priority"] == 45.5
    assert rows["pns-ms-0603"]["priority"] == 74.5
    assert rows["pns-ms-0601"]["scores"] == SCORES["pns-ms-0601"]
    assert rows["pns-ms-0601"]["scored_by"] == "pns-curator"
    assert rows["pns-ms-0601"]["by"] == "pns-digitizer"
    assert rows["pns-ms-0601"]["reason"] == REASON
    assert order(people.curator) == ["pns-ms-0603", "pns-ms-0601", "pns-ms-0602"]

    # The page shows the same order, each score, the reason and who nominated.
    page = soup(people.curator.web.get("/staff/selection"))
    items = page.select("ol.nominations > li")
    assert [li["id"] for li in items] == [
        "item-pns-ms-0603",
        "item-pns-ms-0601",
        "item-pns-ms-0602",
    ]
    first = items[0]
    assert "74.5" in first.select_one(".priority").get_text()
    assert REASON in first.get_text() and "pns-digitizer" in first.get_text()
    selected = {
        s["name"]: s.find("option", selected=True).get_text()
        for s in first.select("form.score-form select")
    }
    assert selected == {k: str(v) for k, v in SCORES["pns-ms-0603"].items()}

    # The reading room's priorities: demand counts most, condition not at all.
    reading_room = {**DEFAULT_WEIGHTS, "condition": 0, "demand": 10, "significance": 1}
    assert people.curator.set_weights(reading_room).json["weights"] == reading_room
    assert order(people.curator) == ["pns-ms-0602", "pns-ms-0603", "pns-ms-0601"]

    # A conservator's priorities, set through the page's form: condition first.
    form = people.curator.web.get("/staff/selection").forms["weights-form"]
    for criterion in CRITERIA:
        form[criterion] = "0"
    form["condition"] = "10"
    form.submit(status=302)
    assert order(people.curator) == ["pns-ms-0601", "pns-ms-0603", "pns-ms-0602"]
    weights = people.curator.web.get("/api/institutions/pns/selection-weights").json
    assert weights["weights"]["condition"] == 10 and weights["default"] is False

    # kaltim's weights are its own: untouched.
    assert people.kaltim.queue("kaltim").json["weights"] == dict(DEFAULT_WEIGHTS)

    # Back to the defaults.
    assert people.curator.set_weights(None).json["default"] is True
    assert order(people.curator) == ["pns-ms-0603", "pns-ms-0601", "pns-ms-0602"]


def test_scoring_again_replaces_the_scores_and_is_recorded(arrange, people):
    people.digitizer.nominate(new_record("pns-ms-0610", "Syair Nasihat"))
    score_through_the_page(people.curator, "pns-ms-0610", dict.fromkeys(CRITERIA, 1))
    score_through_the_page(people.admin, "pns-ms-0610", dict.fromkeys(CRITERIA, 4))
    (nomination,) = read(arrange, "pns-ms-0610", "nomination")
    assert nomination["scores"] == dict.fromkeys(CRITERIA, 4)
    assert nomination["scored_by"] == "admin" and nomination["by"] == "pns-digitizer"
    details = [e["detail"] for e in arrange(lambda r: list(r.items["pns-ms-0610"].events))]
    assert details[1:] == [
        "scored for selection: priority 20.0",
        "scored for selection: priority 80.0",
    ]


def test_records_nominated_another_way_are_in_the_queue_unscored(arrange, people):
    place(arrange, "pns-ms-0620", "Hikayat Awang Sulung")  # no nomination record
    (row,) = people.curator.queue().json["nominations"]
    assert (row["id"], row["priority"], row["reason"], row["by"]) == (
        "pns-ms-0620",
        None,
        "",
        "",
    )
    score_through_the_page(people.curator, "pns-ms-0620", dict.fromkeys(CRITERIA, 5))
    assert people.curator.queue().json["nominations"][0]["priority"] == 100.0
    # Nominated afterwards with a reason: the scores stay.
    people.digitizer.nominate(
        {"collection": COLLECTION, "item": "pns-ms-0620", "reason": "Much asked for"}
    )
    (row,) = people.curator.queue().json["nominations"]
    assert (row["by"], row["reason"], row["priority"]) == (
        "pns-digitizer",
        "Much asked for",
        100.0,
    )


# -- select, defer, reject from the queue --------------------------------------------------------


def test_select_defer_and_reject_through_the_selection_page(arrange, people):
    for item_id in ("pns-ms-0701", "pns-ms-0702", "pns-ms-0703"):
        people.digitizer.nominate(new_record(item_id, f"Naskhah {item_id}"))
    curator = people.curator.web

    page = curator.get("/staff/selection")
    page.forms["move-pns-ms-0701-selected"].submit(status=302)

    page = curator.get("/staff/selection")
    later = (date.today() + timedelta(days=90)).isoformat()
    defer = page.forms["move-pns-ms-0702-deferred"]
    defer["defer_until"] = later
    defer.submit(status=302)

    page = curator.get("/staff/selection")
    reject = page.forms["move-pns-ms-0703-rejected"]
    reject["note"] = "Out of scope: not about Borneo"
    reject.submit(status=302)

    assert read(arrange, "pns-ms-0701", "state") == ("selected",)
    assert read(arrange, "pns-ms-0702", "state", "deferred_until") == ("deferred", later)
    assert read(arrange, "pns-ms-0703", "state") == ("rejected",)
    moves = {
        item_id: [
            e["workflow"]
            for e in arrange(lambda r, i=item_id: list(r.items[i].events))
            if "workflow" in e
        ]
        for item_id in ("pns-ms-0701", "pns-ms-0702", "pns-ms-0703")
    }
    assert moves["pns-ms-0701"][0]["target"] == "selected"
    assert moves["pns-ms-0702"][0]["defer_until"] == later
    assert moves["pns-ms-0703"][0]["note"] == "Out of scope: not about Borneo"
    assert {m[0]["agent"] for m in moves.values()} == {"user:pns-curator"}

    # The queue now holds only the deferred item, with its date, and it can be reconsidered.
    page = curator.get("/staff/selection")
    (row,) = people.curator.queue().json["nominations"]
    assert (row["id"], row["state"], row["deferred_until"]) == ("pns-ms-0702", "deferred", later)
    item = soup(page).find(id="item-pns-ms-0702")
    assert later in item.get_text()
    assert [f["id"] for f in item.select("form[id^=move-]")] == ["move-pns-ms-0702-nominated"]


def test_a_refused_move_changes_nothing(arrange, people):
    people.digitizer.nominate(new_record("pns-ms-0710", "Naskhah 0710"))
    page = people.curator.web.get("/staff/selection")
    # The browser asks for the date and the reason; a request without them is refused.
    page.forms["move-pns-ms-0710-deferred"].submit(status=302)
    page.forms["move-pns-ms-0710-rejected"].submit(status=302)
    assert read(arrange, "pns-ms-0710", "state") == ("nominated",)


def test_the_selection_page_forms_are_usable_without_javascript(arrange, people):
    people.digitizer.nominate(new_record("pns-ms-0720", "Naskhah 0720"))
    page = soup(people.curator.web.get("/staff/selection"))
    assert not page.find("script")
    for form in page.select("main form"):
        assert form["method"] == "post"
        assert form.find("input", attrs={"name": "csrf_token"})["value"]
    item = page.find(id="item-pns-ms-0720")
    reject = item.find("form", id="move-pns-ms-0720-rejected")
    assert reject.find("input", attrs={"name": "note"}).has_attr("required")
    defer = item.find("form", id="move-pns-ms-0720-deferred")
    assert defer.find("input", attrs={"name": "defer_until"})["type"] == "date"
    selects = item.select("form.score-form select")
    assert [s["name"] for s in selects] == list(CRITERIA)
    assert [o.get_text() for o in selects[0].find_all("option")] == [
        "—",
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    # In Malay, the criteria are named in Malay.
    malay = soup(people.curator.web.get("/staff/selection", {"lang": "ms"}))
    labels = [lab.get_text() for lab in malay.find(id="score-pns-ms-0720").select("label")]
    assert labels[1] == "Keadaan / risiko kehilangan"
    nominate = soup(people.digitizer.web.get("/staff/nominate"))
    assert not nominate.find("script")
    assert nominate.find("textarea", attrs={"name": "reason"}).has_attr("required")


# -- who may -------------------------------------------------------------------------------------


def test_people_without_a_role_are_refused(arrange, consortium, people):
    place(arrange, "pns-ms-0800", "Naskhah 0800")
    # A reader is no staff: no form, no API, no queue.
    people.reader.web.get("/staff/nominate", status=403)
    people.reader.nominate(new_record("pns-ms-0801", "x"), status=403)
    people.reader.web.get("/staff/selection", status=403)
    people.reader.queue(status=403)
    people.reader.web.get("/api/institutions/pns/selection-weights", status=403)
    # Anonymous: asked to log in on pages, refused on the API.
    login_page = people.anonymous.web.get("/staff/nominate", status=302)
    assert "/staff/login" in login_page.location
    assert "/staff/login" in people.anonymous.web.get("/staff/selection", status=302).location
    people.anonymous.nominate(new_record("pns-ms-0802", "x"), status=403)
    people.anonymous.queue(status=403)

    # A digitizer nominates, but neither sees the queue nor scores nor sets weights.
    people.digitizer.web.get("/staff/selection", status=403)
    people.digitizer.queue(status=403)
    people.digitizer.web.post(
        "/staff/selection/pns-ms-0800/score",
        {**dict.fromkeys(CRITERIA, "3"), "csrf_token": people.digitizer.headers["X-CSRF-Token"]},
        status=403,
    )
    people.digitizer.set_weights(dict(DEFAULT_WEIGHTS), status=403)
    assert people.digitizer.web.get("/api/institutions/pns/selection-weights").json["default"]

    # Another member's curator: not their queue, not their weights, not their collection,
    # and the unpublished item does not exist for them.
    people.kaltim.queue("pns", status=403)
    people.kaltim.web.get("/staff/selection", {"institution": "pns"}, status=403)
    people.kaltim.set_weights(dict(DEFAULT_WEIGHTS), status=403)
    people.kaltim.web.get("/api/institutions/pns/selection-weights", status=403)
    people.kaltim.nominate(new_record("pns-ms-0803", "x"), status=403)
    people.kaltim.web.post(
        "/staff/selection/pns-ms-0800/score",
        {**dict.fromkeys(CRITERIA, "3"), "csrf_token": people.kaltim.headers["X-CSRF-Token"]},
        status=404,
    )
    weights_form = {
        "institution": "pns",
        **dict.fromkeys(CRITERIA, "1"),
        "csrf_token": people.kaltim.headers["X-CSRF-Token"],
    }
    people.kaltim.web.post("/staff/selection/weights", weights_form, status=403)
    # Their own queue shows none of pns's nominations.
    assert people.kaltim.queue("kaltim").json["nominations"] == []
    assert "pns-ms-0800" not in people.kaltim.web.get("/staff/selection").text

    assert read(arrange, "pns-ms-0800", "nomination") == (None,)
    assert arrange(lambda root: root.institutions["pns"].selection_weights) is None
    assert not {"pns-ms-0801", "pns-ms-0802", "pns-ms-0803"} & set(
        arrange(lambda root: list(root.items))
    )


def test_an_admin_sees_and_switches_between_every_queue(arrange, people):
    place(arrange, "pns-ms-0810", "Naskhah 0810")
    page = soup(people.admin.web.get("/staff/selection", {"institution": "pns"}))
    assert page.find(id="item-pns-ms-0810")
    links = [a.get_text() for a in page.select("nav[aria-label] ul.queues a")]
    assert "Pustaka Negeri Sarawak" in links or "Sarawak State Library" in links
    assert people.admin.queue("kaltim").json["institution"] == "kaltim"


def test_forms_need_their_csrf_token(arrange, people):
    place(arrange, "pns-ms-0820", "Naskhah 0820")
    people.curator.web.post(
        "/staff/selection/pns-ms-0820/score", dict.fromkeys(CRITERIA, "3"), status=400
    )
    people.curator.web.post_json("/api/nominations", new_record("pns-ms-0821", "x"), status=400)
    assert read(arrange, "pns-ms-0820", "nomination") == (None,)


# -- bad input -----------------------------------------------------------------------------------

BAD_NOMINATIONS = [
    ({k: v for k, v in new_record("pns-ms-0900", "x").items() if k != "reason"}, {"reason"}),
    (new_record("pns-ms-0900", "x", reason="   "), {"reason"}),
    (new_record("PNS_MS 900", "x"), {"id"}),
    (new_record("pns-ms-0001", "x"), {"id"}),  # already used in the consortium
    (new_record("pns-ms-0900", "x", lang="not a language"), {"lang"}),
    ({k: v for k, v in new_record("pns-ms-0900", "x").items() if k != "title"}, {"title"}),
    ({"collection": COLLECTION, "reason": REASON}, {"item"}),
    ({**new_record("pns-ms-0900", "x"), "item": "pns-ms-0003"}, {"item"}),
    # a title is for new records only (and pns-ms-0003 is published, not nominated)
    (
        {"collection": COLLECTION, "item": "pns-ms-0003", "title": "x", "reason": "r"},
        {"item", "title"},
    ),
    (new_record("pns-ms-0900", "x", collection="nowhere"), {"collection"}),
    (new_record("pns-ms-0900", "x", priority=100), {"priority"}),
    (new_record("pns-ms-0900", "x", confirm="perhaps"), {"confirm"}),
    (new_record("pns-ms-0900", 42), {"title"}),
]


@pytest.mark.parametrize(("data", "fields"), BAD_NOMINATIONS)
def test_bad_nominations_are_refused_naming_the_fields(arrange, people, data, fields):
    refused = people.curator.nominate(data, status=400).json
    assert set(refused["errors"]) == fields
    assert "pns-ms-0900" not in arrange(lambda root: list(root.items))


def test_a_body_that_is_not_json_is_refused(people):
    people.curator.web.post(
        "/api/nominations",
        "nonsense",
        headers={**people.curator.headers, "Content-Type": "application/json"},
        status=400,
    )


def test_the_form_shows_what_to_fix_and_keeps_what_was_typed(arrange, people):
    form = people.digitizer.web.get("/staff/nominate").forms["nominate-form"]
    form["collection"] = COLLECTION
    form["id"] = "Not An Id"
    form["title"] = "Syair Bidasari"
    refused = form.submit(status=400)
    errors = soup(refused).find(id="nominate-errors").get_text()
    assert "id" in errors and "reason" in errors
    again = refused.forms["nominate-form"]
    assert (again["id"].value, again["title"].value) == ("Not An Id", "Syair Bidasari")
    assert again["collection"].value == COLLECTION


@pytest.mark.parametrize(
    ("scores", "fields"),
    [
        ({**dict.fromkeys(CRITERIA, "3"), "demand": "9"}, {"demand"}),
        ({**dict.fromkeys(CRITERIA, "3"), "rights": "high"}, {"rights"}),
        ({k: "3" for k in CRITERIA if k != "uniqueness"}, {"uniqueness"}),
    ],
)
def test_bad_scores_are_refused_naming_the_fields(arrange, people, scores, fields):
    place(arrange, "pns-ms-0910", "Naskhah 0910")
    refused = people.curator.web.post(
        "/staff/selection/pns-ms-0910/score",
        {**scores, "csrf_token": people.curator.headers["X-CSRF-Token"]},
        status=400,
    )
    listed = {li.find("code").get_text() for li in soup(refused).select(".error-list li")}
    assert listed == fields
    assert read(arrange, "pns-ms-0910", "nomination") == (None,)


def test_only_items_waiting_for_selection_are_scored(arrange, consortium, people):
    refused = people.curator.web.post(
        f"/staff/selection/{consortium.unpublished}/score",  # in capture
        {**dict.fromkeys(CRITERIA, "3"), "csrf_token": people.curator.headers["X-CSRF-Token"]},
        status=400,
    )
    assert "state" in refused.text


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"weights": {**DEFAULT_WEIGHTS, "demand": 11}}, {"weights.demand"}),
        ({"weights": {**DEFAULT_WEIGHTS, "beauty": 1}}, {"weights.beauty"}),
        ({"weights": dict.fromkeys(CRITERIA, 0)}, {"weights"}),
        ({"weights": [3, 3, 2, 2, 1]}, {"weights"}),
        ({"weights": {"significance": 3}}, {f"weights.{c}" for c in CRITERIA[1:]}),
        ({}, {"weights"}),
        ({"weights": dict(DEFAULT_WEIGHTS), "extra": 1}, {"extra"}),
    ],
)
def test_bad_weights_are_refused_naming_the_fields(arrange, people, body, fields):
    refused = people.curator.web.put_json(
        "/api/institutions/pns/selection-weights",
        body,
        headers=people.curator.headers,
        status=400,
    ).json
    assert set(refused["errors"]) == fields
    assert arrange(lambda root: root.institutions["pns"].selection_weights) is None


def test_an_unknown_institution_is_named(people):
    refused = people.admin.queue("nowhere", status=400).json
    assert set(refused["errors"]) == {"institution"}
    people.admin.web.get("/api/institutions/nowhere/selection-weights", status=404)
