"""An item's PREMIS record, from files uploaded the real way, validates against premis.xsd."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support import PASSWORD, csrf_token, login, xml_schema

from digitization.samples import make_sample_page
from heritage.resources.users import User

PREMIS = "{http://www.loc.gov/premis/v3}"
NS = {"premis": "http://www.loc.gov/premis/v3"}
PARSER = etree.XMLParser(no_network=True)


@pytest.fixture(scope="module")
def premis_schema():
    return xml_schema("premis.xsd")


@pytest.fixture
def ingested(testapp, arrange, consortium, tmp_path: Path) -> str:
    """Two sample pages uploaded to the unpublished pns item by ``pns-digitizer``."""

    def add_digitizer(root: Any) -> None:
        user = User("pns-digitizer")
        user.set_password(PASSWORD)
        user.add_role("digitizer", "pns")
        root.users.add("pns-digitizer", user)

    arrange(add_digitizer)
    item = consortium.unpublished
    pages = [
        (name, make_sample_page(tmp_path / name, seed=n, page_no=n, fmt=fmt).read_bytes())
        for n, (name, fmt) in enumerate((("folio-1r.tif", "TIFF"), ("folio-1v.jpg", "JPEG")), 1)
    ]
    login(testapp, "pns-digitizer")
    token = csrf_token(testapp, f"/staff/items/{item}")
    testapp.post(
        f"/api/items/{item}/files",
        upload_files=[("file", name, data) for name, data in pages],
        headers={"X-CSRF-Token": token},
        status=201,
    )
    testapp.reset()

    def policy(root: Any) -> None:
        root.items[item].events.record(
            "policy assignment",
            agents=[{"type": "person", "name": "user:pns-curator"}],
            detail="access: staff",
        )

    arrange(policy)
    return item


def _full_name(agent: etree._Element) -> str:
    """An agent's name with its version, as the event log writes it ("fido 1.6.1")."""
    name, version = agent.findtext(f"{PREMIS}agentName"), agent.findtext(f"{PREMIS}agentVersion")
    return f"{name} {version}" if version else name


def _facts(arrange, item_id: str) -> tuple[list[dict], list[dict]]:
    def work(root: Any) -> tuple[list[dict], list[dict]]:
        item = root.items[item_id]
        files = [{"sha256": f.sha256, "puid": f.format.get("puid")} for f in item.files]
        return files, [dict(e) for e in item.events]

    return arrange(work)


def test_the_premis_record_is_valid_and_complete(testapp, arrange, ingested, premis_schema):
    files, events = _facts(arrange, ingested)
    assert len(files) == 2 and all(f["puid"] for f in files)
    login(testapp, "pns-curator")

    response = testapp.get(f"/api/items/{ingested}/premis", status=200)

    assert response.content_type == "application/xml"
    doc = etree.fromstring(response.body, PARSER)
    assert premis_schema.validate(doc), premis_schema.error_log
    assert b"premis-v2" not in response.body
    digests = {d.text for d in doc.iter(f"{PREMIS}messageDigest")}
    keys = {k.text for k in doc.iter(f"{PREMIS}formatRegistryKey")}
    for f in files:
        assert f["sha256"] in digests and f["puid"] in keys
    written = {
        e.findtext("premis:eventIdentifier/premis:eventIdentifierValue", namespaces=NS): e.findtext(
            f"{PREMIS}eventType"
        )
        for e in doc.iter(f"{PREMIS}event")
    }
    assert written == {e["id"]: e["type"] for e in events}
    assert {"ingestion", "message digest calculation", "policy assignment"} <= set(written.values())
    agents = {(a.findtext(f"{PREMIS}agentType"), _full_name(a)) for a in doc.iter(f"{PREMIS}agent")}
    expected = {(a["type"], a["name"]) for e in events for a in e["agents"]}
    assert expected <= agents
    assert ("organization", "Sarawak State Library") in agents
    assert ("person", "user:pns-curator") in agents


def test_only_the_holding_institution_s_staff_see_the_record(testapp, consortium):
    testapp.get(f"/api/items/{consortium.unpublished}/premis", status=404)  # anonymous
    testapp.get(f"/api/items/{consortium.public}/premis", status=403)
    login(testapp, "reader")
    testapp.get(f"/api/items/{consortium.public}/premis", status=403)
    testapp.get(f"/api/items/{consortium.unpublished}/premis", status=404)
    testapp.reset()
    login(testapp, "kaltim-curator")
    testapp.get(f"/api/items/{consortium.unpublished}/premis", status=404)
    testapp.get(f"/api/items/{consortium.public}/premis", status=403)
    testapp.get(f"/api/items/{consortium.other_unpublished}/premis", status=200)
    testapp.reset()
    login(testapp, "pns-curator")
    testapp.get(f"/api/items/{consortium.unpublished}/premis", status=200)
    testapp.get(f"/api/items/{consortium.public}/premis", status=200)
    testapp.reset()
    login(testapp, "admin")
    testapp.get(f"/api/items/{consortium.public}/premis", status=200)
