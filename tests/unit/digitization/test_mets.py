"""digitization.mets: an item's METS document from plain dicts, PREMIS 3 inside."""

from __future__ import annotations

import pytest
from lxml import etree
from support import xml_schema

from digitization.mets import build_mets, pick_label, to_bytes

NS = {"mets": "http://www.loc.gov/METS/", "premis": "http://www.loc.gov/premis/v3"}
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
PARSER = etree.XMLParser(no_network=True)
SHA = "ab" * 32


def _file(name: str, mimetype: str, label: dict | None = None) -> dict:
    return {
        "name": name,
        "filename": f"scan {name}.bin",
        "mimetype": mimetype,
        "size": 1234,
        "sha256": SHA.replace("a", name[0]),
        "md5": "cd" * 16,
        "format": {"puid": "fmt/353", "name": "Tagged Image File Format"},
        "techmd": {},
        "href": f"../data/masters/{int(name):04d}-scan.bin",
        "label": label or {},
    }


FILES = [
    _file("1", "image/tiff", {"ms": "halaman 1", "en": "page 1"}),
    _file("3", "image/jpeg", {"iba": "lambar 2"}),  # file 2 was deaccessioned
    _file("4", "audio/x-wav"),
]
EVENTS = [
    {
        "id": "20240101T000000.000001-aa",
        "type": "ingestion",
        "date": "2024-01-01T00:00:00+00:00",
        "outcome": "success",
        "detail": "stored",
        "agents": ({"type": "person", "name": "user:ana"}, {"type": "software", "name": "x 1"}),
        "objects": ("it-1/1",),
    },
    {
        "id": "20240102T000000.000001-bb",
        "type": "validation",
        "date": "2024-01-02T00:00:00+00:00",
        "outcome": "failure",
        "detail": "blurred\x0b page",  # a control character XML cannot carry
        "agents": ({"type": "software", "name": "Pillow 12"},),
        "objects": ("it-1/3",),
    },
]


def mets(**kw) -> etree._Element:
    args = {
        "institution": {"id": "pns", "name": "Pustaka Negeri Sarawak"},
        "rights": {"uri": "http://rightsstatements.org/vocab/NoC-NKC/1.0/", "access": "public"},
        "sections": (
            {"label": {"en": "Text", "ms": "Teks"}, "files": ("1", "2", "3")},
            {"label": {"iba": "Jaku"}, "files": ("4",)},
        ),
        "software": "Borneo Heritage 0.1",
        "created": "2024-03-01T00:00:00+00:00",
    }
    args.update(kw)
    return build_mets(
        {"id": "it-1", "label": {"ms": "Hikayat", "en": "The tale"}, "state": "published"},
        FILES,
        EVENTS,
        **args,
    )


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return xml_schema("bundle-mets.xsd")


def test_the_document_is_valid_mets_with_premis_3(schema):
    data = to_bytes(mets())
    doc = etree.fromstring(data, PARSER)
    assert schema.validate(doc), schema.error_log
    assert b"premis-v2" not in data and b"\x0b" not in data
    assert doc.get("OBJID") == "it-1" and doc.get("LABEL") == "The tale"


def test_premis_parts_go_where_mets_wants_them():
    doc = mets()
    item_objects = doc.xpath(
        "//mets:amdSec[@ID='amd-item']/mets:techMD//premis:object", namespaces=NS
    )
    assert {o.get(XSI_TYPE) for o in item_objects} >= {"premis:intellectualEntity"}
    for f in FILES:
        (obj,) = doc.xpath(
            f"//mets:amdSec[@ID='amd-file-{f['name']}']/mets:techMD//premis:object", namespaces=NS
        )
        assert obj.get(XSI_TYPE) == "premis:file" and obj.get("version") == "3.0"
        assert f["sha256"] in obj.xpath(".//premis:messageDigest/text()", namespaces=NS)
    events = doc.xpath("//mets:digiprovMD/mets:mdWrap[@MDTYPE='PREMIS:EVENT']", namespaces=NS)
    assert len(events) == len(EVENTS)
    agents = doc.xpath("//mets:digiprovMD/mets:mdWrap[@MDTYPE='PREMIS:AGENT']", namespaces=NS)
    assert len(agents) == 4  # the institution, the person and two programs
    assert doc.xpath("//mets:rightsMD/mets:mdWrap[@MDTYPE='PREMIS:RIGHTS']", namespaces=NS)


def test_the_physical_map_is_the_page_order_and_the_logical_map_the_sections():
    doc = mets()
    pages = doc.xpath("//mets:structMap[@TYPE='physical']/mets:div/mets:div", namespaces=NS)
    assert [(p.get("ORDER"), p.get("TYPE"), p.get("LABEL")) for p in pages] == [
        ("1", "page", "page 1"),
        ("2", "page", "lambar 2"),
        ("3", "audio", "scan 4.bin"),  # no label: the original name
    ]
    files = doc.xpath("//mets:fileGrp[@USE='master']/mets:file", namespaces=NS)
    assert [f.get("ID") for f in files] == ["file-1", "file-3", "file-4"]
    assert [f.get("SEQ") for f in files] == ["1", "2", "3"]
    sections = doc.xpath(
        "//mets:structMap[@TYPE='logical']//mets:div[@TYPE='section']", namespaces=NS
    )
    assert [s.get("LABEL") for s in sections] == ["Text", "Jaku"]
    assert [p.get("FILEID") for p in sections[0]] == ["file-1", "file-3"]  # no file-2


def test_no_sections_no_logical_map_and_no_files_no_file_section(schema):
    doc = mets(sections=())
    assert not doc.xpath("//mets:structMap[@TYPE='logical']", namespaces=NS)
    empty = build_mets(
        {"id": "it-2"},
        [],
        [],
        institution={"id": "pns", "name": "PNS"},
        rights={"uri": ""},
    )
    assert not empty.xpath("//mets:fileSec", namespaces=NS)
    assert schema.validate(etree.fromstring(to_bytes(empty), PARSER)), schema.error_log


def test_a_dublin_core_element_becomes_the_dmdsec():
    dc = etree.fromstring(
        b'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"'
        b' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title></oai_dc:dc>'
    )
    doc = mets(dc=dc)
    (wrap,) = doc.xpath("//mets:dmdSec[@ID='dmd-dc']/mets:mdWrap[@MDTYPE='DC']", namespaces=NS)
    assert wrap.find("mets:xmlData", NS)[0] is dc
    (top,) = doc.xpath("//mets:structMap[@TYPE='physical']/mets:div", namespaces=NS)
    assert top.get("DMDID") == "dmd-dc"


@pytest.mark.parametrize(
    ("label", "languages", "expected"),
    [
        ({"ms": "Teks", "en": "Text"}, (), "Text"),
        ({"ms": "Teks", "en": "Text"}, ("ms",), "Teks"),
        ({"iba": "Jaku"}, ("ms",), "Jaku"),
        ("plain", (), "plain"),
        ({}, (), ""),
        (None, (), ""),
    ],
)
def test_one_label_is_picked_from_a_language_map(label, languages, expected):
    assert pick_label(label, languages) == expected
