"""One item from nomination to publication: every step is a PREMIS event with its agents.

Real pages are uploaded through the API (examined by the real exiftool and fido), the real
worker builds their tile pyramids, and each person moves the item with their own role. The
event log is then read twice — as JSON (``/api/items/{id}/events``) and as the PREMIS record
(validated against premis.xsd) — and each step must be there with its type, outcome and
agents: the person, the software with its version, the holding institution.
"""

from __future__ import annotations

import tempfile
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import webtest
from lxml import etree
from PIL import Image, ImageCms
from support import PASSWORD, csrf_token, login, xml_schema

from digitization.premis import agent_key, split_version
from digitization.samples import make_sample_page
from heritage.resources.events import APP_AGENT
from heritage.resources.users import User
from heritage.worker import run_worker

P = "{http://www.loc.gov/premis/v3}"
PARSER = etree.XMLParser(no_network=True)
ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
ITEM = "pns-ms-0300"
ORG = {"type": "organization", "name": "Sarawak State Library", "id": "pns"}
STAFF = {
    "pns-digitizer": "digitizer",
    "pns-cataloguer": "cataloguer",
    "pns-rights": "rights-officer",
}


@pytest.fixture(scope="module")
def premis_schema():
    return xml_schema("premis.xsd")


@lru_cache(maxsize=4)
def good_page(seed: int) -> bytes:
    """A 300 ppi sRGB page with text, written as a camera would (Make, Model, Software, date)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = make_sample_page(
            Path(scratch) / "page.jpg", seed=seed, page_no=seed, width=1000, height=1300
        )
        with Image.open(path) as im:
            exif = Image.Exif()
            exif[0x010F] = "Phase One"  # Make
            exif[0x0110] = "IQ4 150MP"  # Model
            exif[0x0131] = "Capture One 16.2"  # Software
            exif.get_ifd(0x8769)[0x9003] = "2024:05:01 09:30:00"  # Exif DateTimeOriginal
            out = BytesIO()
            im.convert("RGB").save(
                out, format="JPEG", quality=90, dpi=(300, 300), icc_profile=ICC, exif=exif
            )
            return out.getvalue()


class Person:
    def __init__(self, app: Any, username: str) -> None:
        self.username = username
        self.web = webtest.TestApp(app)
        login(self.web, username)
        self.headers = {"X-CSRF-Token": csrf_token(self.web)}

    def move(self, to: str, **fields: Any) -> dict[str, Any]:
        return self.web.post_json(
            f"/api/items/{ITEM}/transitions", {"to": to, **fields}, headers=self.headers
        ).json

    def patch(self, data: dict[str, Any]) -> None:
        self.web.patch_json(f"/api/items/{ITEM}", data, headers=self.headers)


@pytest.fixture
def people(app, arrange, consortium) -> dict[str, Person]:
    def work(root: Any) -> None:
        for username, role in STAFF.items():
            user = User(username)
            user.set_password(PASSWORD)
            user.add_role(role, "pns")
            root.users.add(username, user)

    arrange(work)
    return {name: Person(app, name) for name in ("pns-curator", *STAFF)}


def person(name: str) -> dict[str, str]:
    return {"type": "person", "name": f"user:{name}"}


def test_every_step_from_ingest_to_publication_is_an_event_with_its_agents(
    app, db, people, premis_schema
):
    curator, digitizer = people["pns-curator"], people["pns-digitizer"]
    cataloguer, rights = people["pns-cataloguer"], people["pns-rights"]
    curator.web.post_json(
        "/api/items",
        {
            "id": ITEM,
            "collection": "pns-manuscripts",
            "metadata": {"title": [{"value": "Hikayat Nakhoda Muda", "lang": "ms"}]},
        },
        headers=curator.headers,
        status=201,
    )
    curator.move("selected")
    digitizer.move("capture")
    uploaded = digitizer.web.post(
        f"/api/items/{ITEM}/files",
        upload_files=[("file", f"f{n}.jpg", good_page(n)) for n in (1, 2)],
        headers=digitizer.headers,
        status=201,
    ).json
    assert [r["outcome"] for r in uploaded["files"]] == ["stored", "stored"]
    assert run_worker(db, app.registry.heritage, processes=0, once=True) >= 2
    digitizer.move("qa")
    digitizer.move("description", qa_signoff=True)
    cataloguer.patch(
        {
            "metadata": {
                "title": [{"value": "Hikayat Nakhoda Muda", "lang": "ms"}],
                "date": ["17XX"],
                "type": [{"value": "Text", "lang": "en"}],
                "language": ["ms"],
            }
        }
    )
    cataloguer.move("rights-review")
    rights.patch({"rights": "http://rightsstatements.org/vocab/NoC-NKC/1.0/", "access": "public"})
    rights.move("preservation")
    assert curator.move("published")["state"] == "published"

    events = curator.web.get(f"/api/items/{ITEM}/events?limit=200").json["events"]
    assert curator.web.get(f"/api/items/{ITEM}/events?limit=200").json["next"] is None

    def one(kind: str, obj: str | None = None, target: str | None = None) -> dict[str, Any]:
        found = [
            e
            for e in events
            if e["type"] == kind
            and (obj is None or e["objects"] == [obj])
            and (target is None or (e.get("workflow") or {}).get("target") == target)
        ]
        assert len(found) == 1, (kind, obj, target, [e["type"] for e in events])
        return found[0]

    def names(event: dict[str, Any]) -> set[tuple[str, str]]:
        return {(a["type"], a["name"]) for a in event["agents"]}

    app_agent = (APP_AGENT["type"], APP_AGENT["name"])
    org = (ORG["type"], ORG["name"])
    # The workflow: each move by its person, with the application; the institution's acts.
    expected_moves = [
        ("selected", "appraisal", "pns-curator", False),
        ("capture", "metadata modification", "pns-digitizer", False),
        ("qa", "metadata modification", "pns-digitizer", False),
        ("description", "validation", "pns-digitizer", False),
        ("rights-review", "metadata modification", "pns-cataloguer", False),
        ("preservation", "accession", "pns-rights", True),
        ("published", "dissemination", "pns-curator", True),
    ]
    checked = []
    for target, kind, who, institutional in expected_moves:
        event = one(kind, target=target)
        assert event["outcome"] == "success"
        expected = {("person", f"user:{who}"), app_agent} | ({org} if institutional else set())
        assert names(event) == expected, (target, event["agents"])
        checked.append(event)
    # Each master: capture (the camera and its software), ingestion, checksums, format,
    # technical metadata, QA, and the derivative pyramid.
    for name in ("1", "2"):
        obj = f"{ITEM}/{name}"
        capture = one("capture", obj)
        assert names(capture) == {
            ("person", "user:pns-digitizer"),
            ("hardware", "Phase One IQ4 150MP"),
            ("software", "Capture One 16.2"),
        }
        assert capture["date"] == "2024-05-01T09:30:00"
        ingestion = one("ingestion", obj)
        assert names(ingestion) == {("person", "user:pns-digitizer"), app_agent}
        digest = one("message digest calculation", obj)
        assert names(digest) == {app_agent}
        identification = one("format identification", obj)
        assert next(n for _, n in names(identification)).startswith("fido ")
        extraction = one("metadata extraction", obj)
        assert next(n for _, n in names(extraction)).startswith("exiftool ")
        validation = one("validation", obj)
        assert any(n.startswith("Pillow ") for _, n in names(validation))
        creation = one("creation", obj)
        assert any(n.startswith("Pillow ") for _, n in names(creation))
        assert app_agent in names(creation)
        assert "tile pyramid" in creation["detail"] and "1000 × 1300 pixels" in creation["detail"]
        for event in (capture, ingestion, digest, identification, extraction, validation, creation):
            assert event["outcome"] == "success", event
            checked.append(event)

    # The same events, outcomes and agents in the PREMIS record.
    body = curator.web.get(f"/api/items/{ITEM}/premis").body
    doc = etree.fromstring(body, PARSER)
    assert premis_schema.validate(doc), premis_schema.error_log
    written = {
        e.findtext(f"{P}eventIdentifier/{P}eventIdentifierValue"): e for e in doc.iter(f"{P}event")
    }
    agents = {
        a.findtext(f"{P}agentIdentifier/{P}agentIdentifierValue"): (
            a.findtext(f"{P}agentType"),
            a.findtext(f"{P}agentName"),
            a.findtext(f"{P}agentVersion"),
        )
        for a in doc.iter(f"{P}agent")
    }
    for event in checked:
        node = written[event["id"]]
        assert node.findtext(f"{P}eventType") == event["type"]
        assert node.findtext(f"{P}eventOutcomeInformation/{P}eventOutcome") == event["outcome"]
        linked = {v.text for v in node.iter(f"{P}linkingAgentIdentifierValue")}
        assert linked == {agent_key(a) for a in event["agents"]}
        for a in event["agents"]:
            name, version = split_version(a)
            assert agents[agent_key(a)] == (a["type"], name, version or None)
    # Software agents carry their versions; the institution is the organization.
    versions = {name: version for kind, name, version in agents.values() if kind == "software"}
    assert versions["Borneo Heritage"] and versions["fido"] and versions["exiftool"]
    assert versions["Pillow"] == Image.__version__
    assert agents["organization:pns"] == ("organization", "Sarawak State Library", None)
