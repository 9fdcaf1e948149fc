"""One OAI-PMH ``<record>`` → plain data for the union catalogue.

The header gives the identifier, datestamp, deleted status and sets. The metadata is read
as Dublin Core wherever it appears (``oai_dc``, or DC/DCTERMS elements inside another
container), or mapped from MODS (``mods``), keeping each value's ``xml:lang`` — the same
shape as ``Item.metadata``, so that search and pages treat our items and partners' records
alike. Partners are not held to our cataloguing rules (a date need not be EDTF), but values
are bounded, and only http(s) URLs become links.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from heritage.metadata import DC_ELEMENTS, MAX_VALUE_LENGTH, MAX_VALUES, normalize_language
from heritage.xmlns import DC as DC_NS
from heritage.xmlns import DCTERMS as DCTERMS_NS
from heritage.xmlns import MODS as MODS_NS
from heritage.xmlns import OAI as OAI_NS
from heritage.xmlns import XML_LANG

log = logging.getLogger(__name__)

MAX_IDENTIFIER = 1000

#: DCTERMS refinements folded into the 15 elements they refine.
DCTERMS_TO_DC: dict[str, str] = {
    "alternative": "title",
    "abstract": "description",
    "tableOfContents": "description",
    "created": "date",
    "issued": "date",
    "modified": "date",
    "available": "date",
    "dateAccepted": "date",
    "dateCopyrighted": "date",
    "spatial": "coverage",
    "temporal": "coverage",
    "license": "rights",
    "accessRights": "rights",
    "extent": "format",
    "medium": "format",
    "bibliographicCitation": "identifier",
    "isPartOf": "relation",
    "hasPart": "relation",
    "isVersionOf": "relation",
    "hasVersion": "relation",
    "isFormatOf": "relation",
    "hasFormat": "relation",
    "references": "relation",
    "isReferencedBy": "relation",
    **{e: e for e in DC_ELEMENTS},
}
#: MODS paths (below ``mods``) → the Dublin Core element they say the most like; others are
#: left out (a related item's title is not this record's title).
MODS_TO_DC: dict[str, str] = {
    "titleInfo/title": "title",
    "titleInfo/subTitle": "title",
    "name/namePart": "creator",
    "abstract": "description",
    "tableOfContents": "description",
    "subject/topic": "subject",
    "subject/geographic": "coverage",
    "subject/temporal": "coverage",
    "originInfo/publisher": "publisher",
    "originInfo/dateIssued": "date",
    "originInfo/dateCreated": "date",
    "typeOfResource": "type",
    "genre": "type",
    "physicalDescription/form": "format",
    "physicalDescription/internetMediaType": "format",
    "language/languageTerm": "language",
    "identifier": "identifier",
    "location/url": "identifier",
    "relatedItem/location/url": "relation",
    "accessCondition": "rights",
}
#: Partners repeat a handful of language tags; langcodes takes ~0.1 ms to check one.
_normalize_language = functools.lru_cache(maxsize=512)(normalize_language)

#: Paths that are files or services, not a page for people.
NOT_A_PAGE = re.compile(
    r"(\.(xml|json|jsonld|jpe?g|png|gif|tiff?|jp2|pdf|mp3|wav|flac|ogg|mp4|zip)$"
    r"|/iiif/3/|/info\.json$|/oai$)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class HarvestedData:
    """A record as the partner sent it, cleaned; what :meth:`Harvested.store` takes."""

    identifier: str
    datestamp: str
    deleted: bool = False
    sets: tuple[str, ...] = ()
    metadata: dict[str, tuple[dict, ...]] = field(default_factory=dict)
    link: str = ""
    manifest: str = ""

    def as_fields(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "datestamp": self.datestamp,
            "deleted": self.deleted,
            "sets": self.sets,
            "metadata": self.metadata,
            "link": self.link,
            "manifest": self.manifest,
        }


def _text(node: Any) -> str:
    return " ".join("".join(node.itertext()).split()) if node is not None else ""


def _lang(node: Any) -> str:
    """Return the normalized ``xml:lang`` in scope for ``node``, or "".

    MODS writes a script beside the language (``xml:lang="ms" script="Arab"``): that is
    ``ms-Arab`` (Jawi) here, as in our own items.
    """
    while node is not None:
        tag = node.get(XML_LANG)
        if tag is not None:
            script = node.get("script", "")
            if script and "-" not in tag:
                tag = f"{tag}-{script}"
            try:
                return _normalize_language(tag)
            except ValueError:
                return ""  # a partner's bad tag: keep the value, not the tag
        node = node.getparent()
    return ""


def _mods_element(node: Any) -> str | None:
    """Return the DC element for a MODS node, from its path below ``mods``."""
    names = []
    while node is not None and node.tag != f"{{{MODS_NS}}}mods":
        tag = node.tag
        if not isinstance(tag, str) or not tag.startswith(f"{{{MODS_NS}}}"):
            return None
        names.append(tag.split("}", 1)[1])
        node = node.getparent()
    return MODS_TO_DC.get("/".join(reversed(names))) if node is not None else None


def parse_metadata(container: Any) -> dict[str, tuple[dict, ...]]:
    """Return the Dublin Core values found anywhere in ``container``: element → values.

    Dublin Core and DCTERMS elements are read wherever they are; MODS by :data:`MODS_TO_DC`.
    """
    found: dict[str, list[dict]] = {}
    for node in container.iter():
        tag = node.tag
        if not isinstance(tag, str) or not tag.startswith("{"):
            continue
        ns, _, local = tag[1:].partition("}")
        if ns == DC_NS and local in DC_ELEMENTS:
            element = local
        elif ns == DCTERMS_NS and local in DCTERMS_TO_DC:
            element = DCTERMS_TO_DC[local]
        elif ns == MODS_NS and (mapped := _mods_element(node)):
            element = mapped
        else:
            continue
        text = _text(node)[:MAX_VALUE_LENGTH]
        values = found.setdefault(element, [])
        if not text or len(values) >= MAX_VALUES:
            continue
        value = {"value": text}
        lang = _lang(node)
        if lang:
            value["lang"] = lang
        if value not in values:
            values.append(value)
    return {e: tuple(found[e]) for e in DC_ELEMENTS if found.get(e)}


def _http_url(text: str) -> str:
    if len(text) > 2000 or any(c.isspace() for c in text):
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    return text if parts.scheme in ("http", "https") and parts.hostname else ""


def find_links(metadata: dict[str, tuple[dict, ...]]) -> tuple[str, str]:
    """Return ``(link, manifest)``: the record's page and its IIIF manifest, or "".

    Identifiers come before relations. A URL that names a manifest is the manifest; the
    first other http(s) URL that does not look like a file or a service is the page.
    """
    link = manifest = ""
    for element in ("identifier", "relation"):
        for value in metadata.get(element, ()):
            url = _http_url(value["value"])
            if not url:
                continue
            if "manifest" in url.lower():
                manifest = manifest or url
            elif not link and not NOT_A_PAGE.search(urlsplit(url).path.rstrip("/") or "/"):
                link = url
    return link, manifest


def parse_record(element: Any) -> HarvestedData | None:
    """Return the record in ``element`` (an OAI-PMH ``<record>``), or None if unusable."""
    header = element.find(f"{{{OAI_NS}}}header")
    if header is None:
        log.warning("skipped a record without a header")
        return None
    identifier = _text(header.find(f"{{{OAI_NS}}}identifier"))
    if not identifier or len(identifier) > MAX_IDENTIFIER:
        log.warning("skipped a record without a usable identifier")
        return None
    datestamp = _text(header.find(f"{{{OAI_NS}}}datestamp"))[:40]
    sets = tuple(
        dict.fromkeys(_text(s)[:500] for s in header.findall(f"{{{OAI_NS}}}setSpec") if _text(s))
    )
    if header.get("status") == "deleted":
        return HarvestedData(identifier, datestamp, deleted=True, sets=sets)
    container = element.find(f"{{{OAI_NS}}}metadata")
    metadata = parse_metadata(container) if container is not None else {}
    link, manifest = find_links(metadata)
    return HarvestedData(
        identifier, datestamp, sets=sets, metadata=metadata, link=link, manifest=manifest
    )
