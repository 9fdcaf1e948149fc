"""The metadata of an exported bag validate against the official schemas, for sample items
with images and with a recording: METS with PREMIS 3 inside (``bundle-mets.xsd``, so that the
embedded PREMIS is checked too), the standalone PREMIS record (``premis.xsd``) and the Dublin
Core record (``oai_dc.xsd``). The masters are ingested the real way (exiftool, fido, Pillow).
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path
from typing import Any

import pytest
import transaction
from lxml import etree
from support import xml_schema
from ZODB import DB
from ZODB.DemoStorage import DemoStorage

from digitization.ingest import Examiner
from digitization.samples import make_sample_page, make_sample_photo
from heritage import evolve
from heritage.ingest import store_examined, thresholds_for
from heritage.metadata import validate_record
from heritage.packages import export_item
from heritage.resources.collection import Collection
from heritage.resources.institution import Institution
from heritage.resources.item import Item
from heritage.resources.root import APP_ROOT

PARSER = etree.XMLParser(no_network=True)
NS = {
    "mets": "http://www.loc.gov/METS/",
    "premis": "http://www.loc.gov/premis/v3",
    "xlink": "http://www.w3.org/1999/xlink",
}


def _schema(name: str) -> etree.XMLSchema:
    return xml_schema(name)


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {
        "mets": _schema("bundle-mets.xsd"),
        "premis": _schema("premis.xsd"),
        "dc": _schema("oai_dc.xsd"),
    }


def wav_file(path: Path, *, seconds: float = 0.5, rate: int = 22050) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = range(int(seconds * rate))
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i / 8))) for i in frames))
    return path


SAMPLES = {
    "manuscript pages": {
        "title": "Syair Burung Pungguk",
        "masters": lambda d: [
            make_sample_page(d / "f1r.tif", seed=7, page_no=1, fmt="TIFF"),
            make_sample_page(d / "f1v.jpg", seed=8, page_no=2, script="jawi"),
            make_sample_photo(d / "binding.jpg", seed=9),
        ],
        "sections": ({"label": {"en": "Text", "ms": "Teks"}, "files": ("1", "2")},),
    },
    "oral recording": {
        "title": "Ensera Keling",
        "masters": lambda d: [wav_file(d / "ensera.wav")],
        "sections": (),
    },
}


@pytest.fixture(scope="module")
def bags(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One exported bag per sample item."""
    folder = tmp_path_factory.mktemp("mets")
    db = DB(DemoStorage())
    evolve.prepare(db)
    tm = transaction.TransactionManager()
    conn = db.open(transaction_manager=tm)
    out = {}
    try:
        root = conn.root()[APP_ROOT]
        with tm:
            pns = root.institutions.add(
                "pns", Institution({"en": "Sarawak State Library"}, country="MY")
            )
            collection = root.add_collection(pns, "pns-ms", Collection({"en": "Manuscripts"}))
        with Examiner(folder / "staging", max_pixels=100_000_000) as examiner:
            for n, (name, sample) in enumerate(SAMPLES.items(), 1):
                item_id = f"pns-sample-{n}"
                scans = folder / f"scans-{n}"
                scans.mkdir()
                with tm:
                    metadata = validate_record(
                        {"title": [{"value": sample["title"], "lang": "ms"}], "date": ["19XX"]}
                    )
                    item = Item(
                        item_id,
                        metadata,
                        access="public",
                        state="capture",
                        rights="http://creativecommons.org/licenses/by/4.0/",
                    )
                    collection.add_item(item)
                for path in sample["masters"](scans):
                    examined = examiner.examine(path, thresholds_for(item))
                    assert not examined.rejection, examined.rejection
                    with tm:
                        store_examined(
                            root.items[item_id],
                            examined,
                            user="user:pns-digitizer",
                            software=examiner.software,
                            enqueue=root.jobs.add,
                        )
                with tm:
                    root.items[item_id].sections = sample["sections"]
                    out[name] = export_item(root, item_id, folder / item_id).path
    finally:
        tm.abort()
        conn.close()
        db.close()
    return out


def _parse(path: Path) -> etree._Element:
    data = path.read_bytes()
    assert b"premis-v2" not in data  # PREMIS 3 only (metsrw's default would be 2.2)
    return etree.fromstring(data, PARSER)


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_the_bag_metadata_are_valid(bags, schemas, sample):
    metadata = bags[sample] / "metadata"
    for name, schema in (("mets.xml", "mets"), ("premis.xml", "premis"), ("dc.xml", "dc")):
        doc = _parse(metadata / name)
        assert schemas[schema].validate(doc), (name, schemas[schema].error_log)


@pytest.mark.parametrize("sample", list(SAMPLES))
def test_the_mets_carries_premis_files_order_and_sections(bags, sample):
    bag = bags[sample]
    mets = _parse(bag / "metadata" / "mets.xml")
    manifest = {
        path: digest
        for digest, path in (
            line.split(maxsplit=1)
            for line in (bag / "manifest-sha256.txt").read_text().splitlines()
        )
    }
    files = mets.xpath("//mets:fileSec/mets:fileGrp[@USE='master']/mets:file", namespaces=NS)
    assert len(files) == len(manifest)
    for f in files:
        href = f.find("mets:FLocat", NS).get(f"{{{NS['xlink']}}}href")
        assert href.startswith("../data/masters/")
        assert (bag / "metadata" / href).resolve().is_file()  # relative to the METS file
        assert manifest[href.removeprefix("../")] == f.get("CHECKSUM")
        assert f.get("CHECKSUMTYPE") == "SHA-256"
        # its PREMIS file object, with the same digest, in the amdSec it names
        digests = mets.xpath(
            f"//mets:amdSec[@ID='{f.get('ADMID')}']//premis:object//premis:messageDigest/text()",
            namespaces=NS,
        )
        assert f.get("CHECKSUM") in digests
    pages = mets.xpath("//mets:structMap[@TYPE='physical']//mets:div[@ORDER]", namespaces=NS)
    assert [p.get("ORDER") for p in pages] == [str(n) for n in range(1, len(files) + 1)]
    assert [p.find("mets:fptr", NS).get("FILEID") for p in pages] == [f.get("ID") for f in files]
    kinds = {p.get("TYPE") for p in pages}
    assert kinds == ({"audio"} if sample == "oral recording" else {"page"})
    events = mets.xpath("//mets:digiprovMD//premis:event", namespaces=NS)
    assert {"ingestion", "message digest calculation"} <= {
        e.findtext("premis:eventType", namespaces=NS) for e in events
    }
    assert mets.xpath("//mets:rightsMD//premis:rights", namespaces=NS)
    assert mets.xpath("//mets:dmdSec/mets:mdWrap[@MDTYPE='DC']", namespaces=NS)
    sections = mets.xpath(
        "//mets:structMap[@TYPE='logical']//mets:div[@TYPE='section']", namespaces=NS
    )
    expected = SAMPLES[sample]["sections"]
    assert [s.get("LABEL") for s in sections] == [s["label"]["en"] for s in expected]
    for div, section in zip(sections, expected, strict=True):
        ids = [p.get("FILEID") for p in div.findall("mets:fptr", NS)]
        assert ids == [f"file-{name}" for name in section["files"]]


def test_a_metsrw_default_would_be_caught(tmp_path: Path, schemas: Any) -> None:
    """The negative control for the premis-v2 assertion: bundle-mets.xsd accepts PREMIS 2
    in METS (xmlData is lax and PREMIS 2 is not in the bundle), so only the text check can
    catch it."""
    doc = etree.fromstring(
        b'<mets:mets xmlns:mets="http://www.loc.gov/METS/"><mets:amdSec><mets:techMD ID="t">'
        b'<mets:mdWrap MDTYPE="PREMIS:OBJECT"><mets:xmlData>'
        b'<premis:object xmlns:premis="info:lc/xmlns/premis-v2"/>'
        b"</mets:xmlData></mets:mdWrap></mets:techMD></mets:amdSec>"
        b"<mets:structMap><mets:div/></mets:structMap></mets:mets>",
        PARSER,
    )
    assert schemas["mets"].validate(doc)
    path = tmp_path / "mets.xml"
    path.write_bytes(etree.tostring(doc))
    with pytest.raises(AssertionError):
        _parse(path)
