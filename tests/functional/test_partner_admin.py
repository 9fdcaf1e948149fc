"""Partners of the union catalogue, for admins: /staff/partners pages and /api/partners.

Only admins see or change partners: anonymous people are sent to the login page (HTML) or
refused (API), other staff get 403. Forms need the CSRF token; bad fields answer 400 naming
each one.
"""

from __future__ import annotations

import pytest
from support import csrf_token, login

from heritage.resources.partners import Partner
from heritage.security import hash_token

ADMIN_TOKEN = "admin-token-for-partner-tests-0123456789"
CURATOR_TOKEN = "curator-token-for-partner-tests-012345678"
NEW = {
    "id": "sabah-library",
    "name": {"en": "Sabah State Library", "ms": "Perpustakaan Negeri Sabah"},
    "url": "https://library.sabah.example/oai",
    "set": "manuscripts",
    "schedule": "12h",
}


@pytest.fixture
def tokens(consortium, arrange):
    def work(root):
        root.users.add_token("admin", hash_token(ADMIN_TOKEN), label="tests")
        root.users.add_token("pns-curator", hash_token(CURATOR_TOKEN), label="tests")
        root.partners.add(
            "kutai", Partner({"id": "Perpustakaan Kutai"}, "http://kutai.example/oai")
        )

    arrange(work)
    return {
        "admin": {"Authorization": f"Bearer {ADMIN_TOKEN}"},
        "curator": {"Authorization": f"Bearer {CURATOR_TOKEN}"},
    }


def test_api_lists_and_creates_partners(testapp, tokens, arrange):
    listed = testapp.get("/api/partners", headers=tokens["admin"]).json["partners"]
    assert [p["id"] for p in listed] == ["kutai"]
    assert listed[0]["prefix"] == "oai_dc" and listed[0]["last_run"] is None

    created = testapp.post_json("/api/partners", NEW, headers=tokens["admin"], status=201)
    assert created.location.endswith("/api/partners/sabah-library")
    assert created.json["schedule"] == "12h" and created.json["enabled"] is True
    assert created.json["records"] == 0 and created.json["log"] == []
    read = testapp.get("/api/partners/sabah-library", headers=tokens["admin"]).json
    assert read["name"]["ms"] == "Perpustakaan Negeri Sabah" and read["set"] == "manuscripts"

    def check(root):
        partner = root.partners["sabah-library"]
        assert partner.interval == 12 * 3600 and partner.last_datestamp == ""

    arrange(check)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://library.sabah.example/oai"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://user:secret@library.sabah.example/oai"}, "url"),
        ({"url": "https://library.sabah.example/oai?verb=Identify"}, "url"),
        ({"id": "Sabah Library"}, "id"),
        ({"id": "kutai"}, "id"),  # already exists
        ({"name": "Sabah"}, "name"),
        ({"name": {"xx-not-a-tag-1234": "Sabah"}}, "name"),
        ({"schedule": "often"}, "schedule"),
        ({"prefix": "oai dc"}, "prefix"),
        ({"set": "a b"}, "set"),
        ({"enabled": "yes"}, "enabled"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_api_bad_fields_answer_400_naming_the_field(testapp, tokens, change, field):
    response = testapp.post_json(
        "/api/partners", {**NEW, **change}, headers=tokens["admin"], status=400
    )
    assert field in response.json["errors"], response.json


def test_api_missing_fields_are_all_named(testapp, tokens):
    response = testapp.post_json("/api/partners", {}, headers=tokens["admin"], status=400)
    assert set(response.json["errors"]) == {"id", "name", "url"}
    testapp.post("/api/partners", "not json", headers=tokens["admin"], status=400)


def test_api_is_for_admins_only(testapp, tokens):
    testapp.get("/api/partners", status=403)
    testapp.get("/api/partners", headers=tokens["curator"], status=403)
    testapp.post_json("/api/partners", NEW, headers=tokens["curator"], status=403)
    testapp.get("/api/partners/kutai", headers=tokens["curator"], status=403)
    testapp.get("/api/partners/nobody", headers=tokens["curator"], status=403)  # no probing
    testapp.get("/api/partners/nobody", headers=tokens["admin"], status=404)


def test_pages_are_for_admins_only(testapp, consortium):
    anonymous = testapp.get("/staff/partners", status=302)
    assert "/staff/login" in anonymous.location
    login(testapp, "pns-curator")
    testapp.get("/staff/partners", status=403)
    testapp.get("/staff/partners/kutai", status=403)
    assert "/staff/partners" not in testapp.get("/staff/").text  # no link on the dashboard


def test_admin_adds_edits_disables_and_queues_a_harvest(testapp, consortium, arrange):
    login(testapp, "admin")
    assert "/staff/partners" in testapp.get("/staff/").text
    page = testapp.get("/staff/partners")
    assert "No partners yet." in page.text
    form = page.forms["partner-form"]
    form["id"] = "sabah-library"
    form["name_en"] = "Sabah State Library"
    form["name_ms"] = "Perpustakaan Negeri Sabah"
    form["url"] = "https://library.sabah.example/oai"
    form["schedule"] = "1w"
    detail = form.submit(status=302).follow()
    assert "Partner sabah-library added" in detail.text
    assert "Never harvested" in detail.text

    listing = testapp.get("/staff/partners")
    assert "Sabah State Library" in listing.text and "Every 1w" in listing.text

    edit = detail.forms["partner-form"]
    edit["url"] = "https://library.sabah.example/oai2"
    edit["enabled"] = False
    saved = edit.submit(status=302).follow()
    assert "settings are saved" in saved.text

    queued = saved.forms["harvest-form"].submit(status=302).follow()  # "Harvest now"
    assert "A harvest is queued" in queued.text

    def check(root):
        partner = root.partners["sabah-library"]
        assert partner.url.endswith("/oai2") and not partner.enabled
        assert partner.name["ms"] == "Perpustakaan Negeri Sabah"
        assert root.jobs.queued("harvest", partner="sabah-library")

    arrange(check)


def test_form_errors_are_shown_and_nothing_is_added(testapp, consortium, arrange):
    login(testapp, "admin")
    form = testapp.get("/staff/partners").forms["partner-form"]
    form["id"] = "sabah"
    form["url"] = "file:///etc/passwd"
    form["schedule"] = "sometimes"
    page = form.submit(status=400)
    assert "use an http:// or https:// URL" in page.text
    assert "an interval like 30m" in page.text
    assert 'value="sabah"' in page.text  # what was typed stays
    assert arrange(lambda root: len(root.partners)) == 0


def test_forms_need_the_csrf_token(testapp, consortium):
    login(testapp, "admin")
    testapp.post(
        "/staff/partners",
        {"id": "x1", "name_en": "X", "url": "https://x.example/oai"},
        status=400,
    )
    token = csrf_token(testapp)
    testapp.post(
        "/staff/partners",
        {"id": "x1", "name_en": "X", "url": "https://x.example/oai", "csrf_token": token},
        status=302,
    )


def test_the_page_shows_the_log(testapp, consortium, arrange):
    def work(root):
        partner = root.partners.add(
            "kutai", Partner({"id": "Perpustakaan Kutai"}, "http://kutai.example/oai")
        )
        run = partner.start_run()
        run.outcome, run.error, run.added = "failed", "invalid XML from the partner: boom", 2

    arrange(work)
    login(testapp, "admin")
    page = testapp.get("/staff/partners/kutai?lang=ms")
    assert "invalid XML from the partner: boom" in page.text
    assert "Log penuaian" in page.text and "Gagal" in page.text  # in Malay
    assert "Pemanenan terakhir" in testapp.get("/staff/partners?lang=id").text
    listing = testapp.get("/staff/partners")
    assert "invalid XML from the partner: boom" in listing.text
