"""Every kind of OAI-PMH response validates against the official schemas, and every error
condition is answered as OAI-PMH 2.0 §3.6 says.

Responses are validated whole against ``bundle-oai-pmh.xsd`` (the envelope with oai_dc,
MODS and oai-identifier in one schema set: ``<metadata>`` and ``<description>`` are
``processContents="strict"``), payloads alone against ``oai_dc.xsd`` and ``mods.xsd``.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree
from support import SPECS, make_item, xml_schema

from heritage import main
from heritage.metadata import validate_record
from heritage.resources.item import Item

REPO = "heritage.example.org"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
MODS = "{http://www.loc.gov/mods/v3}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PARSER = etree.XMLParser(no_network=True)


def _schema(name: str) -> etree.XMLSchema:
    return xml_schema(name)


@pytest.fixture(scope="module")
def oai_schema() -> etree.XMLSchema:
    return _schema("bundle-oai-pmh.xsd")


@pytest.fixture(scope="module")
def mods_schema() -> etree.XMLSchema:
    return _schema("mods.xsd")


@pytest.fixture(scope="module")
def oai_dc_schema() -> etree.XMLSchema:
    return _schema("oai_dc.xsd")


@pytest.fixture
def settings(settings: dict[str, str]) -> dict[str, str]:
    return {**settings, "heritage.oai_page_size": "2", "heritage.oai_repository_id": REPO}


RICH = "pns-ms-0100"


@pytest.fixture
def repository(arrange, consortium) -> Any:
    """The consortium, plus one item described with everything MODS can carry."""

    def work(root: Any) -> None:
        metadata = validate_record(
            {
                "title": [
                    {"value": "Hikayat Raja Pasai", "lang": "ms"},
                    {"value": "هكاية راج ڤاسي", "lang": "ms-Arab"},
                    {"value": "The Chronicle of the Kings of Pasai", "lang": "en"},
                ],
                "creator": [{"value": "Tidak diketahui", "lang": "ms"}],
                "contributor": [{"value": "Abdullah Munsyi", "lang": "ms"}],
                "subject": [
                    {"value": "Sejarah Melayu", "lang": "ms"},
                    {"value": "Sejarah", "lang": "id"},
                ],
                "description": [
                    {"value": "Naskhah Jawi tentang raja-raja Pasai.", "lang": "ms"},
                    {"value": "Naskah Jawi tentang raja-raja Pasai.", "lang": "id"},
                ],
                "publisher": [{"value": "Pustaka Negeri Sarawak", "lang": "ms"}],
                "date": ["18XX"],
                "type": [{"value": "manuscript", "lang": "en"}, {"value": "Text", "lang": "en"}],
                "format": ["image/tiff", "42 folios"],
                "identifier": ["MS 123", "https://example.org/ms/123"],
                "source": [{"value": "Koleksi Haji Ahmad", "lang": "ms"}],
                "language": ["ms"],
                "relation": [{"value": "https://example.org/related", "lang": "en"}],
                "coverage": [{"value": "Kuching", "lang": "ms", "lat": 1.55, "lon": 110.34}],
                "rights": [{"value": "Hak cipta terpelihara", "lang": "ms"}],
            }
        )
        item = Item(
            RICH,
            metadata,
            state="published",
            access="public",
            rights="http://rightsstatements.org/vocab/NoC-NKC/1.0/",
        )
        root.collections["pns-manuscripts"].add_item(item)
        withdrawn = make_item("pns-ms-0200", "Hikayat Ditarik")
        root.collections["pns-manuscripts"].add_item(withdrawn)
        withdrawn.set_state("withdrawn")

    arrange(work)
    return consortium


def oai(testapp: Any, query: dict[str, str] | list[tuple[str, str]], schema: Any) -> Any:
    """GET /oai with ``query``; return the parsed document, after validating it."""
    response = testapp.get("/oai", query)
    assert response.status_int == 200
    assert response.headers["Content-Type"] == "text/xml; charset=UTF-8"
    doc = etree.fromstring(response.body, PARSER)
    assert schema.validate(doc), schema.error_log
    return doc


def errors(doc: Any) -> list[str]:
    return [e.get("code") for e in doc.iter(f"{OAI}error")]


# -- every response kind validates --------------------------------------------------------------


def test_identify(testapp, repository, oai_schema):
    doc = oai(testapp, {"verb": "Identify"}, oai_schema)
    identify = doc.find(f"{OAI}Identify")
    assert identify.findtext(f"{OAI}baseURL") == "http://localhost/oai"
    assert identify.findtext(f"{OAI}deletedRecord") == "persistent"
    assert identify.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext(f"{OAI}adminEmail") == f"admin@{REPO}"
    ident = "{http://www.openarchives.org/OAI/2.0/oai-identifier}"
    assert identify.findtext(f".//{ident}repositoryIdentifier") == REPO
    assert doc.find(f"{OAI}request").attrib == {"verb": "Identify"}


def test_identify_without_a_domain_for_identifiers(tmp_path, oai_schema):
    """Served as 127.0.0.1 with no oai_repository_id: ids still work, no oai-identifier."""
    import webtest

    app = main({}, **{"zodbconn.uri": "memory://", "heritage.var_dir": str(tmp_path / "v")})
    testapp = webtest.TestApp(app, extra_environ={"HTTP_HOST": "127.0.0.1:8080"})
    doc = oai(testapp, {"verb": "Identify"}, oai_schema)
    assert doc.find(f".//{OAI}description") is None
    assert doc.findtext(f".//{OAI}adminEmail") == "admin@127.0.0.1"
    assert doc.findtext(f".//{OAI}baseURL") == "http://127.0.0.1:8080/oai"


def test_list_metadata_formats(testapp, repository, oai_schema):
    doc = oai(testapp, {"verb": "ListMetadataFormats"}, oai_schema)
    assert [p.text for p in doc.iter(f"{OAI}metadataPrefix")] == ["oai_dc", "mods"]
    doc = oai(
        testapp, {"verb": "ListMetadataFormats", "identifier": f"oai:{REPO}:{RICH}"}, oai_schema
    )
    assert [p.text for p in doc.iter(f"{OAI}metadataPrefix")] == ["oai_dc", "mods"]


def test_list_sets(testapp, repository, oai_schema):
    doc = oai(testapp, {"verb": "ListSets"}, oai_schema)
    assert "pns:pns-manuscripts" in [s.text for s in doc.iter(f"{OAI}setSpec")]


@pytest.mark.parametrize("verb", ["ListIdentifiers", "ListRecords"])
@pytest.mark.parametrize("prefix", ["oai_dc", "mods"])
def test_lists_page_by_page(testapp, repository, oai_schema, verb, prefix):
    """Every page validates: the first (token, cursor 0), the middle, the last (empty token)."""
    query: dict[str, str] = {"verb": verb, "metadataPrefix": prefix}
    seen: list[str] = []
    tokens = []
    while True:
        doc = oai(testapp, query, oai_schema)
        seen += [
            i.text for i in doc.iter(f"{OAI}identifier") if i.getparent().tag == f"{OAI}header"
        ]
        token = doc.find(f".//{OAI}resumptionToken")
        tokens.append(token)
        if token is None or not token.text:
            break
        query = {"verb": verb, "resumptionToken": token.text}
    assert len(seen) == len(set(seen)) == 5  # 3 public, the rich one, the withdrawn one
    assert [t.get("cursor") for t in tokens] == ["0", "2", "4"]
    assert {t.get("completeListSize") for t in tokens} == {"5"}
    assert tokens[0].get("expirationDate").endswith("Z")
    assert tokens[-1].text is None and tokens[-1].get("expirationDate") is None
    assert seen == sorted(seen)  # item id order: a stable key


def test_get_record_in_each_format(testapp, repository, oai_schema, mods_schema, oai_dc_schema):
    for prefix, schema in (("oai_dc", oai_dc_schema), ("mods", mods_schema)):
        doc = oai(
            testapp,
            {"verb": "GetRecord", "identifier": f"oai:{REPO}:{RICH}", "metadataPrefix": prefix},
            oai_schema,
        )
        payload = doc.find(f".//{OAI}metadata")[0]
        alone = etree.fromstring(etree.tostring(payload), PARSER)
        assert schema.validate(alone), schema.error_log


def test_a_deleted_record(testapp, repository, oai_schema):
    deleted = f"oai:{REPO}:pns-ms-0200"
    doc = oai(
        testapp, {"verb": "GetRecord", "metadataPrefix": "mods", "identifier": deleted}, oai_schema
    )
    assert doc.find(f".//{OAI}header").get("status") == "deleted"
    assert doc.find(f".//{OAI}metadata") is None
    query = {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "pns"}
    records = {}
    while query:
        doc = oai(testapp, query, oai_schema)
        for record in doc.iter(f"{OAI}record"):
            header = record.find(f"{OAI}header")
            records[header.findtext(f"{OAI}identifier")] = (
                header.get("status"),
                record.find(f"{OAI}metadata") is not None,
            )
        token = doc.findtext(f".//{OAI}resumptionToken")
        query = {"verb": "ListRecords", "resumptionToken": token} if token else None
    assert records[deleted] == ("deleted", False)
    assert records[f"oai:{REPO}:pns-ms-0001"] == (None, True)


def test_mods_carries_the_multilingual_description(testapp, repository, oai_schema):
    doc = oai(
        testapp,
        {"verb": "GetRecord", "identifier": f"oai:{REPO}:{RICH}", "metadataPrefix": "mods"},
        oai_schema,
    )
    mods = doc.find(f".//{MODS}mods")
    titles = [
        (
            t.get(XML_LANG),
            t.get("type"),
            t.get("usage"),
            t.get("script"),
            t.findtext(f"{MODS}title"),
        )
        for t in mods.findall(f"{MODS}titleInfo")
    ]
    assert titles == [
        ("ms", None, "primary", None, "Hikayat Raja Pasai"),
        ("ms-Arab", "alternative", None, "Arab", "هكاية راج ڤاسي"),
        ("en", "translated", None, None, "The Chronicle of the Kings of Pasai"),
    ]
    abstracts = {a.get(XML_LANG): a.text for a in mods.findall(f"{MODS}abstract")}
    assert abstracts == {
        "ms": "Naskhah Jawi tentang raja-raja Pasai.",
        "id": "Naskah Jawi tentang raja-raja Pasai.",
    }
    topics = {(s.get(XML_LANG), s.findtext(f"{MODS}topic")) for s in mods.findall(f"{MODS}subject")}
    assert {("ms", "Sejarah Melayu"), ("id", "Sejarah")} <= topics
    place = mods.find(f"{MODS}subject/{MODS}geographic/..")
    assert place.findtext(f"{MODS}geographic") == "Kuching"
    assert place.findtext(f"{MODS}cartographics/{MODS}coordinates") == "1.55, 110.34"
    location = mods.find(f"{MODS}location")
    assert {(p.get(XML_LANG), p.text) for p in location.findall(f"{MODS}physicalLocation")} == {
        ("en", "Sarawak State Library"),
        ("ms", "Pustaka Negeri Sarawak"),
    }
    urls = {u.get("access"): u.text for u in location.findall(f"{MODS}url")}
    assert urls == {
        "object in context": f"http://localhost/items/{RICH}",
        "raw object": f"http://localhost/iiif/manifests/{RICH}",
    }
    assert mods.find(f"{MODS}typeOfResource").get("manuscript") == "yes"
    assert mods.findtext(f"{MODS}originInfo/{MODS}dateCreated") == "18XX"
    host = mods.find(f"{MODS}relatedItem[@type='host']")
    assert (
        host.findtext(f"{MODS}location/{MODS}url") == "http://localhost/collections/pns-manuscripts"
    )


def test_post_is_answered_like_get(testapp, repository, oai_schema):
    response = testapp.post("/oai", {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    doc = etree.fromstring(response.body, PARSER)
    assert oai_schema.validate(doc), oai_schema.error_log
    got = testapp.get("/oai", {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert response.body.split(b"</request>")[1] == got.body.split(b"</request>")[1]


# -- every error condition (§3.6), table-driven -------------------------------------------------

#: (query, expected error codes, whether the request element echoes the arguments)
ERRORS = [
    ([], ["badVerb"], False),
    ([("verb", "ListThings")], ["badVerb"], False),
    ([("verb", "Identify"), ("verb", "Identify")], ["badVerb"], False),
    ([("verb", "Identify"), ("set", "pns")], ["badArgument"], False),
    ([("verb", "Identify"), ("flavour", "durian")], ["badArgument"], False),
    ([("verb", "ListRecords")], ["badArgument"], False),
    ([("verb", "ListIdentifiers"), ("from", "2020-01-01")], ["badArgument"], False),
    ([("verb", "GetRecord"), ("identifier", f"oai:{REPO}:{RICH}")], ["badArgument"], False),
    ([("verb", "GetRecord"), ("metadataPrefix", "oai_dc")], ["badArgument"], False),
    (
        [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "mods")],
        ["badArgument"],
        False,
    ),
    ([("verb", "ListRecords"), ("metadataPrefix", "")], ["badArgument"], False),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai dc")], ["badArgument"], False),
    (
        [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("set", "pns:")],
        ["badArgument"],
        False,
    ),
    (
        [
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2020-01-01"),
            ("until", "2020-01-01T00:00:00Z"),
        ],
        ["badArgument"],
        False,
    ),
    (
        [
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2021-01-02"),
            ("until", "2021-01-01"),
        ],
        ["badArgument"],
        False,
    ),
    (
        [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2021-13-01")],
        ["badArgument"],
        False,
    ),
    (
        [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2021-01-01T25:00:00Z")],
        ["badArgument"],
        False,
    ),
    (
        [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2021-01-01T00:00:00.5Z")],
        ["badArgument"],
        False,
    ),
    (
        [
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("until", "2021-01-01T00:00:00+08:00"),
        ],
        ["badArgument"],
        False,
    ),
    ([("verb", "ListRecords"), ("resumptionToken", "x"), ("set", "pns")], ["badArgument"], False),
    (
        [("verb", "GetRecord"), ("identifier", "oai:a.b:\x01"), ("metadataPrefix", "oai_dc")],
        ["badArgument"],
        False,
    ),
    ([("verb", "ListRecords"), ("metadataPrefix", "marc21")], ["cannotDisseminateFormat"], True),
    (
        [("verb", "GetRecord"), ("identifier", f"oai:{REPO}:{RICH}"), ("metadataPrefix", "marc21")],
        ["cannotDisseminateFormat"],
        True,
    ),
    (
        [
            ("verb", "GetRecord"),
            ("identifier", f"oai:{REPO}:nothing-here"),
            ("metadataPrefix", "marc21"),
        ],
        ["cannotDisseminateFormat", "idDoesNotExist"],
        True,
    ),
    (
        [
            ("verb", "GetRecord"),
            ("identifier", f"oai:{REPO}:pns-ms-0002"),
            ("metadataPrefix", "oai_dc"),
        ],
        ["idDoesNotExist"],  # unpublished: not even known to exist
        True,
    ),
    (
        [
            ("verb", "GetRecord"),
            ("identifier", f"oai:elsewhere.org:{RICH}"),
            ("metadataPrefix", "oai_dc"),
        ],
        ["idDoesNotExist"],
        True,
    ),
    ([("verb", "ListMetadataFormats"), ("identifier", "pns-ms-0001")], ["idDoesNotExist"], True),
    (
        [("verb", "ListMetadataFormats"), ("identifier", f"oai:{REPO}:pns-ms-0200")],
        ["noMetadataFormats"],  # deleted
        True,
    ),
    ([("verb", "ListRecords"), ("resumptionToken", "not-a-token")], ["badResumptionToken"], True),
    ([("verb", "ListIdentifiers"), ("resumptionToken", "e30.AAAA")], ["badResumptionToken"], True),
    ([("verb", "ListSets"), ("resumptionToken", "anything")], ["badResumptionToken"], True),
    (
        [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("set", "sabah")],
        ["noRecordsMatch"],
        True,
    ),
    (
        [("verb", "ListRecords"), ("metadataPrefix", "mods"), ("until", "1999-12-31")],
        ["noRecordsMatch"],
        True,
    ),
    (
        [
            ("verb", "ListIdentifiers"),
            ("metadataPrefix", "oai_dc"),
            ("set", "pns:pns-oral-history"),
        ],
        ["noRecordsMatch"],  # only a community item there
        True,
    ),
]


@pytest.mark.parametrize(("query", "codes", "echo"), ERRORS)
def test_error_conditions(testapp, repository, oai_schema, query, codes, echo):
    doc = oai(testapp, query, oai_schema)
    assert errors(doc) == codes
    request = doc.find(f"{OAI}request")
    assert request.text == "http://localhost/oai"
    if echo:
        assert request.attrib == dict(query)
    else:
        assert request.attrib == {}  # §3.2: badVerb/badArgument give the base URL only
    assert doc.find(f"{OAI}{query[0][1]}") is None if query else True


def test_no_set_hierarchy_in_an_empty_repository(tmp_path, oai_schema):
    import webtest

    app = main({}, **{"zodbconn.uri": "memory://", "heritage.var_dir": str(tmp_path / "v")})
    testapp = webtest.TestApp(app)
    for query in (
        {"verb": "ListSets"},
        {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "pns"},
    ):
        doc = oai(testapp, query, oai_schema)
        assert errors(doc) == ["noSetHierarchy"]
        assert doc.find(f"{OAI}request").attrib == query


def test_the_spec_s_own_examples_validate(oai_schema):
    """The schema set used here accepts the OAI-PMH spec's examples (a check of the check)."""
    for path in sorted((SPECS / "xml" / "examples").glob("oai-*.xml")):
        doc = etree.parse(str(path), PARSER)
        assert oai_schema.validate(doc), (path.name, oai_schema.error_log)
