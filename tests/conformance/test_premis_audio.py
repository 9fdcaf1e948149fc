"""The PREMIS record of an oral recording (a WAV uploaded the real way) validates too.

Sound has no pixels: its significant properties are duration, sample rate, channels and
bit depth, its creating application comes from the RIFF INFO chunk (``ISFT``), and no
tile pyramid is made of it.
"""

from __future__ import annotations

import math
import struct
import wave
from io import BytesIO
from typing import Any

import pytest
from lxml import etree
from support import PASSWORD, csrf_token, login, make_item, xml_schema

from heritage.resources.users import User

P = "{http://www.loc.gov/premis/v3}"
NS = {"premis": "http://www.loc.gov/premis/v3"}
PARSER = etree.XMLParser(no_network=True)
ITEM = "pns-oh-0100"


@pytest.fixture(scope="module")
def premis_schema():
    return xml_schema("premis.xsd")


def recording(
    seconds: float = 2.0, rate: int = 22050, software: bytes = b"Audacity 3.4.2"
) -> bytes:
    """A mono 16-bit WAV with a LIST/INFO chunk naming the software that wrote it."""
    out = BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * 196 * i / rate)))
                for i in range(int(seconds * rate))
            )
        )
    data = bytearray(out.getvalue())
    text = software + b"\0"
    if len(text) % 2:
        text += b"\0"
    info = b"INFO" + b"ISFT" + struct.pack("<I", len(text)) + text
    data += b"LIST" + struct.pack("<I", len(info)) + info
    data[4:8] = struct.pack("<I", len(data) - 8)  # the RIFF size now includes the list
    return bytes(data)


@pytest.fixture
def recorded(testapp, arrange, consortium) -> str:
    """One interview uploaded by ``pns-digitizer`` to a new oral-history item in capture."""

    def work(root: Any) -> None:
        user = User("pns-digitizer")
        user.set_password(PASSWORD)
        user.add_role("digitizer", "pns")
        root.users.add("pns-digitizer", user)
        item = make_item(
            ITEM,
            "Ensera Keling",
            state="capture",
            access="community",
            community="iban-elders",
            lang="iba",
        )
        item.indigenous = True
        item.consultation = "recorded with the consent of the longhouse, 2024-02-10"
        root.collections["pns-oral-history"].add_item(item)

    arrange(work)
    login(testapp, "pns-digitizer")
    token = csrf_token(testapp, f"/staff/items/{ITEM}")
    testapp.post(
        f"/api/items/{ITEM}/files",
        upload_files=[("file", "ensera-keling-side-a.wav", recording())],
        headers={"X-CSRF-Token": token},
        status=201,
    )
    testapp.reset()
    return ITEM


def test_a_recording_s_premis_record_is_valid_and_describes_sound(
    testapp, arrange, recorded, premis_schema
):
    login(testapp, "pns-curator")
    body = testapp.get(f"/api/items/{recorded}/premis", status=200).body
    doc = etree.fromstring(body, PARSER)
    assert premis_schema.validate(doc), premis_schema.error_log

    kinds = [
        o.get("{http://www.w3.org/2001/XMLSchema-instance}type") for o in doc.iter(f"{P}object")
    ]
    assert kinds == ["premis:intellectualEntity", "premis:representation", "premis:file"]
    wav = doc.findall(f"{P}object")[2]
    props = {
        p.findtext(f"{P}significantPropertiesType"): p.findtext(f"{P}significantPropertiesValue")
        for p in wav.findall(f"{P}significantProperties")
    }
    assert props["duration"] == "2.0 s"
    assert props["sample rate"] == "22050 Hz"
    assert props["channels"] == "1"
    assert props["bit depth"] == "16 bits per sample"
    assert "pixel dimensions" not in props
    assert wav.findtext(".//premis:formatRegistryKey", namespaces=NS).startswith("fmt/")
    assert "wav" in wav.findtext(".//premis:formatName", namespaces=NS).casefold()
    assert wav.findtext(".//premis:creatingApplicationName", namespaces=NS) == "Audacity 3.4.2"
    assert wav.findtext(f"{P}originalName") == "ensera-keling-side-a.wav"
    assert {f.findtext(f"{P}messageDigestAlgorithm") for f in wav.iter(f"{P}fixity")} == {
        "SHA-256",
        "MD5",
    }
    assert wav.findtext(".//premis:contentLocationType", namespaces=NS) == "ZODB blob OID"

    types = [e.findtext(f"{P}eventType") for e in doc.iter(f"{P}event")]
    for expected in (
        "capture",
        "ingestion",
        "message digest calculation",
        "format identification",
        "metadata extraction",
    ):
        assert types.count(expected) == 1, (expected, types)
    assert "creation" not in types  # no tile pyramid of sound

    granted = doc.find(".//premis:rightsGranted", NS)
    assert granted.findtext(f"{P}restriction").endswith("iban-elders")
    assert "consent of the longhouse" in granted.findtext(f"{P}rightsGrantedNote")
