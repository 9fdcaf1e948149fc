"""The JSON API: create, read, update; every bad input a 4xx with a message, never a 500."""

from __future__ import annotations

import pytest
from support import csrf_token, login

NEW = {
    "id": "pns-ms-0100",
    "collection": "pns-manuscripts",
    "metadata": {
        "title": [
            {"value": "Hikayat Nakhoda Muda", "lang": "ms"},
            {"value": "هكاية نخودا مودا", "lang": "ms-Arab"},
        ],
        "date": ["17XX"],
        "language": ["msa"],
        "coverage": [{"value": "Kuching", "lang": "ms", "lat": 1.55, "lon": 110.34}],
    },
    "access": "public",
    "rights": "http://rightsstatements.org/vocab/NoC-NKC/1.0/",
    "viewing_direction": "right-to-left",
}


@pytest.fixture
def curator(testapp, consortium):
    login(testapp, "pns-curator")
    return {"X-CSRF-Token": csrf_token(testapp)}


def test_create_read_update_an_item(testapp, curator):
    created = testapp.post_json("/api/items", NEW, headers=curator, status=201)
    assert created.location.endswith("/api/items/pns-ms-0100")
    assert created.json["state"] == "nominated"
    assert created.json["metadata"]["language"] == [{"value": "ms"}]
    read = testapp.get("/api/items/pns-ms-0100").json
    assert read["metadata"]["title"][1] == {"value": "هكاية نخودا مودا", "lang": "ms-Arab"}
    assert read["metadata"]["coverage"][0]["lat"] == 1.55
    updated = testapp.patch_json(
        "/api/items/pns-ms-0100",
        {"metadata": {"title": [{"value": "Baru", "lang": "ms"}]}},
        headers=curator,
    ).json
    assert updated["metadata"] == {"title": [{"value": "Baru", "lang": "ms"}]}
    # New items are not published: anonymous users do not see them.
    testapp.reset()
    testapp.get("/api/items/pns-ms-0100", status=404)


def test_created_item_survives_in_the_database(testapp, curator, arrange):
    testapp.post_json("/api/items", NEW, headers=curator, status=201)
    title = arrange(lambda root: root.items["pns-ms-0100"].title(("ms",)))
    assert title == "Hikayat Nakhoda Muda"
    counts = arrange(lambda root: root.institutions["pns"].counts())
    assert counts["nominated"] == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": "Bad ID!"}, "id"),
        ({"id": "pns-ms-0001"}, "id"),  # duplicate, consortium-wide
        ({"id": "kaltim-ms-0001"}, "id"),  # duplicate in another institution
        ({"collection": "no-such-collection"}, "collection"),
        ({"access": "secret"}, "access"),
        ({"access": "community"}, "community"),
        ({"rights": "https://example.org/my-licence"}, "rights"),
        ({"viewing_direction": "sideways"}, "viewing_direction"),
        ({"colour": "red"}, "colour"),
        ({"metadata": {"title": [{"value": "T"}]}}, "metadata.title[0]"),
        ({"metadata": {"title": [{"value": "T", "lang": "xx-yy-zz"}]}}, "metadata.title[0]"),
        (
            {"metadata": {"title": [{"value": "T", "lang": "ms"}], "date": ["next tuesday"]}},
            "metadata.date[0]",
        ),
        (
            {"metadata": {"title": [{"value": "T", "lang": "ms"}], "colour": ["red"]}},
            "metadata.colour",
        ),
        ({"metadata": {"date": ["1850"]}}, "metadata.title"),
        ({"metadata": "a string"}, "metadata"),
    ],
)
def test_bad_fields_answer_400_naming_the_field(testapp, curator, change, field):
    body = {**NEW, **change}
    response = testapp.post_json("/api/items", body, headers=curator, status=400)
    assert field in response.json["errors"], response.json
    assert response.json["error"]


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b"", b"\xff\xfe", b"null", b'"text"'],
)
def test_bad_json_answers_400(testapp, curator, body):
    response = testapp.post(
        "/api/items", body, headers={**curator, "Content-Type": "application/json"}, status=400
    )
    assert response.json["errors"]["body"]


def test_oversize_body_is_refused_before_it_is_read(testapp, curator):
    body = {**NEW, "metadata": {"title": [{"value": "x" * 100_000, "lang": "ms"}]}}
    response = testapp.post_json("/api/items", body, headers=curator, status=413)
    assert "too large" in response.json["error"]


def test_bad_paging_parameters_answer_400(testapp, consortium):
    assert "limit" in testapp.get("/api/items?limit=abc", status=400).json["errors"]
    assert "limit" in testapp.get("/api/items?limit=0", status=400).json["errors"]
    assert testapp.get("/api/items?after=zzzz").json["items"] == []


def test_institutions_and_collections_are_listed_and_read(testapp, consortium):
    institutions = testapp.get("/api/institutions").json["items"]
    assert {i["id"] for i in institutions} == {"pns", "kaltim"}
    pns = testapp.get("/api/institutions/pns").json
    assert pns["name"]["ms"] == "Pustaka Negeri Sarawak"
    assert set(pns["collections"]) == {"pns-manuscripts", "pns-oral-history"}
    collections = testapp.get("/api/collections").json["items"]
    assert len(collections) == 3
    naskah = testapp.get("/api/collections/kaltim-naskah").json
    assert naskah["institution"] == "kaltim"


def test_admin_creates_an_institution_and_a_curator_a_collection(testapp, consortium):
    login(testapp, "admin")
    headers = {"X-CSRF-Token": csrf_token(testapp)}
    body = {
        "id": "dbp-brunei",
        "name": {"ms": "Dewan Bahasa dan Pustaka Brunei"},
        "country": "BN",
        "homepage": "http://www.dbp.gov.bn/",
    }
    testapp.post_json("/api/institutions", body, headers=headers, status=201)
    bad = testapp.post_json(
        "/api/institutions", {**body, "country": "Brunei", "x": 1}, headers=headers, status=400
    ).json["errors"]
    assert set(bad) == {"country", "x"}
    testapp.reset()
    login(testapp, "pns-curator")
    headers = {"X-CSRF-Token": csrf_token(testapp)}
    coll = {"id": "pns-photographs", "institution": "pns", "title": {"en": "Photographs"}}
    testapp.post_json("/api/collections", coll, headers=headers, status=201)
    testapp.post_json(
        "/api/collections",
        {**coll, "id": "dbp-x", "institution": "dbp-brunei"},
        headers=headers,
        status=403,
    )
    testapp.post_json("/api/institutions", body, headers=headers, status=403)


def test_sections_become_the_manifest_table_of_contents(testapp, curator, arrange, tmp_path):
    from digitization.samples import make_sample_page

    def add_pages(root):
        item = root.items["pns-ms-0001"]
        for n in (1, 2, 3):
            item.add_file(
                make_sample_page(tmp_path / f"p{n}.jpg", seed=n, page_no=n, width=400, height=500),
                f"p{n}.jpg",
            )

    arrange(add_pages)
    body = {
        "sections": [
            {"label": {"ms": "Bab satu", "en": "Chapter one"}, "files": ["1", "2"]},
            {"label": {"ms": "Bab dua"}, "files": ["3"]},
        ]
    }
    saved = testapp.patch_json("/api/items/pns-ms-0001", body, headers=curator).json
    assert saved["sections"][0]["files"] == ["1", "2"]
    bad = testapp.patch_json(
        "/api/items/pns-ms-0001",
        {"sections": [{"label": {}, "files": []}]},
        headers=curator,
        status=400,
    ).json["errors"]
    assert set(bad) == {"sections.0.label", "sections.0.files"}
    manifest = testapp.get("/iiif/manifests/pns-ms-0001").json
    toc = manifest["structures"][0]["items"]
    assert [r["label"] for r in toc] == [
        {"ms": ["Bab satu"], "en": ["Chapter one"]},
        {"ms": ["Bab dua"]},
    ]
    canvases = [c["id"] for c in manifest["items"]]
    assert [c["id"] for c in toc[0]["items"]] == canvases[:2]
    assert [c["id"] for c in toc[1]["items"]] == canvases[2:]
