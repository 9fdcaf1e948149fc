"""An item's preservation record as a standalone PREMIS 3.0 document.

A plain library over plain dicts (it knows nothing of the web application): the caller
collects the item, its files, its events, the holding institution and the rights, and gets
back a ``premis:premis`` element that validates against the official ``premis.xsd``.

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

# Characters XML 1.0 cannot carry at all (lxml refuses them): dropped from text.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


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


def agent_key(agent: Mapping[str, str]) -> str:
    """The local identifier of an agent: its type and name, e.g. ``software:fido 1.6``."""
    return f"{agent.get('type', 'software')}:{agent.get('name', '')}"


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
        }
        seen[f"organization:{institution['id']}"] = org
    for event in events:
        for agent in event.get("agents", ()):
            key = agent_key(agent)
            if key not in seen:
                seen[key] = {"type": agent.get("type", "software"), "name": agent.get("name", "")}
    return list(seen.values())


def _file_object(root: etree._Element, item_id: str, f: Mapping[str, Any]) -> None:
    obj = _el(root, "object")
    obj.set(f"{{{XSI}}}type", "premis:file")
    _identifier(obj, "objectIdentifier", f"{item_id}/{f['name']}")
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
    techmd = dict(f.get("techmd") or {})
    if techmd.get("software"):
        _el(_el(chars, "creatingApplication"), "creatingApplicationName", techmd["software"])
    device = " ".join(str(techmd[k]) for k in ("make", "model") if techmd.get(k))
    if device:
        _el(_el(chars, "creatingApplication"), "creatingApplicationName", device)
    if f.get("filename"):
        _el(obj, "originalName", f["filename"])
    relationship = _el(obj, "relationship")
    _el(relationship, "relationshipType", "structural")
    _el(relationship, "relationshipSubType", "is included in")
    related = _el(relationship, "relatedObjectIdentifier")
    _el(related, "relatedObjectIdentifierType", "local")
    _el(related, "relatedObjectIdentifierValue", item_id)


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
        link = _el(node, "linkingAgentIdentifier")
        _el(link, "linkingAgentIdentifierType", "local")
        _el(link, "linkingAgentIdentifierValue", agent_key(agent))
        _el(
            link,
            "linkingAgentRole",
            "executing program" if agent.get("type") == "software" else "implementer",
        )
    for obj in event.get("objects", ()) or (item_id,):
        link = _el(node, "linkingObjectIdentifier")
        _el(link, "linkingObjectIdentifierType", "local")
        _el(link, "linkingObjectIdentifierValue", obj)


def _agent(root: etree._Element, agent: Mapping[str, str]) -> None:
    node = _el(root, "agent")
    key = f"organization:{agent['id']}" if agent.get("id") else agent_key(agent)
    _identifier(node, "agentIdentifier", key)
    _el(node, "agentName", agent["name"])
    _el(node, "agentType", agent["type"])


def _rights(
    root: etree._Element, item_id: str, rights: Mapping[str, Any], institution: Mapping[str, Any]
) -> None:
    uri = str(rights.get("uri") or "")
    notes = []
    if rights.get("access"):
        notes.append(f"access level: {rights['access']}")
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
    link = _el(statement, "linkingObjectIdentifier")
    _el(link, "linkingObjectIdentifierType", "local")
    _el(link, "linkingObjectIdentifierValue", item_id)
    if institution.get("id"):
        link = _el(statement, "linkingAgentIdentifier")
        _el(link, "linkingAgentIdentifierType", "local")
        _el(link, "linkingAgentIdentifierValue", f"organization:{institution['id']}")
        _el(link, "linkingAgentRole", "holding institution")


def build_premis(
    item: Mapping[str, Any],
    files: list[Mapping[str, Any]],
    events: list[Mapping[str, Any]],
    *,
    institution: Mapping[str, Any],
    rights: Mapping[str, Any],
) -> etree._Element:
    """Return the ``premis:premis`` (version 3.0) element of one item.

    :param item: ``{"id": ...}`` (other keys are ignored).
    :param files: ``{"name", "filename", "mimetype", "size", "sha256", "md5", "format":
        {"puid", "name", "version", "tool", "signature_version"}, "techmd": {...}}``.
    :param events: the item's event log entries (``heritage.resources.events``).
    :param institution: ``{"id", "name"}`` of the holding institution.
    :param rights: ``{"uri", "access", "community", "consultation"}``.
    """
    item_id = item["id"]
    root = etree.Element(f"{{{PREMIS}}}premis", nsmap={"premis": PREMIS, "xsi": XSI})
    root.set("version", "3.0")
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    entity = _el(root, "object")
    entity.set(f"{{{XSI}}}type", "premis:intellectualEntity")
    _identifier(entity, "objectIdentifier", item_id)
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
