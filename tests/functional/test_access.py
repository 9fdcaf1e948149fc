"""Access levels over HTTP: what each kind of user sees, and that hidden things are 404."""

from __future__ import annotations

import pytest
from support import csrf_token, login

ANONYMOUS = None
TITLES = {
    "public": "Hikayat Pelanduk",
    "unpublished": "Syair Rahsia",
    "staff_only": "Surat Dalaman",
    "metadata_only": "Salasilah",
    "community": "Ensera Iban",
    "other_public": "Hikayat Banjar",
    "other_unpublished": "Naskah Kutai",
}


@pytest.mark.parametrize(
    ("user", "item", "status"),
    [
        (ANONYMOUS, "public", 200),
        (ANONYMOUS, "unpublished", 404),
        (ANONYMOUS, "staff_only", 404),
        (ANONYMOUS, "metadata_only", 200),
        (ANONYMOUS, "community", 404),
        ("reader", "community", 200),
        ("reader", "staff_only", 404),
        ("pns-curator", "unpublished", 200),
        ("pns-curator", "staff_only", 200),
        ("kaltim-curator", "unpublished", 404),
        ("kaltim-curator", "staff_only", 404),
        ("kaltim-curator", "public", 200),
        ("admin", "other_unpublished", 200),
    ],
)
def test_item_page_and_api_answer_by_access_level(testapp, consortium, user, item, status):
    if user:
        login(testapp, user)
    item_id = getattr(consortium, item)
    page = testapp.get(f"/items/{item_id}", status=status)
    api = testapp.get(f"/api/items/{item_id}", status=status)
    if status == 404:
        assert "Not found" in page.text
        assert TITLES[item] not in page.text
        assert api.json == {"error": "Not found: there is nothing at this address."}
    else:
        assert api.json["id"] == item_id
        assert TITLES[item] in page.text


def test_metadata_only_item_shows_its_record_but_no_files(testapp, consortium):
    data = testapp.get(f"/api/items/{consortium.metadata_only}").json
    assert data["metadata"]["title"][0]["value"] == "Salasilah"
    assert "files" not in data
    page = testapp.get(f"/items/{consortium.metadata_only}")
    assert "Salasilah" in page.text


def test_api_list_shows_only_what_the_caller_may_see(testapp, consortium):
    anonymous = {i["id"] for i in testapp.get("/api/items?limit=200").json["items"]}
    assert anonymous == {consortium.public, consortium.metadata_only, consortium.other_public}
    login(testapp, "pns-curator")
    staff = {i["id"] for i in testapp.get("/api/items?limit=200").json["items"]}
    assert consortium.unpublished in staff and consortium.staff_only in staff
    assert consortium.other_unpublished not in staff


def test_api_list_pages_by_cursor(testapp, consortium):
    login(testapp, "admin")
    first = testapp.get("/api/items?limit=3").json
    assert len(first["items"]) == 3 and first["next"]
    second = testapp.get(first["next"]).json
    seen = [i["id"] for i in first["items"] + second["items"]]
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)


def test_collection_page_lists_only_visible_items(testapp, consortium):
    page = testapp.get("/collections/pns-manuscripts")
    assert "Hikayat Pelanduk" in page.text
    assert "Syair Rahsia" not in page.text
    assert "Surat Dalaman" not in page.text


def test_home_lists_institutions_and_only_public_recent_items(testapp, consortium):
    page = testapp.get("/")
    assert "Sarawak State Library" in page.text
    assert "Hikayat Pelanduk" in page.text
    assert "Syair Rahsia" not in page.text
    assert "Ensera Iban" not in page.text


def test_staff_of_another_institution_cannot_change_an_item(testapp, consortium):
    login(testapp, "kaltim-curator")
    headers = {"X-CSRF-Token": csrf_token(testapp)}
    body = {"rights": "http://creativecommons.org/licenses/by/4.0/"}
    # A published item they can see: 403. An unpublished one: it does not exist for them.
    testapp.patch_json(f"/api/items/{consortium.public}", body, headers=headers, status=403)
    testapp.patch_json(f"/api/items/{consortium.unpublished}", body, headers=headers, status=404)
    own = testapp.patch_json(f"/api/items/{consortium.other_public}", body, headers=headers)
    assert own.json["rights"] == body["rights"]


def test_anonymous_cannot_create_items(testapp, consortium):
    body = {
        "id": "pns-ms-0099",
        "collection": "pns-manuscripts",
        "metadata": {"title": [{"value": "X", "lang": "ms"}]},
    }
    headers = {"X-CSRF-Token": csrf_token(testapp)}
    testapp.post_json("/api/items", body, headers=headers, status=403)


def test_unknown_urls_answer_a_404_page(testapp, consortium):
    for url in (
        "/nowhere",
        "/items/no-such-item",
        "/institutions/nope",
        "/collections/x",
        "/items/../etc/passwd",
        "/static/../setup.cfg",
    ):
        page = testapp.get(url, status=404)
        assert "Not found" in page.text
    assert testapp.get("/api/nope", status=404).json["error"].startswith("Not found")
