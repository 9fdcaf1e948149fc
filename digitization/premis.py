"""An item's preservation record as a standalone PREMIS 3.0 document.

A plain library over plain dicts (it knows nothing of the web application): the caller
collects the item, its files, its events, the holding institution and the rights, and gets
back a ``premis:premis`` element that validates against the official ``premis.xsd``.

What it holds (PREMIS 3 Data Dictionary, https://www.loc.gov/standards/premis/v3/):

- objects: the item as an *intellectual entity*; one *representation*, the masters, that
  includes every file in order; each *file* with its size, SHA-256 and MD5 fixity, format
  (name, version, PRONOM id), significant properties (pixel dimensions, bit depth, colour
  space, resolution; duration, sample rate, channels), creating application (the Software
  and CreatorTool tags, the capture device), original name and storage;
- events, with Library of Congress event types, dates, outcomes, details and their agents;
- agents: people, software with its version (``agentVersion``), the holding institution;
- rights: the rights statement, the access level as the act granted and its restriction,
  and the cultural-protocol decision.

Element order follows the schema (objects, events, agents, rights; within each, the
sequence the XSD gives). Event types carry their Library of Congress ``valueURI``
(https://id.loc.gov/vocabulary/preservation/eventType) when the term is in the vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from lxml import etree

PREMIS = "http://www.loc.gov/premis/v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{PREMIS} https://www.loc.gov/standards/premis/premis.xsd"
EVENT_TYPE_SCHEME = "http://id.loc.gov/vocabulary/preservation/eventType"

#: LoC eventType label → URI (vocabulary snapshot in shared/specs/vocabularies); a label
#: missing here (e.g. "rejection") is written as text without a valueURI.
EVENT_TYPE_URIS = {
    label: f"{EVENT_TYPE_SCHEME}/{code}"
    for label, code in {
        "accession": "acc",
        "appraisal": "app",
        "capture": "cap",
        "creation": "cre",
        "deaccession": "dea",
        "dissemination": "dis",
        "fixity check": "fix",
        "format identification": "for",
        "ingestion": "ing",
        "message digest calculation": "mes",
        "metadata extraction": "mee",
        "metadata modification": "mem",
        "migration": "mig",
        "policy assignment": "poa",
        "validation": "val",
    }.items()
}

#: How an agent of each type took part in an event (LoC eventRelatedAgentRole terms), unless
#: the agent names its own ``role``.
AGENT_ROLES = {
    "software": "executing program",
    "hardware": "executing program",
    "person": "implementer",
    "organization": "authorizer",
}

#: What each access level lets the repository disseminate (PREMIS ``rightsGranted``).
ACCESS_RESTRICTIONS = {
    "public": "none: the description, images and sound are open to everyone",
    "metadata-only": "the description only: images and sound are not disseminated",
    "community": "only to users granted the community protocol",
    "staff": "only to the holding institution's staff",
}

# Characters XML 1.0 cannot carry at all (lxml refuses them): dropped from text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# "exiftool 12.76", "fido 1.6.1", "Borneo Heritage 0.1.0": a name, then a version number.
_VERSIONED = re.compile(r"^(?P<name>.+?)\s+v?(?P<version>\d[\w.+\-]*)$")
# An EXIF date ("2024:05:01 10:00:00", maybe with a zone): to ISO 8601 for PREMIS dates.
_EXIF_DATE = re.compile(
    r"^(\d{4})[:-](\d{2})[:-](\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"(Z|[+-]\d{2}:\d{2})?)?$"
)


def _clean(value: Any) -> str:
    return _NOT_XML.sub("", str(value))


def _el(parent: etree._Element, name: str, text: Any = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{PREMIS}}}{name}")
    if text is not None:
        node.text = _clean(text)
    for key, value in attrs.items():
        node.set(key, _clean(value))
    return node


def _identifier(parent: etree._Element, name: str, value: str, kind: str = "local") -> None:
    """``<name><nameType>kind</nameType><nameValue>value</nameValue></name>``."""
    node = _el(parent, name)
    _el(node, f"{name}Type", kind)
    _el(node, f"{name}Value", value)


def _link(parent: etree._Element, name: str, value: str, role: str = "") -> None:
    """A ``linking…Identifier`` (local) with an optional role."""
    node = _el(parent, name)
    _el(node, f"{name}Type", "local")
    _el(node, f"{name}Value", value)
    if role:
        _el(node, name.replace("Identifier", "Role"), role)


def agent_key(agent: Mapping[str, str]) -> str:
    """The local identifier of an agent: its type and id or name, e.g. ``software:fido 1.6``.

    An agent with an ``id`` (an institution) is known by it; a version is part of a
    software agent's name, so each version is a distinct agent, as PREMIS wants.
    """
    kind = agent.get("type", "software")
    if agent.get("id"):
        return f"{kind}:{agent['id']}"
    name = agent.get("name", "")
    if agent.get("version"):
        name = f"{name} {agent['version']}"
    return f"{kind}:{name}"


def split_version(agent: Mapping[str, str]) -> tuple[str, str]:
    """Return an agent's name and version (``"exiftool 12.76"`` → ``("exiftool", "12.76")``).

    Events store software as one name with its version; PREMIS 3 has ``agentVersion``.
    """
    name, version = str(agent.get("name", "")), str(agent.get("version") or "")
    if version or agent.get("type", "software") not in ("software", "hardware"):
        return name, version
    match = _VERSIONED.match(name)
    return (match["name"], match["version"]) if match else (name, "")


def iso_date(value: Any) -> str:
    """Return an EXIF or ISO date-time as ISO 8601 (``2024-05-01T10:00:00``), or ``""``.

    Cameras write ``YYYY:MM:DD HH:MM:SS``; a zero or malformed date gives ``""``.
    """
    match = _EXIF_DATE.match(str(value or "").strip())
    if not match or match[1] == "0000" or match[2] == "00" or match[3] == "00":
        return ""
    year, month, day, hour, minute, second, zone = match.groups()
    if hour is None:
        return f"{year}-{month}-{day}"
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}{zone or ''}"


def significant_properties(techmd: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the properties a rendering of the master must keep, from its technical metadata.

    Images: pixel dimensions, bit depth, samples per pixel, colour space, ICC profile,
    resolution. Sound: duration, sample rate, channels, bit depth, encoding.
    """
    md = dict(techmd or {})
    found: list[tuple[str, str]] = []

    def add(name: str, value: Any, unit: str = "") -> None:
        if value not in (None, ""):
            found.append((name, f"{value}{unit}"))

    if md.get("duration") is not None or md.get("sample_rate"):
        add("duration", md.get("duration"), " s")
        add("sample rate", md.get("sample_rate"), " Hz")
        add("channels", md.get("channels"))
        add("bit depth", md.get("bits_per_sample"), " bits per sample")
        add("encoding", md.get("codec"))
        return found
    if md.get("width") and md.get("height"):
        found.append(("pixel dimensions", f"{md['width']} × {md['height']} pixels"))
    add("bit depth", md.get("bits_per_sample"), " bits per sample")
    add("samples per pixel", md.get("samples_per_pixel"))
    add("colour space", md.get("colour_space"))
    add("ICC profile", md.get("icc_profile"))
    ppi_x, ppi_y = md.get("ppi_x"), md.get("ppi_y")
    if ppi_x:
        same = ppi_y in (None, ppi_x)
        found.append(("resolution", f"{ppi_x:g} ppi" if same else f"{ppi_x:g} × {ppi_y:g} ppi"))
    return found


def creating_applications(techmd: Mapping[str, Any]) -> list[dict[str, str]]:
    """Return what made the master, from exiftool's tags: Software, CreatorTool, the device.

    The capture date goes with the first of them (``dateCreatedByApplication``).
    """
    md = dict(techmd or {})
    names: list[str] = []
    for key in ("software", "creator_tool"):
        value = str(md.get(key) or "").strip()
        if value and value not in names:
            names.append(value)
    device = " ".join(str(md[k]).strip() for k in ("make", "model") if md.get(k))
    if device and device not in names:
        names.append(device)
    date = iso_date(md.get("capture_date"))
    apps = [{"name": name} for name in names]
    if date:
        if apps:
            apps[0]["date"] = date
        else:
            apps.append({"date": date})
    return apps


def _significant(parent: etree._Element, properties: Iterable[tuple[str, str]]) -> None:
    for name, value in properties:
        node = _el(parent, "significantProperties")
        _el(node, "significantPropertiesType", name)
        _el(node, "significantPropertiesValue", value)


def _relationship(
    parent: etree._Element, subtype: str, related: Iterable[tuple[str, int | None]]
) -> None:
    node = _el(parent, "relationship")
    _el(node, "relationshipType", "structural")
    _el(node, "relationshipSubType", subtype)
    for value, sequence in related:
        ref = _el(node, "relatedObjectIdentifier")
        _el(ref, "relatedObjectIdentifierType", "local")
        _el(ref, "relatedObjectIdentifierValue", value)
        if sequence is not None:
            _el(ref, "relatedObjectSequence", sequence)


def _entity(root: etree._Element, item: Mapping[str, Any], has_files: bool) -> None:
    item_id = item["id"]
    entity = _el(root, "object")
    entity.set(f"{{{XSI}}}type", "premis:intellectualEntity")
    _identifier(entity, "objectIdentifier", item_id)
    if item.get("uri"):
        _identifier(entity, "objectIdentifier", item["uri"], "URI")
    if has_files:
        _relationship(entity, "is represented by", [(f"{item_id}/masters", None)])
    _link(entity, "linkingRightsStatementIdentifier", f"{item_id}/rights")


def _representation(root: etree._Element, item_id: str, files: list[Mapping[str, Any]]) -> None:
    obj = _el(root, "object")
    obj.set(f"{{{XSI}}}type", "premis:representation")
    _identifier(obj, "objectIdentifier", f"{item_id}/masters")
    kinds: dict[str, int] = {}
    for f in files:
        kind = str(f.get("mimetype") or "application/octet-stream").split("/")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
    _significant(
        obj,
        [("file count", str(len(files)))]
        + [(f"{kind} files", str(n)) for kind, n in sorted(kinds.items())],
    )
    _relationship(
        obj,
        "includes",
        [(f"{item_id}/{f['name']}", f.get("position") or n) for n, f in enumerate(files, 1)],
    )
    _relationship(obj, "represents", [(item_id, None)])
    _link(obj, "linkingRightsStatementIdentifier", f"{item_id}/rights")


def _file_object(root: etree._Element, item_id: str, f: Mapping[str, Any]) -> None:
    obj = _el(root, "object")
    obj.set(f"{{{XSI}}}type", "premis:file")
    _identifier(obj, "objectIdentifier", f"{item_id}/{f['name']}")
    if f.get("image_id"):
        _identifier(obj, "objectIdentifier", f["image_id"], "IIIF image id")
    techmd = dict(f.get("techmd") or {})
    _significant(obj, significant_properties(techmd))
    chars = _el(obj, "objectCharacteristics")
    _el(chars, "compositionLevel", "0")
    for algorithm, key in (("SHA-256", "sha256"), ("MD5", "md5")):
        if f.get(key):
            fixity = _el(chars, "fixity")
            _el(fixity, "messageDigestAlgorithm", algorithm)
            _el(fixity, "messageDigest", f[key])
    if f.get("size") is not None:
        _el(chars, "size", int(f["size"]))
    fmt = dict(f.get("format") or {})
    form = _el(chars, "format")
    designation = _el(form, "formatDesignation")
    _el(designation, "formatName", fmt.get("name") or f.get("mimetype") or "unknown")
    if fmt.get("version"):
        _el(designation, "formatVersion", fmt["version"])
    if fmt.get("puid"):
        registry = _el(form, "formatRegistry")
        _el(registry, "formatRegistryName", "PRONOM")
        _el(registry, "formatRegistryKey", fmt["puid"])
        _el(registry, "formatRegistryRole", "specification")
    if fmt.get("tool"):
        note = f"identified by {fmt['tool']}"
        if fmt.get("signature_version"):
            note += f" ({fmt['signature_version']})"
        _el(form, "formatNote", note)
    if f.get("mimetype"):
        _el(form, "formatNote", f"MIME type {f['mimetype']}")
    for app in creating_applications(techmd):
        node = _el(chars, "creatingApplication")
        if app.get("name"):
            _el(node, "creatingApplicationName", app["name"])
        if app.get("date"):
            _el(node, "dateCreatedByApplication", app["date"])
    if f.get("filename"):
        _el(obj, "originalName", f["filename"])
    storage = dict(f.get("storage") or {})
    if storage:
        node = _el(obj, "storage")
        if storage.get("location"):
            location = _el(node, "contentLocation")
            _el(location, "contentLocationType", storage.get("location_type") or "local")
            _el(location, "contentLocationValue", storage["location"])
        if storage.get("medium"):
            _el(node, "storageMedium", storage["medium"])
    _relationship(obj, "is included in", [(f"{item_id}/masters", None)])
    _link(obj, "linkingRightsStatementIdentifier", f"{item_id}/rights")


def _event(root: etree._Element, item_id: str, event: Mapping[str, Any]) -> None:
    node = _el(root, "event")
    _identifier(node, "eventIdentifier", event["id"])
    label = event["type"]
    if label in EVENT_TYPE_URIS:
        _el(
            node,
            "eventType",
            label,
            authority="eventType",
            authorityURI=EVENT_TYPE_SCHEME,
            valueURI=EVENT_TYPE_URIS[label],
        )
    else:
        _el(node, "eventType", label)
    _el(node, "eventDateTime", event["date"])
    if event.get("detail"):
        _el(_el(node, "eventDetailInformation"), "eventDetail", event["detail"])
    outcome = _el(node, "eventOutcomeInformation")
    _el(outcome, "eventOutcome", event.get("outcome") or "success")
    if event.get("note"):
        _el(_el(outcome, "eventOutcomeDetail"), "eventOutcomeDetailNote", event["note"])
    for agent in event.get("agents", ()):
        role = agent.get("role") or AGENT_ROLES.get(agent.get("type", "software"), "")
        _link(node, "linkingAgentIdentifier", agent_key(agent), role)
    for obj in event.get("objects", ()) or (item_id,):
        _link(node, "linkingObjectIdentifier", obj)


def _agents(
    events: Iterable[Mapping[str, Any]], institution: Mapping[str, Any]
) -> list[dict[str, str]]:
    """Every distinct agent, in order of first appearance, the institution first."""
    seen: dict[str, dict[str, str]] = {}
    if institution.get("id"):
        org = {
            "type": "organization",
            "name": institution.get("name") or institution["id"],
            "id": institution["id"],
            "note": "holding institution",
        }
        seen[agent_key(org)] = org
    for event in events:
        for agent in event.get("agents", ()):
            key = agent_key(agent)
            if key not in seen:
                seen[key] = dict(agent)
    return list(seen.values())


def _agent(root: etree._Element, agent: Mapping[str, str]) -> None:
    node = _el(root, "agent")
    _identifier(node, "agentIdentifier", agent_key(agent))
    name, version = split_version(agent)
    _el(node, "agentName", name)
    _el(node, "agentType", agent.get("type", "software"))
    if version:
        _el(node, "agentVersion", version)
    if agent.get("note"):
        _el(node, "agentNote", agent["note"])


def _rights(
    root: etree._Element, item_id: str, rights: Mapping[str, Any], institution: Mapping[str, Any]
) -> None:
    uri = str(rights.get("uri") or "")
    access = str(rights.get("access") or "")
    notes = []
    if access:
        notes.append(f"access level: {access}")
    if rights.get("community"):
        notes.append(f"community protocol: {rights['community']}")
    if rights.get("consultation"):
        notes.append(f"community consultation decision: {rights['consultation']}")
    statement = _el(_el(root, "rights"), "rightsStatement")
    _identifier(statement, "rightsStatementIdentifier", f"{item_id}/rights")
    if uri.startswith(("http://creativecommons.org/", "https://creativecommons.org/")):
        _el(statement, "rightsBasis", "License")
        info = _el(statement, "licenseInformation")
        doc = _el(info, "licenseDocumentationIdentifier")
        _el(doc, "licenseDocumentationIdentifierType", "URI")
        _el(doc, "licenseDocumentationIdentifierValue", uri)
        if not notes:
            notes.append(uri)  # a license needs at least one of the choice's members
        for note in notes:
            _el(info, "licenseNote", note)
    else:
        _el(statement, "rightsBasis", "Other")
        info = _el(statement, "otherRightsInformation")
        if uri:
            doc = _el(info, "otherRightsDocumentationIdentifier")
            _el(doc, "otherRightsDocumentationIdentifierType", "URI")
            _el(doc, "otherRightsDocumentationIdentifierValue", uri)
        basis = (
            "rights statement" if uri.startswith("http://rightsstatements.org/") else "unspecified"
        )
        _el(info, "otherRightsBasis", basis)
        for note in notes:
            _el(info, "otherRightsNote", note)
    if access:
        granted = _el(statement, "rightsGranted")
        _el(granted, "act", "disseminate")
        restriction = ACCESS_RESTRICTIONS.get(access, access)
        if access == "community" and rights.get("community"):
            restriction = f"{restriction} {rights['community']}"
        _el(granted, "restriction", restriction)
        if rights.get("indigenous"):
            decision = rights.get("consultation") or "not recorded"
            _el(
                granted,
                "rightsGrantedNote",
                f"Indigenous cultural material; community consultation decision: {decision}",
            )
    _link(statement, "linkingObjectIdentifier", item_id)
    if institution.get("id"):
        _link(
            statement,
            "linkingAgentIdentifier",
            f"organization:{institution['id']}",
            "holding institution",
        )


def build_premis(
    item: Mapping[str, Any],
    files: list[Mapping[str, Any]],
    events: list[Mapping[str, Any]],
    *,
    institution: Mapping[str, Any],
    rights: Mapping[str, Any],
) -> etree._Element:
    """Return the ``premis:premis`` (version 3.0) element of one item.

    :param item: ``{"id": ..., "uri": ...}`` (``uri``, its public address, is optional).
    :param files: the masters in order: ``{"name", "filename", "mimetype", "size",
        "sha256", "md5", "format": {"puid", "name", "version", "tool",
        "signature_version"}, "techmd": {...}, "storage": {"location_type", "location",
        "medium"}, "image_id", "position"}`` (the last three optional).
    :param events: the item's event log entries (``heritage.resources.events``); agents are
        ``{"type", "name"}`` with an optional ``version``, ``id`` or ``role``.
    :param institution: ``{"id", "name"}`` of the holding institution.
    :param rights: ``{"uri", "access", "community", "consultation", "indigenous"}``.
    """
    item_id = item["id"]
    root = etree.Element(f"{{{PREMIS}}}premis", nsmap={"premis": PREMIS, "xsi": XSI})
    root.set("version", "3.0")
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    _entity(root, item, bool(files))
    if files:
        _representation(root, item_id, files)
    for f in files:
        _file_object(root, item_id, f)
    for event in events:
        _event(root, item_id, event)
    for agent in _agents(events, institution):
        _agent(root, agent)
    _rights(root, item_id, rights, institution)
    return root


def to_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)
