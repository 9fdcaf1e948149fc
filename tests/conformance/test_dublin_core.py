"""The item's Dublin Core record validates against the official oai_dc schema."""

from __future__ import annotations

import pytest
from lxml import etree
from support import xml_schema

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DC = "{http://purl.org/dc/elements/1.1/}"


@pytest.fixture(scope="module")
def oai_dc_schema():
    return xml_schema("oai_dc.xsd")


def test_dc_record_is_valid_oai_dc_with_languages(testapp, consortium, oai_dc_schema):
    response = testapp.get(f"/api/items/{consortium.public}/dc")
    assert response.content_type == "application/xml"
    doc = etree.fromstring(response.body, etree.XMLParser(no_network=True))
    assert oai_dc_schema.validate(doc), oai_dc_schema.error_log
    titles = {(t.get(XML_LANG), t.text) for t in doc.iter(f"{DC}title")}
    assert ("ms", "Hikayat Pelanduk") in titles and ("en", "Hikayat Pelanduk (en)") in titles
    identifiers = [i.text for i in doc.iter(f"{DC}identifier")]
    assert f"http://localhost/items/{consortium.public}" in identifiers
    assert f"http://localhost/iiif/manifests/{consortium.public}" in identifiers
    assert [d.text for d in doc.iter(f"{DC}date")] == ["1850~"]
    assert "http://rightsstatements.org/vocab/NoC-NKC/1.0/" in [
        r.text for r in doc.iter(f"{DC}rights")
    ]


def test_dc_record_follows_the_item_s_visibility(testapp, consortium):
    testapp.get(f"/api/items/{consortium.unpublished}/dc", status=404)
    testapp.get(f"/api/items/{consortium.metadata_only}/dc", status=200)  # the record is public


def test_the_manifest_links_its_dc_record(testapp, consortium):
    manifest = testapp.get(f"/iiif/manifests/{consortium.public}").json
    dc = [s for s in manifest["seeAlso"] if s["format"] == "application/xml"]
    assert dc and dc[0]["id"].endswith(f"/api/items/{consortium.public}/dc")
    testapp.get(dc[0]["id"], status=200)
