"""digitization.premis: a PREMIS 3 document from plain dicts, in the schema's order."""

from __future__ import annotations

import pytest
from lxml import etree
from support import xml_schema

from digitization.premis import PREMIS, build_premis, to_bytes

P = f"{{{PREMIS}}}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
NS = {"premis": PREMIS}
PARSER = etree.XMLParser(no_network=True)
INSTITUTION = {"id": "pns", "name": "Sarawak State Library"}
RIGHTS = {"uri": "http://rightsstatements.org/vocab/NoC-NKC/1.0/", "access": "public"}

FILE = {
    "name": "0001",
    "filename": "folio-1r.tif",
    "mimetype": "image/tiff",
    "size": 1234,
    "sha256": "a" * 64,
    "md5": "b" * 32,
    "format": {
        "puid": "fmt/353",
        "name": "Tagged Image File Format",
        "version": "6.0",
        "tool": "fido 1.6.1",
        "signature_version": "DROID_SignatureFile_V119.xml",
    },
    "techmd": {"software": "Capture One", "make": "Phase One", "model": "IQ4"},
}
PERSON = {"type": "person", "name": "user:pns-digitizer"}
APP = {"type": "software", "name": "Borneo Heritage 0.1"}
EVENTS = [
    {
        "id": "20240501T100000.000000-aaaa",
        "type": "ingestion",
        "date": "2024-05-01T10:00:00+00:00",
        "outcome": "success",
        "detail": "folio-1r.tif stored as file 0001",
        "note": "",
        "agents": (PERSON, APP),
        "objects": ("ms-1/0001",),
    },
    {
        "id": "20240501T100001.000000-bbbb",
        "type": "message digest calculation",
        "date": "2024-05-01T10:00:01+00:00",
        "outcome": "success",
        "detail": "sha256 …",
        "note": "checked twice",
        "agents": (APP,),
        "objects": ("ms-1/0001",),
    },
]


@pytest.fixture(scope="module")
def premis_schema():
    return xml_schema("premis.xsd")


def _doc(files=(FILE,), events=EVENTS, rights=RIGHTS, item_id="ms-1"):
    element = build_premis(
        {"id": item_id}, list(files), list(events), institution=INSTITUTION, rights=rights
    )
    return etree.fromstring(to_bytes(element), PARSER)


def _local(node) -> list[str]:
    return [etree.QName(c).localname for c in node]


def test_a_small_item_in_schema_order(premis_schema):
    doc = _doc()
    assert premis_schema.validate(doc), premis_schema.error_log
    assert doc.tag == f"{P}premis" and doc.get("version") == "3.0"
    assert _local(doc) == [
        "object",
        "object",
        "object",
        "event",
        "event",
        "agent",
        "agent",
        "agent",
        "rights",
    ]
    entity, representation, file_object = doc.findall(f"{P}object")
    assert entity.get(XSI_TYPE) == "premis:intellectualEntity"
    assert (
        entity.findtext("premis:objectIdentifier/premis:objectIdentifierValue", namespaces=NS)
        == "ms-1"
    )
    assert representation.get(XSI_TYPE) == "premis:representation"
    assert file_object.get(XSI_TYPE) == "premis:file"
    assert _local(file_object) == [
        "objectIdentifier",
        "objectCharacteristics",
        "originalName",
        "relationship",
        "linkingRightsStatementIdentifier",
    ]
    chars = file_object.find(f"{P}objectCharacteristics")
    assert _local(chars) == [
        "compositionLevel",
        "fixity",
        "fixity",
        "size",
        "format",
        "creatingApplication",
        "creatingApplication",
    ]
    digests = {
        f.findtext(f"{P}messageDigestAlgorithm"): f.findtext(f"{P}messageDigest")
        for f in chars.findall(f"{P}fixity")
    }
    assert digests == {"SHA-256": "a" * 64, "MD5": "b" * 32}
    assert chars.findtext(f"{P}size") == "1234"
    assert (
        chars.findtext("premis:format/premis:formatDesignation/premis:formatVersion", namespaces=NS)
        == "6.0"
    )
    registry = chars.find("premis:format/premis:formatRegistry", NS)
    assert registry.findtext(f"{P}formatRegistryName") == "PRONOM"
    assert registry.findtext(f"{P}formatRegistryKey") == "fmt/353"
    apps = [
        a.findtext(f"{P}creatingApplicationName") for a in chars.findall(f"{P}creatingApplication")
    ]
    assert apps == ["Capture One", "Phase One IQ4"]
    assert file_object.findtext(f"{P}originalName") == "folio-1r.tif"
    assert (
        file_object.findtext("premis:objectIdentifier/premis:objectIdentifierValue", namespaces=NS)
        == "ms-1/0001"
    )
    related = file_object.find("premis:relationship/premis:relatedObjectIdentifier", NS)
    assert related.findtext(f"{P}relatedObjectIdentifierValue") == "ms-1/masters"

    ingestion = doc.find(f"{P}event")
    assert _local(ingestion) == [
        "eventIdentifier",
        "eventType",
        "eventDateTime",
        "eventDetailInformation",
        "eventOutcomeInformation",
        "linkingAgentIdentifier",
        "linkingAgentIdentifier",
        "linkingObjectIdentifier",
    ]
    event_type = ingestion.find(f"{P}eventType")
    assert event_type.text == "ingestion"
    assert event_type.get("valueURI") == "http://id.loc.gov/vocabulary/preservation/eventType/ing"
    assert (
        ingestion.findtext("premis:eventOutcomeInformation/premis:eventOutcome", namespaces=NS)
        == "success"
    )
    note = doc.findall(f"{P}event")[1].findtext(".//premis:eventOutcomeDetailNote", namespaces=NS)
    assert note == "checked twice"

    statement = doc.find("premis:rights/premis:rightsStatement", NS)
    assert statement.findtext(f"{P}rightsBasis") == "Other"
    assert RIGHTS["uri"] in [e.text for e in statement.iter()]
    assert "access level: public" in [e.text for e in statement.iter(f"{P}otherRightsNote")]


def test_agents_are_deduplicated_with_the_institution_as_organization():
    doc = _doc()
    agents = [
        (
            a.findtext("premis:agentIdentifier/premis:agentIdentifierValue", namespaces=NS),
            a.findtext(f"{P}agentName"),
            a.findtext(f"{P}agentType"),
        )
        for a in doc.findall(f"{P}agent")
    ]
    assert agents == [
        ("organization:pns", "Sarawak State Library", "organization"),
        ("person:user:pns-digitizer", "user:pns-digitizer", "person"),
        ("software:Borneo Heritage 0.1", "Borneo Heritage", "software"),
    ]
    versions = [a.findtext(f"{P}agentVersion") for a in doc.findall(f"{P}agent")]
    assert versions == [None, None, "0.1"]
    linked = {v.text for v in doc.iter(f"{P}linkingAgentIdentifierValue")}
    assert linked <= {a[0] for a in agents}


def test_odd_characters_are_escaped_or_dropped(premis_schema):
    odd = dict(FILE, filename='a<b>&"c"\x01\x0b d\u00e9\U0001f600.tif')
    event = dict(EVENTS[0], detail="1 < 2 & 3 > 2\x00", note="]]> done")
    doc = _doc(files=[odd], events=[event])
    assert premis_schema.validate(doc), premis_schema.error_log
    assert doc.findtext(".//premis:originalName", namespaces=NS) == 'a<b>&"c" d\u00e9\U0001f600.tif'
    assert doc.findtext(".//premis:eventDetail", namespaces=NS) == "1 < 2 & 3 > 2"
    assert doc.findtext(".//premis:eventOutcomeDetailNote", namespaces=NS) == "]]> done"


def test_an_item_with_no_files_and_no_events_is_still_valid(premis_schema):
    doc = _doc(files=[], events=[], rights={})
    assert premis_schema.validate(doc), premis_schema.error_log
    assert _local(doc) == ["object", "agent", "rights"]
    events_only = _doc(files=[], events=EVENTS)
    assert premis_schema.validate(events_only), premis_schema.error_log
    files_only = _doc(events=[])
    assert premis_schema.validate(files_only), premis_schema.error_log
    assert len(files_only.findall(f"{P}event")) == 0


def test_an_event_without_objects_links_the_item_and_an_unknown_type_has_no_uri(premis_schema):
    event = dict(EVENTS[0], type="rejection", objects=(), agents=())
    doc = _doc(events=[event])
    assert premis_schema.validate(doc), premis_schema.error_log
    assert doc.find(".//premis:eventType", NS).get("valueURI") is None
    assert next(v.text for v in doc.iter(f"{P}linkingObjectIdentifierValue")) == "ms-1"


def test_a_creative_commons_licence_is_a_license_basis(premis_schema):
    rights = {
        "uri": "http://creativecommons.org/licenses/by/4.0/",
        "access": "community",
        "community": "iban-elders",
    }
    doc = _doc(rights=rights)
    assert premis_schema.validate(doc), premis_schema.error_log
    statement = doc.find("premis:rights/premis:rightsStatement", NS)
    assert statement.findtext(f"{P}rightsBasis") == "License"
    notes = [n.text for n in statement.iter(f"{P}licenseNote")]
    assert notes == ["access level: community", "community protocol: iban-elders"]


def test_no_premis_2_namespace():
    text = to_bytes(
        build_premis({"id": "ms-1"}, [FILE], EVENTS, institution=INSTITUTION, rights=RIGHTS)
    )
    assert b"premis/v3" in text
    assert b"premis-v2" not in text and b"info:lc/xmlns/premis-v2" not in text


IMAGE_FILE = dict(
    FILE,
    techmd={
        "width": 4000,
        "height": 5200,
        "bits_per_sample": 8,
        "samples_per_pixel": 3,
        "colour_space": "RGB",
        "icc_profile": "Adobe RGB (1998)",
        "ppi_x": 400.0,
        "ppi_y": 400.0,
        "software": "Capture One 16.2",
        "creator_tool": "Goobi ImageCapture 3",
        "make": "Phase One",
        "model": "IQ4 150MP",
        "capture_date": "2024:05:01 09:30:00",
    },
    storage={"location_type": "ZODB blob", "location": "oid 0x2a", "medium": "hard disk"},
    image_id="ms-1_0001",
    position=1,
)
AUDIO_FILE = {
    "name": "2",
    "filename": "ensera-side-a.wav",
    "mimetype": "audio/x-wav",
    "size": 5_292_044,
    "sha256": "c" * 64,
    "md5": "d" * 32,
    "format": {"puid": "fmt/141", "name": "Waveform Audio (PCMWAVEFORMAT)", "tool": "fido 1.6.1"},
    "techmd": {
        "duration": 30.0,
        "sample_rate": 44100,
        "channels": 2,
        "bits_per_sample": 16,
        "codec": "Microsoft PCM",
    },
    "position": 2,
}


def _props(file_object) -> list[tuple[str, str]]:
    return [
        (p.findtext(f"{P}significantPropertiesType"), p.findtext(f"{P}significantPropertiesValue"))
        for p in file_object.findall(f"{P}significantProperties")
    ]


def test_files_carry_significant_properties_applications_and_storage(premis_schema):
    doc = _doc(files=[IMAGE_FILE, AUDIO_FILE])
    assert premis_schema.validate(doc), premis_schema.error_log
    entity, representation, image, audio = doc.findall(f"{P}object")
    assert _local(image)[:2] == ["objectIdentifier", "objectIdentifier"]
    ids = [
        (i.findtext(f"{P}objectIdentifierType"), i.findtext(f"{P}objectIdentifierValue"))
        for i in image.findall(f"{P}objectIdentifier")
    ]
    assert ids == [("local", "ms-1/0001"), ("IIIF image id", "ms-1_0001")]
    assert _props(image) == [
        ("pixel dimensions", "4000 × 5200 pixels"),
        ("bit depth", "8 bits per sample"),
        ("samples per pixel", "3"),
        ("colour space", "RGB"),
        ("ICC profile", "Adobe RGB (1998)"),
        ("resolution", "400 ppi"),
    ]
    assert _props(audio) == [
        ("duration", "30.0 s"),
        ("sample rate", "44100 Hz"),
        ("channels", "2"),
        ("bit depth", "16 bits per sample"),
        ("encoding", "Microsoft PCM"),
    ]
    apps = [
        (a.findtext(f"{P}creatingApplicationName"), a.findtext(f"{P}dateCreatedByApplication"))
        for a in image.iter(f"{P}creatingApplication")
    ]
    assert apps == [
        ("Capture One 16.2", "2024-05-01T09:30:00"),
        ("Goobi ImageCapture 3", None),
        ("Phase One IQ4 150MP", None),
    ]
    storage = image.find(f"{P}storage")
    assert storage.findtext("premis:contentLocation/premis:contentLocationType", namespaces=NS) == (
        "ZODB blob"
    )
    assert storage.findtext(
        "premis:contentLocation/premis:contentLocationValue", namespaces=NS
    ) == ("oid 0x2a")
    assert storage.findtext(f"{P}storageMedium") == "hard disk"

    # The representation includes the files in order and represents the entity.
    assert _props(representation)[0] == ("file count", "2")
    includes, represents = representation.findall(f"{P}relationship")
    assert includes.findtext(f"{P}relationshipSubType") == "includes"
    assert [
        (r.findtext(f"{P}relatedObjectIdentifierValue"), r.findtext(f"{P}relatedObjectSequence"))
        for r in includes.findall(f"{P}relatedObjectIdentifier")
    ] == [("ms-1/0001", "1"), ("ms-1/2", "2")]
    assert represents.findtext(f"{P}relationshipSubType") == "represents"
    assert entity.findtext(".//premis:relationshipSubType", namespaces=NS) == "is represented by"


def test_software_agents_have_versions_and_every_link_resolves(premis_schema):
    events = [
        dict(
            EVENTS[0],
            id="e1",
            type="format identification",
            agents=({"type": "software", "name": "fido 1.6.1"},),
        ),
        dict(
            EVENTS[0],
            id="e2",
            type="capture",
            agents=(PERSON, {"type": "hardware", "name": "Phase One IQ4"}),
        ),
        dict(
            EVENTS[0],
            id="e3",
            type="accession",
            agents=(
                PERSON,
                {"type": "software", "name": "Borneo Heritage", "version": "0.1.0"},
                {"type": "organization", "name": "Sarawak State Library", "id": "pns"},
            ),
        ),
    ]
    doc = _doc(events=events)
    assert premis_schema.validate(doc), premis_schema.error_log
    agents = {
        a.findtext("premis:agentIdentifier/premis:agentIdentifierValue", namespaces=NS): (
            a.findtext(f"{P}agentName"),
            a.findtext(f"{P}agentType"),
            a.findtext(f"{P}agentVersion"),
        )
        for a in doc.findall(f"{P}agent")
    }
    assert agents == {
        "organization:pns": ("Sarawak State Library", "organization", None),
        "software:fido 1.6.1": ("fido", "software", "1.6.1"),
        "person:user:pns-digitizer": ("user:pns-digitizer", "person", None),
        "hardware:Phase One IQ4": ("Phase One IQ4", "hardware", None),
        "software:Borneo Heritage 0.1.0": ("Borneo Heritage", "software", "0.1.0"),
    }
    links = [
        (v.text, v.getnext().text if v.getnext() is not None else None)
        for v in doc.iter(f"{P}linkingAgentIdentifierValue")
    ]
    assert {value for value, _ in links} <= set(agents)
    assert ("organization:pns", "authorizer") in links
    assert ("hardware:Phase One IQ4", "executing program") in links
    assert ("person:user:pns-digitizer", "implementer") in links


def test_access_level_and_cultural_protocol_decision_are_rights_granted(premis_schema):
    rights = {
        "uri": "http://rightsstatements.org/vocab/InC-EDU/1.0/",
        "access": "community",
        "community": "iban-elders",
        "indigenous": True,
        "consultation": "approved by the Iban elders' council, 2024-03-02",
    }
    doc = _doc(rights=rights)
    assert premis_schema.validate(doc), premis_schema.error_log
    granted = doc.find(".//premis:rightsGranted", NS)
    assert granted.findtext(f"{P}act") == "disseminate"
    assert granted.findtext(f"{P}restriction") == (
        "only to users granted the community protocol iban-elders"
    )
    assert "approved by the Iban elders' council" in granted.findtext(f"{P}rightsGrantedNote")
    notes = [n.text for n in doc.iter(f"{P}otherRightsNote")]
    assert "community consultation decision: approved by the Iban elders' council, 2024-03-02" in (
        notes
    )


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2024:05:01 09:30:00", "2024-05-01T09:30:00"),
        ("2024:05:01 09:30:00+08:00", "2024-05-01T09:30:00+08:00"),
        ("2024-05-01T09:30:00.25Z", "2024-05-01T09:30:00Z"),
        ("2024:05:01", "2024-05-01"),
        ("0000:00:00 00:00:00", ""),
        ("yesterday", ""),
        (None, ""),
    ],
)
def test_exif_dates_become_iso_dates(raw, iso):
    from digitization.premis import iso_date

    assert iso_date(raw) == iso
