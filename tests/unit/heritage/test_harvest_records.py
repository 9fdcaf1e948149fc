"""One OAI-PMH record → union-catalogue data: Dublin Core with its languages, links, status."""

from __future__ import annotations

import pytest
from lxml import etree

from heritage.harvest.records import find_links, parse_record

HEAD = (
    '<record xmlns="http://www.openarchives.org/OAI/2.0/" '
    'xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
)


def record(metadata: str, header: str = "") -> etree._Element:
    header = header or (
        "<header><identifier>oai:slims.example:42</identifier>"
        "<datestamp>2024-05-01</datestamp><setSpec>naskah</setSpec></header>"
    )
    return etree.fromstring(f"{HEAD}{header}<metadata>{metadata}</metadata></record>")


def test_dublin_core_keeps_each_values_language():
    data = parse_record(
        record(
            '<oai_dc:dc xml:lang="id">'
            '<dc:title xml:lang="ms">Hikayat  Banjar\n</dc:title>'
            '<dc:title xml:lang="en">The Chronicle of Banjar</dc:title>'
            "<dc:description>Naskah tentang raja-raja Banjar</dc:description>"
            '<dc:creator xml:lang="not a tag!">Anonim</dc:creator>'
            "<dc:date>1850</dc:date><dc:date>1850</dc:date>"
            "<dc:subject></dc:subject>"
            "</oai_dc:dc>"
        )
    )
    assert data.identifier == "oai:slims.example:42" and data.datestamp == "2024-05-01"
    assert data.sets == ("naskah",) and not data.deleted
    assert data.metadata["title"] == (
        {"value": "Hikayat Banjar", "lang": "ms"},
        {"value": "The Chronicle of Banjar", "lang": "en"},
    )
    # xml:lang is inherited from the container; a bad tag is dropped, the value kept
    assert data.metadata["description"] == (
        {"value": "Naskah tentang raja-raja Banjar", "lang": "id"},
    )
    assert data.metadata["creator"] == ({"value": "Anonim"},)
    assert data.metadata["date"] == ({"value": "1850", "lang": "id"},)  # duplicates once
    assert "subject" not in data.metadata  # empty values are dropped


def test_dcterms_refinements_fold_into_the_fifteen_elements():
    data = parse_record(
        record(
            "<dcterms:qualifieddc>"
            '<dcterms:title xml:lang="id">Babad Kutai</dcterms:title>'
            '<dcterms:abstract xml:lang="id">Sejarah kerajaan</dcterms:abstract>'
            "<dcterms:issued>1901</dcterms:issued>"
            '<dcterms:spatial xml:lang="id">Tenggarong</dcterms:spatial>'
            "<dcterms:unknownThing>x</dcterms:unknownThing>"
            "</dcterms:qualifieddc>"
        )
    )
    assert data.metadata == {
        "title": ({"value": "Babad Kutai", "lang": "id"},),
        "description": ({"value": "Sejarah kerajaan", "lang": "id"},),
        "date": ({"value": "1901"},),
        "coverage": ({"value": "Tenggarong", "lang": "id"},),
    }


def test_mods_is_mapped_to_dublin_core():
    data = parse_record(
        record(
            '<mods xmlns="http://www.loc.gov/mods/v3">'
            '<titleInfo xml:lang="ms" script="Arab"><title>هكاية</title></titleInfo>'
            '<titleInfo xml:lang="en" type="translated"><title>A Tale</title></titleInfo>'
            '<name><namePart xml:lang="ms">Abdullah</namePart>'
            "<role><roleTerm>aut</roleTerm></role></name>"
            '<abstract xml:lang="id">Kisah lama</abstract>'
            '<originInfo><dateCreated encoding="edtf">18XX</dateCreated></originInfo>'
            "<subject><geographic>Kuching</geographic></subject>"
            '<language><languageTerm type="code">ms</languageTerm></language>'
            '<relatedItem type="host"><titleInfo><title>Koleksi</title></titleInfo>'
            "<location><url>https://p.example/collections/c</url></location></relatedItem>"
            '<location><physicalLocation xml:lang="en">State Library</physicalLocation>'
            '<url usage="primary">https://p.example/items/x</url>'
            "<url>https://p.example/iiif/manifests/x</url></location>"
            "</mods>"
        )
    )
    md = data.metadata
    assert md["title"] == ({"value": "هكاية", "lang": "ms-Arab"}, {"value": "A Tale", "lang": "en"})
    assert md["creator"] == ({"value": "Abdullah", "lang": "ms"},)  # not the role code
    assert md["description"] == ({"value": "Kisah lama", "lang": "id"},)
    assert md["date"] == ({"value": "18XX"},) and md["coverage"] == ({"value": "Kuching"},)
    assert md["relation"] == ({"value": "https://p.example/collections/c"},)
    assert "Koleksi" not in str(md)  # a related item's title is not this record's
    assert data.link == "https://p.example/items/x"
    assert data.manifest == "https://p.example/iiif/manifests/x"


def test_deleted_records_carry_no_metadata():
    data = parse_record(
        record(
            "",
            '<header status="deleted"><identifier>oai:x:1</identifier>'
            "<datestamp>2024-06-01T10:00:00Z</datestamp></header>",
        )
    )
    assert data.deleted and data.metadata == {} and data.link == ""


@pytest.mark.parametrize(
    "header",
    [
        "<header><datestamp>2024-01-01</datestamp></header>",
        "<header><identifier>  </identifier></header>",
        f"<header><identifier>{'x' * 1001}</identifier></header>",
    ],
)
def test_a_record_without_a_usable_identifier_is_skipped(header):
    assert parse_record(record("<oai_dc:dc/>", header)) is None


@pytest.mark.parametrize(
    ("identifiers", "relations", "link", "manifest"),
    [
        # our own provider: the item page and its manifest
        (
            [
                "https://heritage.example/items/pns-ms-1",
                "https://heritage.example/iiif/manifests/pns-ms-1",
            ],
            [],
            "https://heritage.example/items/pns-ms-1",
            "https://heritage.example/iiif/manifests/pns-ms-1",
        ),
        # an Omeka-style manifest relation; a call number and an ISBN are not links
        (
            ["MS 123", "ISBN 978-983-0000-00-0", "http://omeka.example/items/show/7"],
            ["http://omeka.example/iiif/7/manifest.json"],
            "http://omeka.example/items/show/7",
            "http://omeka.example/iiif/7/manifest.json",
        ),
        # files and services are not pages; the relation page is used instead
        (
            ["https://repo.example/files/scan.pdf", "https://repo.example/iiif/3/abc/info.json"],
            ["https://repo.example/handle/123"],
            "https://repo.example/handle/123",
            "",
        ),
        # only http(s): never a javascript: or file: link
        (["javascript:alert(1)", "file:///etc/passwd", "https://ok.example/x y"], [], "", ""),
    ],
)
def test_links_to_the_partners_page_and_manifest(identifiers, relations, link, manifest):
    metadata = {
        "identifier": tuple({"value": v} for v in identifiers),
        "relation": tuple({"value": v} for v in relations),
    }
    assert find_links(metadata) == (link, manifest)


def test_values_and_counts_are_bounded():
    many = "".join(f"<dc:subject>s{n}</dc:subject>" for n in range(300))
    long = "x" * 20_000
    data = parse_record(record(f"<oai_dc:dc><dc:title>{long}</dc:title>{many}</oai_dc:dc>"))
    assert len(data.metadata["subject"]) == 200
    assert len(data.metadata["title"][0]["value"]) == 10_000
