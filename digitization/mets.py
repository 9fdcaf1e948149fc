"""An item as a METS document: Dublin Core, PREMIS 3, the masters and their order.

A plain library over plain dicts, like :mod:`digitization.premis`, which it reuses: the
PREMIS record is built once by :func:`digitization.premis.build_premis` and its parts are
placed where METS wants them (Library of Congress, "PREMIS in METS" guidelines):

- ``dmdSec``: the item's Dublin Core (``oai_dc:dc``, passed in by the caller);
- ``amdSec`` of the item: ``techMD`` with the non-file PREMIS objects (the intellectual
  entity, a representation), ``rightsMD`` with the PREMIS rights, one ``digiprovMD`` per
  PREMIS event and per agent;
- one ``amdSec`` per master: ``techMD`` with its PREMIS file object;
- ``fileSec``: the masters with MIME type, size, SHA-256 checksum and the location of the
  copy in the package (``FLocat``);
- ``structMap TYPE="physical"``: the masters in page order; ``structMap TYPE="logical"``:
  the item's sections (a manuscript's table of contents), when it has any.

Written with lxml rather than metsrw: metsrw models the structMap as a directory tree (with
a fixed "Archivematica default" label and no page order) and PREMIS through its own tuple
model, so our PREMIS would be written a second time; here the elements that
``build_premis`` made (and the PREMIS XSD checks) go into METS unchanged. Valid against
METS 1.12 with PREMIS 3 (``bundle-mets.xsd`` in ``shared/specs``); no PREMIS 2 anywhere.
https://www.loc.gov/standards/mets/ and https://www.loc.gov/standards/premis/guidelines-premismets.pdf
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from lxml import etree

from digitization.premis import PREMIS, XSI, build_premis

METS = "http://www.loc.gov/METS/"
XLINK = "http://www.w3.org/1999/xlink"
SCHEMA_LOCATION = f"{METS} https://www.loc.gov/standards/mets/mets.xsd"
# Characters XML 1.0 cannot carry (lxml refuses them): dropped from text and attributes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: Preferred languages when METS wants one plain label (LABEL attributes have no language).
LABEL_LANGUAGES = ("en", "ms", "id")


def _clean(value: Any) -> str:
    return _NOT_XML.sub("", str(value))


def _m(parent: etree._Element | None, name: str, **attrs: Any) -> etree._Element:
    tag = f"{{{METS}}}{name}"
    node = etree.Element(tag) if parent is None else etree.SubElement(parent, tag)
    for key, value in attrs.items():
        if value is not None and value != "":
            node.set(key, _clean(value))
    return node


def pick_label(label: Mapping[str, str] | str | None, languages: Sequence[str] = ()) -> str:
    """Return one text of a language map: the first preferred language present, else any."""
    if not label:
        return ""
    if isinstance(label, str):
        return label
    for lang in (*languages, *LABEL_LANGUAGES):
        if label.get(lang):
            return label[lang]
    return next((v for v in label.values() if v), "")


def _wrap(parent: etree._Element, section: str, ident: str, mdtype: str, content: Any) -> None:
    """Append ``<section ID><mdWrap MDTYPE><xmlData>content</xmlData></mdWrap></section>``."""
    sec = _m(parent, section, ID=ident)
    attrs = {"MDTYPE": mdtype}
    if mdtype.startswith("PREMIS"):
        attrs["MDTYPEVERSION"] = "3.0"
    wrap = _m(sec, "mdWrap", **attrs)
    _m(wrap, "xmlData").append(content)


def _premis_parts(premis: etree._Element) -> dict[str, list[etree._Element]]:
    """Split a ``premis:premis`` into its objects (files apart), events, agents and rights."""
    parts: dict[str, list[etree._Element]] = {
        "files": [],
        "objects": [],
        "events": [],
        "agents": [],
        "rights": [],
    }
    for child in list(premis):
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        child.set("version", "3.0")  # standalone PREMIS elements say which version they are
        if name == "object":
            kind = child.get(f"{{{XSI}}}type", "")
            parts["files" if kind.endswith(":file") else "objects"].append(child)
        elif name in ("event", "agent"):
            parts[f"{name}s"].append(child)
        elif name == "rights":
            parts["rights"].append(child)
    return parts


def _page_type(mimetype: str) -> str:
    if mimetype.startswith("audio/"):
        return "audio"
    if mimetype.startswith("video/"):
        return "video"
    return "page"


def build_mets(
    item: Mapping[str, Any],
    files: Sequence[Mapping[str, Any]],
    events: Iterable[Mapping[str, Any]],
    *,
    institution: Mapping[str, Any],
    rights: Mapping[str, Any],
    dc: etree._Element | None = None,
    sections: Sequence[Mapping[str, Any]] = (),
    created: str = "",
    software: str = "",
    languages: Sequence[str] = (),
) -> etree._Element:
    """Return the ``mets:mets`` element of one item.

    :param item: ``{"id", "label", "state", "modified"}`` (only ``id`` is required).
    :param files: the masters in page order: what :func:`digitization.premis.build_premis`
        takes (``name``, ``filename``, ``mimetype``, ``size``, ``sha256``, ``md5``,
        ``format``, ``techmd``), plus ``href`` (where the copy is, relative to the METS
        document) and ``label`` (a language map).
    :param events: the item's events, as for ``build_premis``.
    :param institution: ``{"id", "name"}``; :param rights: as for ``build_premis``.
    :param dc: an ``oai_dc:dc`` element for the dmdSec (it is moved into the document).
    :param sections: ``[{"label": {lang: text}, "files": [file names]}]`` in order.
    :param created: ``metsHdr/@CREATEDATE`` (xsd:dateTime); :param software: the creating
        application, named as a METS agent.
    :param languages: preferred languages for the plain-text ``LABEL`` attributes.
    """
    item_id = item["id"]
    events = list(events)
    premis = _premis_parts(
        build_premis({"id": item_id}, list(files), events, institution=institution, rights=rights)
    )
    root = etree.Element(f"{{{METS}}}mets", nsmap={"mets": METS, "xlink": XLINK, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    root.set("OBJID", item_id)
    title = pick_label(item.get("label"), languages)
    if title:
        root.set("LABEL", _clean(title))

    header = _m(
        root,
        "metsHdr",
        CREATEDATE=created or None,
        LASTMODDATE=item.get("modified") or None,
        RECORDSTATUS=item.get("state") or None,
    )
    agent = _m(header, "agent", ROLE="CREATOR", TYPE="ORGANIZATION")
    etree.SubElement(agent, f"{{{METS}}}name").text = _clean(
        institution.get("name") or institution.get("id") or "unknown"
    )
    if software:
        agent = _m(header, "agent", ROLE="CREATOR", TYPE="OTHER", OTHERTYPE="SOFTWARE")
        etree.SubElement(agent, f"{{{METS}}}name").text = _clean(software)
    _m(header, "metsDocumentID").text = _clean(f"{item_id}/mets")

    dmdid = None
    if dc is not None:
        dmdid = "dmd-dc"
        _wrap(root, "dmdSec", dmdid, "DC", dc)

    amd = _m(root, "amdSec", ID="amd-item")
    for n, obj in enumerate(premis["objects"], 1):
        _wrap(amd, "techMD", f"tech-item-{n}", "PREMIS:OBJECT", obj)
    for n, right in enumerate(premis["rights"], 1):
        _wrap(amd, "rightsMD", f"rights-{n}", "PREMIS:RIGHTS", right)
    for n, event in enumerate(premis["events"], 1):
        _wrap(amd, "digiprovMD", f"event-{n}", "PREMIS:EVENT", event)
    for n, agent_el in enumerate(premis["agents"], 1):
        _wrap(amd, "digiprovMD", f"agent-{n}", "PREMIS:AGENT", agent_el)
    if len(amd) == 0:
        root.remove(amd)
        amd = None

    # build_premis writes one file object per file, in the order given
    for f, obj in zip(files, premis["files"], strict=False):
        file_amd = _m(root, "amdSec", ID=f"amd-file-{f['name']}")
        _wrap(file_amd, "techMD", f"tech-file-{f['name']}", "PREMIS:OBJECT", obj)

    file_sec = _m(root, "fileSec")
    group = _m(file_sec, "fileGrp", USE="master")
    for order, f in enumerate(files, 1):
        node = _m(
            group,
            "file",
            ID=f"file-{f['name']}",
            SEQ=order,
            MIMETYPE=f.get("mimetype"),
            SIZE=f.get("size"),
            CHECKSUM=f.get("sha256"),
            CHECKSUMTYPE="SHA-256" if f.get("sha256") else None,
            ADMID=f"amd-file-{f['name']}" if order <= len(premis["files"]) else None,
        )
        loc = _m(node, "FLocat", LOCTYPE="URL")
        loc.set(f"{{{XLINK}}}href", _clean(f["href"]))
        loc.set(f"{{{XLINK}}}type", "simple")
    if not len(group):
        root.remove(file_sec)  # a fileSec needs a file; an item with none has only metadata

    physical = _m(root, "structMap", TYPE="physical", LABEL="masters in page order")
    top = _m(
        physical,
        "div",
        TYPE="item",
        LABEL=title or item_id,
        DMDID=dmdid,
        ADMID="amd-item" if amd is not None else None,
    )
    for order, f in enumerate(files, 1):
        label = pick_label(f.get("label"), languages) or f.get("filename") or f["name"]
        page = _m(
            top, "div", TYPE=_page_type(str(f.get("mimetype") or "")), ORDER=order, LABEL=label
        )
        _m(page, "fptr", FILEID=f"file-{f['name']}")

    if sections:
        present = {str(f["name"]) for f in files}
        logical = _m(root, "structMap", TYPE="logical", LABEL="sections")
        whole = _m(logical, "div", TYPE="item", LABEL=title or item_id, DMDID=dmdid)
        for order, section in enumerate(sections, 1):
            div = _m(
                whole,
                "div",
                TYPE="section",
                ORDER=order,
                LABEL=pick_label(section.get("label"), languages) or f"section {order}",
            )
            for name in section.get("files", ()):
                if str(name) in present:  # a deaccessioned master is no longer in the package
                    _m(div, "fptr", FILEID=f"file-{name}")
    return root


def to_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)


__all__ = ["METS", "PREMIS", "XLINK", "build_mets", "pick_label", "to_bytes"]
