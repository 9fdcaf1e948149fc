"""An item's descriptive record as MODS 3.8: the richer OAI-PMH format (``mods``).

Dublin Core flattens what MODS can say: here every value keeps its language as ``xml:lang``
(and its script, ``ms-Arab`` → ``script="Arab"``) on the element that carries it —
``titleInfo`` (the first title primary, other languages ``translated``, other scripts of the
same language ``alternative``), ``name``, ``abstract``, ``subject``, ``genre``; places keep
their coordinates (``cartographics``); dates stay EDTF (``encoding="edtf"``); the holding
institution is ``location/physicalLocation`` in each of its languages, the collection a
``relatedItem type="host"``; ``location/url`` links the item page and, when the public may
see the images, the IIIF manifest.

Spec: https://www.loc.gov/standards/mods/userguide/ (MODS 3.8, validated against
``../shared/specs/xml/mods.xsd``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from heritage.xmlns import MODS, XML_LANG

XSI = "http://www.w3.org/2001/XMLSchema-instance"
XLINK = "http://www.w3.org/1999/xlink"
SCHEMA = "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd"
SCHEMA_LOCATION = f"{MODS} {SCHEMA}"

#: dc:type words (lower case) → MODS typeOfResource, and whether it is a manuscript.
RESOURCE_TYPES: dict[str, tuple[str, bool]] = {
    "text": ("text", False),
    "manuscript": ("text", True),
    "image": ("still image", False),
    "stillimage": ("still image", False),
    "still image": ("still image", False),
    "photograph": ("still image", False),
    "sound": ("sound recording", False),
    "sound recording": ("sound recording", False),
    "oral history": ("sound recording", False),
    "movingimage": ("moving image", False),
    "moving image": ("moving image", False),
    "map": ("cartographic", False),
}


def _m(name: str) -> str:
    return f"{{{MODS}}}{name}"


def _sub(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> Any:
    node = etree.SubElement(parent, _m(name), {k: v for k, v in attrs.items() if v})
    if text is not None:
        node.text = text
    return node


def _set_language(node: etree._Element, tag: str | None) -> None:
    """Put a BCP 47 tag on ``node``: ``xml:lang``, and ``script`` when the tag names one."""
    if not tag:
        return
    node.set(XML_LANG, tag)
    for subtag in tag.split("-")[1:]:
        if len(subtag) == 4 and subtag.isalpha():  # ISO 15924: Arab, Latn
            node.set("script", subtag.title())


def _base_language(tag: str | None) -> str:
    return (tag or "").split("-")[0].lower()


def mods_record(
    item: Any,
    *,
    item_url: str,
    manifest_url: str = "",
    collection_url: str = "",
    record_changed: str = "",
) -> etree._Element:
    """Return the ``mods:mods`` element describing ``item``.

    :param item_url: the item's public page (``location/url usage="primary"``).
    :param manifest_url: its IIIF manifest; empty when the public may not see the images.
    :param collection_url: the page of the collection holding it (``relatedItem type="host"``).
    :param record_changed: when this record last changed (``recordInfo/recordChangeDate``).
    """
    md: Mapping[str, tuple[dict, ...]] = item.metadata
    root = etree.Element(_m("mods"), nsmap={"mods": MODS, "xsi": XSI, "xlink": XLINK})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    root.set("version", "3.8")

    titles = md.get("title", ())
    primary = _base_language(titles[0].get("lang")) if titles else ""
    for i, value in enumerate(titles):
        if i == 0:
            info = _sub(root, "titleInfo", usage="primary")
        elif _base_language(value.get("lang")) == primary:
            info = _sub(root, "titleInfo", type="alternative")
        else:
            info = _sub(root, "titleInfo", type="translated")
        _set_language(info, value.get("lang"))
        _sub(info, "title", value["value"])

    for element, code, term in (
        ("creator", "cre", "creator"),
        ("contributor", "ctb", "contributor"),
    ):
        for value in md.get(element, ()):
            name = _sub(root, "name")
            _set_language(_sub(name, "namePart", value["value"]), value.get("lang"))
            role = _sub(name, "role")
            _sub(role, "roleTerm", code, type="code", authority="marcrelator")
            _sub(role, "roleTerm", term, type="text", authority="marcrelator")

    resource_types: list[tuple[str, bool]] = []
    for value in md.get("type", ()):
        _set_language(_sub(root, "genre", value["value"]), value.get("lang"))
        mapped = RESOURCE_TYPES.get(value["value"].strip().lower())
        if mapped and mapped not in resource_types:
            resource_types.append(mapped)
    for kind, manuscript in resource_types:
        _sub(root, "typeOfResource", kind, manuscript="yes" if manuscript else "")

    publishers, dates = md.get("publisher", ()), md.get("date", ())
    if publishers or dates:
        origin = _sub(root, "originInfo")
        for value in publishers:
            _set_language(_sub(origin, "publisher", value["value"]), value.get("lang"))
        for i, value in enumerate(dates):
            _sub(
                origin,
                "dateCreated",
                value["value"],
                encoding="edtf",
                keyDate="yes" if i == 0 else "",
            )

    for value in md.get("language", ()):
        language = _sub(root, "language")
        _sub(language, "languageTerm", value["value"], type="code", authority="rfc5646")

    physical = _sub(root, "physicalDescription")
    for value in md.get("format", ()):
        text = value["value"]
        is_media_type = "/" in text and " " not in text
        _sub(physical, "internetMediaType" if is_media_type else "form", text)
    if len(item.files):
        _sub(physical, "extent", str(len(item.files)), unit="files")
    _sub(physical, "digitalOrigin", "reformatted digital")

    for value in md.get("description", ()):
        _set_language(_sub(root, "abstract", value["value"]), value.get("lang"))

    for value in md.get("subject", ()):
        subject = _sub(root, "subject")
        _set_language(subject, value.get("lang"))
        _sub(subject, "topic", value["value"])
    for value in md.get("coverage", ()):
        subject = _sub(root, "subject")
        _set_language(subject, value.get("lang"))
        _sub(subject, "geographic", value["value"])
        if "lat" in value and "lon" in value:
            cartographics = _sub(subject, "cartographics")
            _sub(cartographics, "coordinates", f"{value['lat']}, {value['lon']}")

    collection = item.collection
    if collection is not None:
        host = _sub(root, "relatedItem", type="host")
        for lang, text in collection.title.items():
            info = _sub(host, "titleInfo")
            _set_language(info, lang)
            _sub(info, "title", text)
        if collection_url:
            _sub(_sub(host, "location"), "url", collection_url)
    for element, kind in (("relation", ""), ("source", "original")):
        for value in md.get(element, ()):
            related = _sub(root, "relatedItem", type=kind)
            text = value["value"]
            if text.startswith(("http://", "https://")):
                _sub(_sub(related, "location"), "url", text)
            else:
                info = _sub(related, "titleInfo")
                _set_language(info, value.get("lang"))
                _sub(info, "title", text)

    _sub(root, "identifier", item.item_id, type="local")
    for value in md.get("identifier", ()):
        text = value["value"]
        _sub(
            root, "identifier", text, type="uri" if text.startswith(("http://", "https://")) else ""
        )

    location = _sub(root, "location")
    institution = item.institution
    if institution is not None:
        for lang, text in institution.name.items():
            _set_language(_sub(location, "physicalLocation", text), lang)
    _sub(location, "url", item_url, usage="primary", access="object in context")
    if manifest_url:
        _sub(
            location,
            "url",
            manifest_url,
            access="raw object",
            displayLabel="IIIF manifest",
            note="IIIF Presentation API 3.0",
        )

    if item.rights:
        condition = _sub(root, "accessCondition", item.rights, type="use and reproduction")
        condition.set(f"{{{XLINK}}}href", item.rights)
    for value in md.get("rights", ()):
        condition = _sub(root, "accessCondition", value["value"], type="use and reproduction")
        _set_language(condition, value.get("lang"))

    info = _sub(root, "recordInfo")
    if institution is not None and institution.name:
        source = next(iter(institution.name.items()))
        _set_language(_sub(info, "recordContentSource", source[1]), source[0])
    _sub(info, "recordCreationDate", item.created, encoding="w3cdtf")
    if record_changed:
        _sub(info, "recordChangeDate", record_changed, encoding="w3cdtf")
    _sub(info, "recordIdentifier", item.item_id)
    return root
