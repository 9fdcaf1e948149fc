"""The search page and /api/search over HTTP: words, facets as links, paging, highlighted
matches, harvested records, what each user may find, and 400s for bad parameters."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from support import login

from heritage.catalog import index_harvested
from heritage.metadata import validate_record

TITLES = {
    "public": "Hikayat Pelanduk",
    "unpublished": "Syair Rahsia",
    "staff_only": "Surat Dalaman",
    "metadata_only": "Salasilah",
    "community": "Ensera Iban",
    "other_public": "Hikayat Banjar",
    "other_unpublished": "Naskah Kutai",
}
RESTRICTED = ("unpublished", "staff_only", "community", "other_unpublished")


@pytest.fixture
def union(arrange, consortium):
    """The consortium, a description on one item, and one harvested partner record."""

    def work(root):
        item = root.items[consortium.other_public]
        description = {"value": "Naskah <b>Banjar</b> tentang sungai Barito", "lang": "id"}
        item.metadata["description"] = validate_record(
            {"description": [description]}, require_title=False
        )["description"]
        item.touch()
        index_harvested(
            root,
            SimpleNamespace(
                partner_id="unimas",
                partner_name={"en": "UNIMAS Library", "ms": "Perpustakaan UNIMAS"},
                identifier="oai:unimas:42",
                datestamp="2024-05-01T00:00:00Z",
                metadata={
                    "title": ({"value": "Hikayat Sarawak", "lang": "ms"},),
                    "date": ({"value": "1900"},),
                },
                link="https://unimas.example/records/42",
                manifest="https://unimas.example/iiif/42/manifest",
            ),
        )

    arrange(work)
    return consortium


def found_titles(response):
    """Return the titles found (the sample items also have an English title "… (en)")."""
    return {h["title"].removesuffix(" (en)") for h in response.json["hits"]}


def test_the_header_of_every_page_has_a_search_box(testapp):
    page = testapp.get("/")
    form = page.forms[0] if page.forms else None
    assert 'role="search"' in page.text
    assert form is not None and form.action.endswith("/search")


def test_a_word_of_a_title_finds_items_and_records(testapp, union):
    page = testapp.get("/search", params={"q": "hikayat"})
    assert page.status_int == 200
    assert "3 results" in page.text
    assert "<mark>Hikayat</mark> Pelanduk" in page.text
    assert f'href="http://localhost/items/{union.public}"' in page.text
    # the partner's record links to the partner's page and its manifest
    assert 'href="https://unimas.example/records/42"' in page.text
    assert 'href="https://unimas.example/iiif/42/manifest"' in page.text
    data = testapp.get("/api/search", params={"q": "hikayat"}).json
    assert data["total"] == 3
    assert found_titles(testapp.get("/api/search", params={"q": "HIKAYAT"})) == {
        "Hikayat Pelanduk",
        "Hikayat Banjar",
        "Hikayat Sarawak",
    }


def test_a_word_of_an_indonesian_description_is_found_and_escaped(testapp, union):
    data = testapp.get("/api/search", params={"q": "barito"}).json
    assert found_titles(testapp.get("/api/search", params={"q": "barito"})) == {"Hikayat Banjar"}
    hit = data["hits"][0]
    escaped = "Naskah &lt;b&gt;Banjar&lt;/b&gt; tentang sungai <mark>Barito</mark>"
    assert hit["snippet_html"] == escaped
    assert hit["url"] == f"http://localhost/items/{union.other_public}"
    assert hit["institution"]["id"] == "kaltim"
    page = testapp.get("/search", params={"q": "barito"})
    assert "<b>Banjar</b>" not in page.text


def test_restricted_items_are_not_found_by_the_public_nor_counted(testapp, union):
    for name in RESTRICTED:
        word = TITLES[name].split()[0]
        data = testapp.get("/api/search", params={"q": word}).json
        assert TITLES[name] not in found_titles(testapp.get("/api/search", params={"q": word}))
        page = testapp.get("/search", params={"q": TITLES[name]}).text
        assert TITLES[name] not in page.split('id="results-heading"')[1]
        assert "Nothing matches" in page
        assert data["total"] == len(data["hits"])
    everything = testapp.get("/api/search").json
    assert everything["total"] == 3 + 1  # public, metadata-only, other public; the record
    institutions = {v["value"]: v["count"] for v in everything["facets"]["institution"]}
    assert institutions == {"pns": 2, "kaltim": 1}


def test_staff_find_their_own_unpublished_items(testapp, union):
    login(testapp, "pns-curator")
    titles = found_titles(testapp.get("/api/search", params={"size": 100}))
    assert {TITLES["unpublished"], TITLES["staff_only"]} <= titles
    assert TITLES["other_unpublished"] not in titles
    page = testapp.get("/search", params={"q": "rahsia"})
    assert "<mark>Rahsia</mark>" in page.text
    for response in (page, testapp.get("/api/search")):  # no shared cache may keep these
        assert response.headers["Cache-Control"] == "private, no-store"
        assert {"Cookie", "Authorization"} <= set(response.vary)


def test_public_searches_vary_on_who_asks(testapp, union):
    response = testapp.get("/api/search", params={"q": "hikayat"})
    assert "Cache-Control" not in response.headers
    assert {"Cookie", "Authorization"} <= set(response.vary)


def test_a_community_member_finds_the_community_item(testapp, union):
    login(testapp, "reader")
    assert found_titles(testapp.get("/api/search", params={"q": "ensera"})) == {"Ensera Iban"}


def test_facets_are_links_that_narrow_and_widen_the_search(testapp, union):
    page = testapp.get("/search")
    link = page.click(description=re.compile(r"Dinas Perpustakaan Kalimantan Timur"), index=0)
    assert "1 result" in link.text
    assert "Hikayat Banjar" in link.text and "Hikayat Pelanduk" not in link.text
    assert 'aria-current="true"' in link.text
    back = link.click(description=re.compile(r"Dinas Perpustakaan Kalimantan Timur"), index=1)
    assert "4 results" in back.text
    data = testapp.get("/api/search", params={"institution": "kaltim"}).json
    assert data["total"] == 1
    assert data["facets"]["institution"] == [
        {
            "value": "kaltim",
            "label": "Dinas Perpustakaan Kalimantan Timur",
            "count": 1,
            "selected": True,
        }
    ]
    labels = {v["value"]: v["label"] for v in testapp.get("/api/search").json["facets"]["source"]}
    assert labels == {"ours": "Consortium members", "unimas": "UNIMAS Library"}


def test_date_facets_and_ranges(testapp, union):
    data = testapp.get("/api/search").json
    assert {v["value"]: v["count"] for v in data["facets"]["century"]} == {"1800": 3, "1900": 1}
    assert [v["label"] for v in data["facets"]["decade"]] == ["1850–1859", "1900–1909"]
    assert testapp.get("/api/search", params={"decade": "1900"}).json["total"] == 1
    assert testapp.get("/api/search", params={"from": "1890", "to": "1950"}).json["total"] == 1


def test_paging_and_sorting(testapp, union):
    first = testapp.get("/api/search", params={"sort": "title", "size": 2}).json
    second = testapp.get(first["next"].replace("http://localhost", "")).json
    assert first["pages"] == 2 and first["prev"] is None and second["next"] is None
    titles = [h["title"] for h in first["hits"] + second["hits"]]
    assert titles == sorted(titles, key=str.casefold)
    reverse = testapp.get("/api/search", params={"sort": "-title", "size": 100}).json
    assert [h["title"] for h in reverse["hits"]] == titles[::-1]
    page = testapp.get("/search", params={"sort": "title", "size": 2})
    assert "Page 1 of 2" in page.text
    assert "Salasilah" in page.click(description="Next page").text


def test_phrases_and_odd_input_never_fail(testapp, union):
    assert testapp.get("/api/search", params={"q": '"hikayat banjar"'}).json["total"] == 1
    assert testapp.get("/api/search", params={"q": '"banjar hikayat"'}).json["total"] == 0
    for q in ['"', "and or not", "(", "*", "the", "%", "<script>"]:
        testapp.get("/search", params={"q": q})
        testapp.get("/api/search", params={"q": q})


def test_the_api_is_public_json_for_any_site(testapp, union):
    response = testapp.get("/api/search", params={"q": "hikayat"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.content_type == "application/json"
    assert set(response.json) >= {"query", "total", "page", "size", "pages", "hits", "facets"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": "-1"}, "page"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"size": "1000"}, "size"),
        ({"sort": "random"}, "sort"),
        ({"from": "long ago"}, "from"),
        ({"from": "1900", "to": "1800"}, "from"),
        ({"facets": "colour"}, "facets"),
        ({"q": "x" * 600}, "q"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(testapp, union, params, field):
    response = testapp.get("/api/search", params=params, status=400)
    assert field in response.json["errors"]
    assert field in response.json["error"]
    testapp.get("/search", params=params, status=400)


@pytest.mark.parametrize("lang", ["ms", "id"])
def test_the_page_speaks_malay_and_indonesian(testapp, union, lang):
    page = testapp.get("/search", params={"q": "hikayat", "lang": lang})
    assert "3 results" not in page.text
    assert "Consortium members" not in page.text
