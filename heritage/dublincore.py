"""An item's Dublin Core record as ``oai_dc`` XML: for partners, the manifest's seeAlso and,
later, OAI-PMH. Values keep their language as ``xml:lang``; places keep their coordinates
in the ``coverage`` text only as the words given (simple DC has no place for numbers).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from heritage.metadata import DC_ELEMENTS
from heritage.xmlns import DC, OAI_DC, XML_LANG

XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"


def dublin_core(item: Any, *, item_url: str, manifest_url: str) -> etree._Element:
    """Return the ``oai_dc:dc`` element of ``item``, with its page and manifest as identifiers."""
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)
    for element in DC_ELEMENTS:
        for value in item.metadata.get(element, ()):
            node = etree.SubElement(root, f"{{{DC}}}{element}")
            node.text = value["value"]
            if value.get("lang"):
                node.set(XML_LANG, value["lang"])
        if element == "identifier":
            for url in (item_url, manifest_url):
                etree.SubElement(root, f"{{{DC}}}identifier").text = url
        if element == "rights" and item.rights:
            etree.SubElement(root, f"{{{DC}}}rights").text = item.rights
    return root


def to_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8", pretty_print=True)
